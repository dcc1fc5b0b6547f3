/**
 * Faster Slice and SplitV kernels for the wasm backend (tfjs 4.22).
 *
 * The stock wasm Slice copies the *whole* input out of the wasm heap (backend.readSync) before
 * taking the slice, so cutting a [2048, 512] tensor into 64 per-step pieces costs 64 full copies
 * (136 ms measured, vs < 1 ms for the data actually moved). SplitV calls the same function, and
 * the gradients of concat/stack/split are slices and splits. These replacements read the input
 * through a view on the heap instead; everything else (strings, other dtypes, ranks > 2 that are
 * not contiguous) goes to the original kernel.
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

  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ kernelName: 'Slice', backendName: 'wasm', kernelFunc: fastSlice as never });
  tf.unregisterKernel('SplitV', 'wasm');
  tf.registerKernel({ kernelName: 'SplitV', backendName: 'wasm', kernelFunc: fastSplit as never });
  patched = true;
}
