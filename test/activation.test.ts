/**
 * The vanilla RNN's activation choice (tanh default, relu, gelu): the ops against float64
 * formulas, the model against a float64 forward pass written out in JS, the step cells used in
 * place of the tanh-only sequence kernel, the sampling Stepper, and bad configurations refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { activate, activateScalar, Activation, ACTIVATIONS, ByteVocab, CharModel, disposeState, loadCheckpoint, saveCheckpoint, Stepper, UserError, validateConfig } from '../lib';
import { maxAbsDiff, tmpDir, useCpu } from './helpers';

/** Exact GELU x·Φ(x) through a float64 erf (series; |x| ≤ 6 here). */
function geluExact(x: number): number {
  const z = x / Math.SQRT2;
  let sum = 0, term = z;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-z * z) / (n + 1);
  }
  return 0.5 * x * (1 + (2 / Math.sqrt(Math.PI)) * sum);
}

const xs = Array.from({ length: 49 }, (_, i) => -6 + i * 0.25);

test('activate() matches float64 formulas; gelu is the tanh approximation of x·Φ(x)', async () => {
  await useCpu();
  const ref: Record<Activation, (x: number) => number> = {
    tanh: Math.tanh,
    relu: (x) => Math.max(0, x),
    gelu: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  };
  for (const a of ACTIVATIONS) {
    const got = tf.tidy(() => activate(tf.tensor1d(xs), a).dataSync());
    assert.ok(maxAbsDiff(got, xs.map(ref[a])) < 1e-6, `${a} tensor`);
    assert.ok(maxAbsDiff(xs.map((x) => activateScalar(x, a)), xs.map(ref[a])) < 1e-12, `${a} scalar`);
  }
  const approx = maxAbsDiff(xs.map((x) => activateScalar(x, 'gelu')), xs.map(geluExact));
  assert.ok(approx < 1e-3 && approx > 1e-6, `tanh-GELU vs exact GELU: ${approx}`);
  // Unbounded above (relu, gelu), bounded (tanh)
  assert.equal(activateScalar(50, 'relu'), 50);
  assert.ok(Math.abs(activateScalar(50, 'gelu') - 50) < 1e-9);
  assert.ok(activateScalar(50, 'tanh') <= 1);
});

/** Float64 forward of a 1-layer one-hot RNN with activation `a`: logits [T][B][V]. */
function referenceForward(model: CharModel, ids: Int32Array, B: number, T: number, a: Activation): number[][][] {
  const { vocabSize: V, hiddenSize: H } = model.config;
  const Wx = Array.from(model.cells[0].Wx.dataSync()), Wh = Array.from(model.cells[0].Wh.dataSync()), b = Array.from(model.cells[0].b.dataSync());
  const Wy = Array.from(model.Wy.dataSync()), by = Array.from(model.by.dataSync());
  const h = Array.from({ length: B }, () => new Array<number>(H).fill(0));
  const out: number[][][] = [];
  for (let t = 0; t < T; t++) {
    out.push([]);
    for (let r = 0; r < B; r++) {
      const id = ids[r * T + t];
      const hNew = Array.from({ length: H }, (_, j) => {
        let z = Wx[id * H + j] + b[j];
        for (let k = 0; k < H; k++) z += h[r][k] * Wh[k * H + j];
        return activateScalar(z, a);
      });
      h[r] = hNew;
      out[t].push(Array.from({ length: V }, (_, v) => hNew.reduce((s, hv, k) => s + hv * Wy[k * V + v], by[v])));
    }
  }
  return out;
}

