/**
 * Weight drop (model.ts, `weightDrop`): when training, each layer's recurrent matrix Wh is used
 * masked, Wh ⊙ m / (1 − p), one mask per forward call. Checked against a reference model whose Wh
 * holds that masked matrix explicitly, on both the sequence kernels and the step-by-step cells.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { CellType, CharModel, crossEntropy, Rng } from '../lib';
import { NamedArray } from '../lib/io/safetensors';
import { modelTensors } from '../lib/train/checkpoint';
import { UserError } from '../lib/util/errors';
import { maxAbsDiff, useCpu } from './helpers';

const V = 7, H = 6, B = 3, T = 5, P = 0.4;
const x = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 1) % V);
const y = Int32Array.from({ length: B * T }, (_, i) => (i * 3 + 2) % V);

/** Loss and every parameter's gradient of one forward call. */
function lossAndGrads(m: CharModel, opts: { training: boolean; rng?: Rng; stepwise: boolean }) {
  const params = [...m.namedParams().entries()];
  const { value, grads } = tf.variableGrads(() => crossEntropy(m.forward(x, B, T, m.zeroState(B), opts).logits, y), params.map(([, v]) => v));
  const out = new Map(params.map(([name, v]) => [name, grads[v.name].dataSync() as Float32Array]));
  return { loss: value.dataSync()[0], grads: out };
}

for (const modelType of ['lstm', 'rnn', 'gru'] as CellType[]) {
  for (const stepwise of [false, true]) {
    test(`${modelType} weight drop (${stepwise ? 'step-by-step cells' : 'sequence kernel'}) = the model with Wh ⊙ mask / (1 − p), one mask per call`, async () => {
      await useCpu();
      const m = new CharModel({ modelType, vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0, weightDrop: P, initScale: 0.4 }, 21);
      m.sequenceKernel = !stepwise;
      const a = lossAndGrads(m, { training: true, rng: new Rng(5), stepwise });
      // The same rng draws the same masks: a second call repeats the first exactly.
      const again = lossAndGrads(m, { training: true, rng: new Rng(5), stepwise });
      assert.equal(again.loss, a.loss);

      // A dropped weight gets exactly no gradient; a kept one (practically) always some.
      const weights = modelTensors(m);
      const masked = new Map<string, NamedArray>(weights);
      const masks = new Map<string, Uint8Array>();
      for (let l = 0; l < 2; l++) {
        const name = `layers.${l}.Wh`;
        const g = a.grads.get(name)!;
        const mask = Uint8Array.from(g, (v) => (v !== 0 ? 1 : 0));
        const dropped = 1 - mask.reduce((s, v) => s + v, 0) / mask.length;
        assert.ok(dropped > 0.25 && dropped < 0.55, `${name}: ${(dropped * 100).toFixed(0)} % dropped, want about ${P * 100} %`);
        masks.set(name, mask);
        const w = weights.get(name)!;
        masked.set(name, { shape: w.shape, data: w.data.map((v, i) => (mask[i] * v) / (1 - P)) });
      }
      assert.notDeepEqual(masks.get('layers.0.Wh'), masks.get('layers.1.Wh'), 'each layer draws its own mask');

      // The reference: no weight drop, the masked matrices as its weights.
      const ref = new CharModel({ modelType, vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.4 }, 0);
      ref.sequenceKernel = !stepwise;
      ref.setWeights(masked);
      const r = lossAndGrads(ref, { training: true, rng: new Rng(5), stepwise });
      assert.ok(Math.abs(a.loss - r.loss) < 1e-6, `loss ${a.loss} vs reference ${r.loss}`);
      for (const [name, g] of a.grads) {
        // d/dWh of f(Wh ⊙ m / (1 − p)) = m / (1 − p) ⊙ f'(·)
        const mask = masks.get(name);
        const want = mask ? r.grads.get(name)!.map((v, i) => (mask[i] * v) / (1 - P)) : r.grads.get(name)!;
        assert.ok(maxAbsDiff(g, want) < 1e-6, `${name}: ${maxAbsDiff(g, want)}`);
      }

      // Evaluation (training false) uses Wh as it is: the model without weight drop.
      const plain = new CharModel({ modelType, vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.4 }, 0);
      plain.setWeights(weights);
      const e = m.forward(x, B, T, m.zeroState(B), { stepwise }).logits;
      const pe = plain.forward(x, B, T, plain.zeroState(B), { stepwise }).logits;
      assert.ok(maxAbsDiff(e.dataSync(), pe.dataSync()) < 1e-6, 'evaluation ignores weight drop');
      assert.ok(Math.abs(a.loss - lossAndGrads(plain, { training: false, stepwise }).loss) > 1e-4, 'training with weight drop computes something else');
      for (const t of [e, pe]) t.dispose();
      for (const mm of [m, ref, plain]) mm.dispose();
    });
  }
}

test('weight drop: the sequence kernel and the step-by-step cells draw the same masks', async () => {
  await useCpu();
  const m = new CharModel({ modelType: 'lstm', vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0.2, weightDrop: P, initScale: 0.4 }, 3);
  const fast = lossAndGrads(m, { training: true, rng: new Rng(9), stepwise: false });
  const slow = lossAndGrads(m, { training: true, rng: new Rng(9), stepwise: true });
  assert.ok(Math.abs(fast.loss - slow.loss) < 1e-5);
  for (const [name, g] of fast.grads) assert.ok(maxAbsDiff(g, slow.grads.get(name)!) < 1e-5, name);
  m.dispose();
});

test('weightDrop outside [0, 1) is a UserError', () => {
  for (const weightDrop of [1, -0.1, NaN]) {
    assert.throws(() => new CharModel({ modelType: 'lstm', vocabSize: V, hiddenSize: H, numLayers: 1, dropout: 0, weightDrop }), (e: unknown) => e instanceof UserError && /weightDrop must be in \[0, 1\)/.test((e as Error).message));
  }
});
