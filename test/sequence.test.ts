/**
 * The sequence-level kernels (lib/nn/sequence.ts) against the step-by-step cells the notebooks
 * teach with: same outputs, final state and gradients (w.r.t. every weight, the input and the
 * initial state), on the cpu backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { CellType, CharModel, crossEntropy, fusedLstm, initBackend, setBackwardBlockFloats, setFusedLstm, setFusedRecurrenceLimit } from '../lib';
import { maxAbsDiff, randomArray, useCpu } from './helpers';
import { paddedLd } from '../lib/nn/block-grads';

for (const type of ['lstm', 'rnn', 'gru'] as CellType[]) {
  test(`${type}: sequence kernel = step-by-step cell (values and gradients, max abs diff < 1e-5)`, async () => {
    await useCpu();
    const V = 7, H = 6, B = 3, T = 5;
    const m = new CharModel({ modelType: type, vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.4 }, 21);
    const x = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 1) % V);
    const y = Int32Array.from({ length: B * T }, (_, i) => (i * 3 + 2) % V);
    const h0 = randomArray(B * H, 3, 0.5);
    const run = (stepwise: boolean) => {
      const params = [...m.namedParams().values()];
      const start = tf.tensor2d(h0, [B, H]);
      const out = tf.grads((s: tf.Tensor) => {
        const state = m.cells.map((c) => (c.stateCount === 2 ? [s as tf.Tensor2D, tf.mul(s, -0.5) as tf.Tensor2D] : [s as tf.Tensor2D]));
        const r = m.forward(x, B, T, state, { stepwise });
        // The loss uses the logits and both final state tensors, so every output's gradient flows.
        const extra = r.state.flat().reduce((acc, t, k) => tf.add(acc, tf.mul(tf.sum(t), 0.1 * (k + 1))), tf.scalar(0));
        return tf.add(crossEntropy(r.logits, y), extra);
      })([start]);
      const { value, grads } = tf.variableGrads(() => crossEntropy(m.forward(x, B, T, m.zeroState(B), { stepwise }).logits, y), params);
      return { dStart: out[0].dataSync(), loss: value.dataSync()[0], grads: params.map((p) => grads[p.name].dataSync()), logits: m.forward(x, B, T, m.zeroState(B), { stepwise }).logits.dataSync() };
    };
    const a = run(true), b = run(false);
    const c = (() => { const old = setBackwardBlockFloats(B * 4 * H * 2); try { return run(false); } finally { setBackwardBlockFloats(old); } })();
    c.grads.forEach((g, k) => assert.ok(maxAbsDiff(g, a.grads[k]) < 1e-5, `blocks of 2 steps, param ${k}`));
    assert.ok(maxAbsDiff(a.logits, b.logits) < 1e-5, 'logits');
    assert.ok(Math.abs(a.loss - b.loss) < 1e-5, 'loss');
    assert.ok(maxAbsDiff(a.dStart, b.dStart) < 1e-5, `gradient w.r.t. the initial state: ${maxAbsDiff(a.dStart, b.dStart)}`);
    a.grads.forEach((g, k) => assert.ok(maxAbsDiff(g, b.grads[k]) < 1e-5, `param ${k}: ${maxAbsDiff(g, b.grads[k])}`));
    assert.ok(a.grads.every((g) => g.some((v) => Math.abs(v) > 1e-4)), 'every weight gets a non-zero gradient');
  });
}

for (const backend of ['cpu', 'wasm']) {
  test(`training with the sequence kernels leaks no tensors and no backend buffers (${backend})`, async () => {
    await initBackend(backend);
    const { ByteVocab, Trainer } = await import('../lib');
    const text = Buffer.from('some text to train on, repeated. '.repeat(30));
    const vocab = ByteVocab.fromData(text);
    for (const modelType of ['lstm', 'rnn', 'gru'] as CellType[]) {
      for (const seqLength of [1, 10]) {
        const m = new CharModel({ modelType, vocabSize: vocab.size, hiddenSize: 8, numLayers: 2, dropout: 0.1, weightDrop: 0.2 }, 1);
        const tr = new Trainer(m, vocab, { train: vocab.encode(text) }, { batchSize: 4, seqLength, steps: 0, optimizer: 'adam' });
        tr.trainStep();
        tr.trainStep();
        const before = tf.memory().numTensors;
        const buffers = tf.backend().numDataIds();
        for (let i = 0; i < 5; i++) tr.trainStep();
        assert.equal(tf.memory().numTensors, before, `${modelType} seq ${seqLength}: tensors after 5 more steps`);
        assert.equal(tf.backend().numDataIds(), buffers, `${modelType} seq ${seqLength}: backend buffers after 5 more steps`);
      }
    }
    await useCpu();
  });
}

for (const modelType of ['lstm', 'rnn', 'gru'] as CellType[]) {
  test(`${modelType} sequence kernel on wasm (raw kernels, threads) = step-by-step cell on cpu`, async () => {
    const V = 9, H = 16, B = 5, T = 12;
    const x = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
    const y = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 1) % V);
    const run = async (backend: string, stepwise: boolean) => {
      await initBackend(backend);
      const m = new CharModel({ modelType, vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.3 }, 5);
      const params = [...m.namedParams().values()];
      const { value, grads } = tf.variableGrads(() => crossEntropy(m.forward(x, B, T, m.zeroState(B), { stepwise }).logits, y), params);
      const out = { loss: value.dataSync()[0], grads: params.map((p) => grads[p.name].dataSync().slice()) };
      m.dispose();
      return out;
    };
    const ref = await run('cpu', true);
    const fast = await run('wasm', false);
    await useCpu();
    assert.ok(Math.abs(ref.loss - fast.loss) < 1e-5, `loss ${ref.loss} vs ${fast.loss}`);
    ref.grads.forEach((g, k) => assert.ok(maxAbsDiff(g, fast.grads[k]) < 1e-5, `param ${k}: ${maxAbsDiff(g, fast.grads[k])}`));
  });
}

test('the LSTM backward in blocks of steps (5, 5, 2 of 12) = in one block, and the fused RNN off = on (cpu)', async () => {
  await useCpu();
  const V = 9, H = 16, B = 5, T = 12;
  const x = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
  const y = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 1) % V);
  for (const modelType of ['lstm', 'rnn'] as CellType[]) {
    const m = new CharModel({ modelType, vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.3 }, 5);
    const params = [...m.namedParams().values()];
    const grads = (blockFloats: number, fusedLimit: number) => {
      const oldB = setBackwardBlockFloats(blockFloats);
      const oldF = setFusedRecurrenceLimit(fusedLimit);
      try {
        const { grads } = tf.variableGrads(() => crossEntropy(m.forward(x, B, T, m.zeroState(B)).logits, y), params);
        return params.map((p) => grads[p.name].dataSync().slice());
      } finally {
        setBackwardBlockFloats(oldB);
        setFusedRecurrenceLimit(oldF);
      }
    };
    const whole = grads(1 << 22, 1 << 16), blocks = grads(B * 4 * H * 5, 0);
    whole.forEach((g, k) => assert.ok(maxAbsDiff(g, blocks[k]) < 1e-5, `${modelType} ${params[k].name}: ${maxAbsDiff(g, blocks[k])}`));
    m.dispose();
  }
});

test('the fused LSTM (wasm, lstm.wat) = the kernel path: loss, every gradient, the final state; in one block and in blocks of 2 steps', async () => {
  await initBackend('wasm');
  try {
    assert.ok(fusedLstm(8), 'the fused LSTM is available on wasm for H = 8');
    assert.equal(fusedLstm(6), undefined, 'H not a multiple of 4: the kernel path');
    const V = 9, B = 3, T = 7;
    const x = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
    const y = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 1) % V);
    for (const H of [8, 12]) {
      const m = new CharModel({ modelType: 'lstm', vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.6 }, 3);
      const params = [...m.namedParams().values()];
      const h0 = randomArray(B * H, 4, 0.8);
      const run = (fused: boolean, blockFloats: number) => {
        const oldF = setFusedLstm(fused);
        const oldB = setBackwardBlockFloats(blockFloats);
        try {
          return tf.tidy(() => {
            const start = tf.tensor2d(h0, [B, H]);
            const f = () => {
              const state = m.cells.map(() => [start, tf.mul(start, -0.7) as tf.Tensor2D]);
              const r = m.forward(x, B, T, state);
              const extra = r.state.flat().reduce((acc, t, k) => tf.add(acc, tf.mul(tf.sum(tf.mul(t, t)), 0.3 * (k + 1))), tf.scalar(0));
              return tf.add(crossEntropy(r.logits, y), extra) as tf.Scalar;
            };
            const { value, grads } = tf.variableGrads(f, params);
            const dStart = tf.grad((s: tf.Tensor) => {
              const state = m.cells.map(() => [s as tf.Tensor2D, tf.mul(s, -0.7) as tf.Tensor2D]);
              return crossEntropy(m.forward(x, B, T, state).logits, y);
            })(start);
            return { loss: value.dataSync()[0], grads: params.map((p) => grads[p.name].dataSync().slice()), dStart: dStart.dataSync().slice() };
          });
        } finally {
          setFusedLstm(oldF);
          setBackwardBlockFloats(oldB);
        }
      };
      const ref = run(false, 1 << 22);
      for (const blockFloats of [1 << 22, B * 4 * H * 2]) {
        const got = run(true, blockFloats);
        const what = `H ${H}, block ${blockFloats}`;
        assert.ok(Math.abs(ref.loss - got.loss) < 1e-5, `${what}: loss ${ref.loss} vs ${got.loss}`);
        assert.ok(maxAbsDiff(ref.dStart, got.dStart) < 1e-5, `${what}: gradient w.r.t. the initial state ${maxAbsDiff(ref.dStart, got.dStart)}`);
        ref.grads.forEach((g, k) => assert.ok(maxAbsDiff(g, got.grads[k]) < 1e-5, `${what}, ${params[k].name}: ${maxAbsDiff(g, got.grads[k])}`));
      }
      assert.ok(ref.grads.every((g) => g.some((v) => Math.abs(v) > 1e-4)), 'every weight gets a non-zero gradient');
      m.dispose();
    }
  } finally {
    await useCpu();
  }
  assert.equal(fusedLstm(8), undefined, 'not on the cpu backend');
});

test('the stock single-threaded wasm build (UNREASONABLE_THREADS=1) runs the fused LSTM too, with the same results', () => {
  // The backend is chosen once per process: the test above, again, in a child on one thread
  // (without NODE_TEST_CONTEXT, which would make the child report to this runner instead of stdout).
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-name-pattern', '^the fused LSTM \\(wasm', __filename], {
    env: { ...env, UNREASONABLE_THREADS: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stdout.slice(-2000) + r.stderr);
  assert.match(r.stdout, /^# pass 1$/m, 'the fused LSTM test ran and passed');
  assert.match(r.stdout, /^# skipped \d+$/m);
});

test('paddedLd: the least leading dimension ≥ n whose rows are an odd number of 64-byte lines apart', () => {
  for (let n = 1; n <= 5000; n++) {
    const ld = paddedLd(n);
    assert.ok(ld >= n && ld - n < 32, `n ${n}: ld ${ld}`);
    assert.equal(ld % 32, 16, `n ${n}: ld ${ld} floats = ${ld * 4} bytes`);
  }
  assert.equal(paddedLd(2048), 2064); // S: 64 steps × batch 32, 8 KB apart unpadded
  assert.equal(paddedLd(2000), 2000); // M: 20 steps × batch 100 (125 lines apart already)
});