test('an RNN with relu / gelu equals a float64 forward; tanh still runs the sequence kernel', async () => {
  await useCpu();
  const B = 2, T = 9, V = 6;
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
  for (const a of ACTIVATIONS) {
    const model = new CharModel({ modelType: 'rnn', vocabSize: V, hiddenSize: 5, numLayers: 1, dropout: 0, initScale: 0.9, activation: a }, 3);
    assert.equal(model.cells[0].activation, a);
    const got = tf.tidy(() => model.forward(ids, B, T, model.zeroState(B)).logits.dataSync());
    const ref = referenceForward(model, ids, B, T, a).flat(2);
    const d = maxAbsDiff(got, ref);
    assert.ok(d < 1e-5, `${a}: max diff ${d}`);
    // The activations differ: the same weights give different outputs.
    if (a !== 'tanh') {
      const tanhRef = referenceForward(model, ids, B, T, 'tanh').flat(2);
      assert.ok(maxAbsDiff(got, tanhRef) > 1e-2, `${a} differs from tanh`);
    }
    // Default (sequence kernel for tanh, step cells otherwise) = the step cells.
    const stepwise = tf.tidy(() => model.forward(ids, B, T, model.zeroState(B), { stepwise: true }).logits.dataSync());
    assert.ok(maxAbsDiff(got, stepwise) < 1e-5, `${a}: default vs stepwise`);
    // Gradients flow (the relu/gelu path has no sequence kernel: it must go through the step cells).
    const g = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(ids, B, T, model.zeroState(B)).logits)) as tf.Scalar, [model.cells[0].Wh]);
      return tf.norm(grads[model.cells[0].Wh.name]).dataSync()[0];
    });
    assert.ok(g > 1e-3, `${a}: ‖∂/∂Wh‖ = ${g}`);
    model.dispose();
  }
  const dflt = new CharModel({ modelType: 'rnn', vocabSize: V, hiddenSize: 5, numLayers: 1, dropout: 0 }, 3);
  assert.equal(dflt.cells[0].activation, 'tanh');
  dflt.dispose();
});

test('the sampling Stepper follows the activation', async () => {
  await useCpu();
  for (const a of ['relu', 'gelu'] as Activation[]) {
    const model = new CharModel({ modelType: 'rnn', vocabSize: 8, hiddenSize: 6, numLayers: 2, dropout: 0, initScale: 0.7, activation: a }, 2);
    const stepper = new Stepper(model);
    let state = model.zeroState(1);
    let worst = 0;
    for (const id of [1, 5, 2, 7, 0, 3, 3, 6]) {
      const ref = tf.tidy(() => {
        const r = model.forward(Int32Array.of(id), 1, 1, state);
        disposeState(state);
        state = r.state.map((l) => l.map((t) => tf.keep(t)));
        return r.logits.dataSync().slice();
      });
      worst = Math.max(worst, maxAbsDiff(stepper.step(id), ref));
    }
    assert.ok(worst < 1e-5, `${a}: stepper vs forward ${worst}`);
    disposeState(state);
    stepper.dispose();
    model.dispose();
  }
});

test('activation: unknown names and non-RNN cells are refused with a UserError', () => {
  const base = { vocabSize: 4, hiddenSize: 3, numLayers: 1, dropout: 0 };
  assert.throws(() => validateConfig({ ...base, modelType: 'rnn', activation: 'sigmoid' as Activation }), (e: Error) => e instanceof UserError && /unknown activation "sigmoid": use tanh, relu, gelu/.test(e.message));
  assert.throws(() => validateConfig({ ...base, modelType: 'lstm', activation: 'relu' }), (e: Error) => e instanceof UserError && /for the vanilla RNN only/.test(e.message));
  validateConfig({ ...base, modelType: 'lstm', activation: 'tanh' });
  validateConfig({ ...base, modelType: 'rnn', activation: 'gelu' });
});

test('a checkpoint keeps the activation (a relu RNN loads as relu, same logits)', async () => {
  await useCpu();
  const vocab = ByteVocab.fromData('abcdef');
  const model = new CharModel({ modelType: 'rnn', vocabSize: vocab.size, hiddenSize: 5, numLayers: 1, dropout: 0, initScale: 0.9, activation: 'relu' }, 8);
  const dir = path.join(tmpDir(), 'ck');
  saveCheckpoint(dir, { model, vocab });
  const loaded = loadCheckpoint(dir);
  assert.equal(loaded.model.cells[0].activation, 'relu');
  const ids = Int32Array.from([0, 3, 5, 1, 2]);
  const logits = (m: CharModel) => tf.tidy(() => m.forward(ids, 1, 5, m.zeroState(1)).logits.dataSync());
  assert.ok(maxAbsDiff(logits(model), logits(loaded.model)) < 1e-6);
  model.dispose();
  loaded.model.dispose();
});
