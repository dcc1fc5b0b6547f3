/**
 * Embedding lookup for large vocabularies (e.g. GPT-2 tokens), where one-hot input would be a
 * [T·batch, vocab] matrix. Forward is tf.gather; the gradient (a scatter-add of the output
 * gradient rows into the table) is computed in JS, because tf.gather's gradient needs the
 * UnsortedSegmentSum kernel, which the wasm backend lacks.
 */
import * as tf from '@tensorflow/tfjs';

/** table[ids[n]] for every n → [ids.length, embeddingSize]. */
export function embeddingLookup(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  const [V, E] = table.shape;
  const f = tf.customGrad(((t: tf.Tensor2D) => ({
    value: tf.gather(t, tf.tensor1d(ids, 'int32')),
    gradFunc: (dy: tf.Tensor) => {
      const d = dy.dataSync();
      const g = new Float32Array(V * E);
      for (let n = 0; n < ids.length; n++) {
        const row = ids[n] * E;
        for (let k = 0; k < E; k++) g[row + k] += d[n * E + k];
      }
      return [tf.tensor2d(g, [V, E])];
    },
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as unknown as (t: tf.Tensor2D) => tf.Tensor2D)(table);
}
