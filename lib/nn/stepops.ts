/**
 * The handful of ops a recurrent kernel's per-step loop needs, called straight on the backend's
 * kernels, with explicit disposal.
 *
 * A tfjs op costs its kernel plus the engine's bookkeeping (tensor objects, scopes, the tape,
 * memory accounting): for a [32, 128] elementwise op on wasm the bookkeeping is about half of
 * the ~10 µs (measured: an 8-op LSTM block 95 µs through tf.*, 48 µs through the kernels). The
 * sequence kernels run ~20 such ops per step and layer, so their loops use these.
 *
 * Values are TensorInfos (any tf.Tensor is one). Every result must be disposed exactly once
 * with `dispose`, or turned into a tracked tf.Tensor with `tensor` (which then owns it).
 * Backends other than wasm and cpu (tfjs-node, GPU) get the same interface over plain tf ops.
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;

export interface StepOps {
  add(a: Info, b: Info): Info;
  sub(a: Info, b: Info): Info;
  mul(a: Info, b: Info): Info;
  sigmoid(x: Info): Info;
  /** a·b for 2-d a [M, K] and b [K, N]. */
  matMul(a: Info, b: Info): Info;
  split(x: Info, n: number, axis: number): Info[];
  concat(xs: Info[], axis: number): Info;
  dispose(...xs: Info[]): void;
  /** The engine-tracked tensor for a result (it owns the data from now on). */
  tensor<R extends tf.Tensor>(x: Info): R;
  /** A value holding `values` (a batch-1 input, say); dispose it like a result. */
  fromArray(values: Float32Array, shape: number[]): Info;
  /** The values of a result. */
  read(x: Info): Float32Array;
}

/** concat(parts, axis) as a tracked tensor; the parts are disposed. */
export function stack<R extends tf.Tensor>(ops: StepOps, parts: Info[], axis: number): R {
  const t = ops.tensor<R>(ops.concat(parts, axis));
  ops.dispose(...parts);
  return t;
}

type RawBackend = tf.KernelBackend & { write(values: Float32Array, shape: number[], dtype: tf.DataType): tf.DataId };

type KernelFn = (args: { inputs: unknown; backend: tf.KernelBackend; attrs: Record<string, unknown> }) => Info | Info[];

/** Ops through the backend's kernels (no engine bookkeeping). */
class RawOps implements StepOps {
  private readonly backend: RawBackend;
  private readonly k: Record<string, KernelFn>;

  constructor(backend: RawBackend, kernels: Record<string, KernelFn>) {
    this.backend = backend;
    this.k = kernels;
  }

  private run(name: string, inputs: unknown, attrs: Record<string, unknown> = {}): Info | Info[] {
    return this.k[name]({ inputs, backend: this.backend, attrs });
  }

  add(a: Info, b: Info): Info {
    return this.run('Add', { a, b }) as Info;
  }

  sub(a: Info, b: Info): Info {
    return this.run('Sub', { a, b }) as Info;
  }

  mul(a: Info, b: Info): Info {
    return this.run('Multiply', { a, b }) as Info;
  }

  sigmoid(x: Info): Info {
    return this.run('Sigmoid', { x }) as Info;
  }

  matMul(a: Info, b: Info): Info {
    const [M, K] = a.shape;
    const N = b.shape[1];
    // The kernel works on rank-3 batches; the views share the data.
    const out = this.run('BatchMatMul', { a: { ...a, shape: [1, M, K] }, b: { ...b, shape: [1, K, N] } }, { transposeA: false, transposeB: false }) as Info;
    return { dataId: out.dataId, shape: [M, N], dtype: out.dtype };
  }

  split(x: Info, n: number, axis: number): Info[] {
    return this.run('SplitV', { x }, { numOrSizeSplits: n, axis }) as Info[];
  }

  concat(xs: Info[], axis: number): Info {
    return this.run('Concat', xs, { axis }) as Info;
  }

  dispose(...xs: Info[]): void {
    for (const x of xs) this.backend.disposeData(x.dataId);
  }

  tensor<R extends tf.Tensor>(x: Info): R {
    return tf.engine().makeTensorFromTensorInfo(x, this.backend) as R;
  }

  fromArray(values: Float32Array, shape: number[]): Info {
    return { dataId: this.backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
  }

  read(x: Info): Float32Array {
    return this.backend.readSync(x.dataId) as Float32Array;
  }
}

/** The same through tf.* (for backends whose kernels are not called directly). */
const tfOps: StepOps = {
  add: (a, b) => tf.add(a as tf.Tensor, b as tf.Tensor),
  sub: (a, b) => tf.sub(a as tf.Tensor, b as tf.Tensor),
  mul: (a, b) => tf.mul(a as tf.Tensor, b as tf.Tensor),
  sigmoid: (x) => tf.sigmoid(x as tf.Tensor),
  matMul: (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
  split: (x, n, axis) => tf.split(x as tf.Tensor, n, axis),
  concat: (xs, axis) => tf.concat(xs as tf.Tensor[], axis),
  dispose: (...xs) => tf.dispose(xs as tf.Tensor[]),
  tensor: <R extends tf.Tensor>(x: Info) => x as R,
  fromArray: (values, shape) => tf.tensor(values, shape),
  read: (x) => (x as tf.Tensor).dataSync() as Float32Array,
};

const KERNELS = ['Add', 'Sub', 'Multiply', 'Sigmoid', 'BatchMatMul', 'SplitV', 'Concat'];

/**
 * Step ops for the active backend: raw kernels on wasm and cpu, tf.* elsewhere or when
 * UNREASONABLE_RAW_OPS=0 (for comparison).
 */
export function stepOps(): StepOps {
  const name = tf.getBackend();
  if ((name !== 'wasm' && name !== 'cpu') || process.env.UNREASONABLE_RAW_OPS === '0') return tfOps;
  const kernels: Record<string, KernelFn> = {};
  for (const k of KERNELS) {
    const config = tf.getKernel(k, name);
    if (!config) return tfOps;
    kernels[k] = config.kernelFunc as unknown as KernelFn;
  }
  return new RawOps(tf.backend() as RawBackend, kernels);
}
