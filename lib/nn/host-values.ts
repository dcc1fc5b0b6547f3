/**
 * A tensor's values as a JavaScript array, to read, or to update in a copy and commit, for the
 * wasm and cpu backends (where values live in this process): the host-side training step (train/optim.ts
 * `applyOnHost`) and the fused loss use these instead of a dozen small kernels per tensor.
 *
 * On wasm `hostValues` is a view on the heap, valid until the next backend allocation: get a
 * fresh one after any tf call, and never write through it. Updates go to a copy that `commit`
 * assigns as a new buffer: a value must not change under its tensor, because the wasm
 * backend's matmul keeps XNNPACK's packed copy of a weight matrix keyed by its tensor (an
 * in-place update was measured to leave the next forward pass on the old weights), and the
 * cpu backend's dataSync hands out the buffer itself.
 */
import * as tf from '@tensorflow/tfjs';

interface HeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** Whether values can be read and written here without a device transfer. */
export function onHost(): boolean {
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu';
}

/** The float32 values of `t` (a heap view on wasm; do not keep it across tf calls). */
export function hostValues(t: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm') return (tf.backend() as unknown as HeapBackend).typedArrayFromHeap(t);
  return t.dataSync() as Float32Array;
}

export interface HostBuffer {
  /** The values, to read and overwrite. */
  data: Float32Array;
  /** Make the variable hold `data` (a new buffer). */
  commit(): void;
}

/** A copy of a float32 variable's values, to update and commit. */
export function writableValues(v: tf.Variable): HostBuffer {
  const data = hostValues(v).slice();
  return { data, commit: () => tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32'))) };
}
