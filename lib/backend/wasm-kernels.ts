/**
 * Faster Slice, SplitV, Transpose, Sum, GatherV2 and Identity kernels for the wasm backend (tfjs 4.22).
 *
 * The stock wasm Slice copies the *whole* input out of the wasm heap (backend.readSync) before
 * taking the slice, so cutting a [2048, 512] tensor into 64 per-step pieces costs 64 full copies
 * (136 ms measured, vs < 1 ms for the data actually moved). SplitV calls the same function, and
 * the gradients of concat/stack/split are slices and splits. These replacements read the input
 * through a view on the heap instead; everything else (strings, other dtypes, ranks > 2 that are
 * not contiguous) goes to the original kernel.
 *
 * More, found by profiling a training step (tfjs 4.22 wasm, [2048, 512] float32):
 *   - Transpose is a generic N-d index loop: 8 ms. 2-d float32/int32 transposes run here as a
 *     cache-blocked copy on the heap (~2 ms). Every matmul gradient transposes.
 *   - Sum over leading axes transposes first, then reduces: 8.7 ms. Here it is a product with
 *     a row of ones through the backend's own (XNNPACK) BatchMatMul: 1·X. Bias gradients
 *     are such sums.
 *   - GatherV2 (embedding lookups) costs ~33 ns per output element: 35 ms to gather 2048 rows
 *     of a [65, 512] table. Along axis 0 it is a row copy on the heap here (~0.4 ms).
 * (Tanh is scalar libm there, 30× slower than the XNNPACK Sigmoid; the sequence kernels use
 * 2σ(2x) − 1 themselves rather than changing tf.tanh for everyone.)
 */
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

let patched = false;

export function patchWasmKernels(): void {
  if (patched) return;
  const origSlice = tf.getKernel('Slice', 'wasm');
  const origSplit = tf.getKernel('SplitV', 'wasm');
  if (!origSlice || !origSplit) return;

  const fastSlice = (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    const backend = args.backend as WasmBackendLike;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return origSlice.kernelFunc(args as never) as tf.TensorInfo;
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, args.attrs!.begin as number[], args.attrs!.size as number[]);
    const rank = x.shape.length;
    const continuous = tf.slice_util.isSliceContinous(x.shape, begin, size);
    if (!continuous && rank !== 2) return origSlice.kernelFunc(args as never) as tf.TensorInfo;
    const out = backend.makeOutput(size, x.dtype);
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    const strides = tf.util.computeStrides(x.shape);
    if (continuous) {
      const off = tf.slice_util.computeFlatOffset(begin, strides);
      ov.set(xv.subarray(off, off + tf.util.sizeFromShape(size)));
    } else {
      const [r0, c0] = begin;
      const [rows, cols] = size;
      const stride = strides[0];
      for (let r = 0; r < rows; r++) {
        const src = (r0 + r) * stride + c0;
        ov.set(xv.subarray(src, src + cols), r * cols);
      }
    }
    return out;
  };

  const fastSplit = (args: KernelArgs): tf.TensorInfo[] => {
    const x = args.inputs.x as tf.TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array(x.shape.length).fill(0);
    const size = x.shape.slice();
    return sizes.map((s) => {
      size[ax] = s;
      const piece = fastSlice({ inputs: { x }, attrs: { begin: begin.slice(), size: size.slice() }, backend: args.backend });
      begin[ax] += s;
      return piece;
    });
  };

  const origTranspose = tf.getKernel('Transpose', 'wasm');
  const fastTranspose = (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = args.attrs!.perm as number[];
    // The stock kernel is fine while the matrix fits in cache (< ~100k elements).
    if (x.shape.length !== 2 || perm[0] !== 1 || (x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape[0] * x.shape[1] < 100_000) {
      return origTranspose!.kernelFunc(args as never) as tf.TensorInfo;
    }
    const [R, C] = x.shape;
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput([C, R], x.dtype);
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    // 16×16 blocks, writing sequentially within a block (2× faster in V8 than reading so).
    const BS = 16;
    for (let c0 = 0; c0 < C; c0 += BS) {
      const c1 = Math.min(C, c0 + BS);
      for (let r0 = 0; r0 < R; r0 += BS) {
        const r1 = Math.min(R, r0 + BS);
        for (let c = c0; c < c1; c++) {
          const dst = c * R;
          for (let r = r0; r < r1; r++) ov[dst + r] = xv[r * C + c];
        }
      }
    }
    return out;
  };

  const origSum = tf.getKernel('Sum', 'wasm');
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  const fastSum = (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.every((a, k) => a === k) && axes.length < x.shape.length;
    if (x.dtype !== 'float32' || !leading || axes.length === 0 || !batchMatMul) return origSum!.kernelFunc(args as never) as tf.TensorInfo;
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const restShape = x.shape.slice(axes.length);
    const cols = tf.util.sizeFromShape(restShape);
    const backend = args.backend as WasmBackendLike & { disposeData(id: unknown): void };
    const ones = backend.makeOutput([1, 1, rows], 'float32');
    backend.typedArrayFromHeap(ones).fill(1);
    const flat = { dataId: x.dataId, shape: [1, rows, cols], dtype: x.dtype };
    const out = batchMatMul!.kernelFunc({ inputs: { a: ones, b: flat }, backend: args.backend, attrs: { transposeA: false, transposeB: false } } as never) as tf.TensorInfo;
    backend.disposeData(ones.dataId);
    return { dataId: out.dataId, shape: keepDims ? [...axes.map(() => 1), ...restShape] : restShape, dtype: 'float32' };
  };

  const origGather = tf.getKernel('GatherV2', 'wasm');
  const fastGather = (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    const indices = args.inputs.indices as tf.TensorInfo;
    const { axis, batchDims } = args.attrs as { axis: number; batchDims?: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    if (ax !== 0 || (batchDims ?? 0) !== 0 || x.shape.length < 2 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') {
      return origGather!.kernelFunc(args as never) as tf.TensorInfo;
    }
    const backend = args.backend as WasmBackendLike;
    const rows = x.shape[0];
    const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
    const n = tf.util.sizeFromShape(indices.shape);
    const ids = backend.typedArrayFromHeap(indices) as Int32Array;
    for (let k = 0; k < n; k++) if (!(ids[k] >= 0 && ids[k] < rows)) return origGather!.kernelFunc(args as never) as tf.TensorInfo; // let it report
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    const iv = backend.typedArrayFromHeap(indices) as Int32Array; // views again: the heap may have grown
    for (let k = 0; k < n; k++) ov.set(xv.subarray(iv[k] * rowSize, iv[k] * rowSize + rowSize), k * rowSize);
    return out;
  };

  // Identity (tf.clone, and every tensor a custom op saves for its gradient is a clone) shares
  // the input's buffer, as the cpu backend's does: tensors are immutable (nothing here writes
  // into a buffer it did not just allocate). The stock kernel copies it: on the bench's M model
  // the fused LSTM's saved activations, ~70 ms a training step.
  const origIdentity = tf.getKernel('Identity', 'wasm');
  const sharedIdentity = (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return origIdentity!.kernelFunc(args as never) as tf.TensorInfo;
    (args.backend as { incRef(id: unknown): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };

  const replacements = [['Slice', fastSlice], ['SplitV', fastSplit], ['Transpose', fastTranspose], ['Sum', fastSum], ['GatherV2', fastGather], ['Identity', sharedIdentity]] as const;
  for (const [name, fn] of replacements) {
    if (!tf.getKernel(name, 'wasm')) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: fn as never });
  }
  patched = true;
}
