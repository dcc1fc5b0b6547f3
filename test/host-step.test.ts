/**
 * The small-model fast path (issue 19's min-char-rnn step): the vanilla RNN's recurrence in
 * WebAssembly SIMD (lib/nn/recurrence.ts), the cross-entropy computed on the host, and clipping
 * + the optimizer update in one pass over the values (Optimizer.applyOnHost). Each is checked
 * against a float64 reference or against the kernel path it replaces, on cpu and wasm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ByteVocab, CharModel, clipGradients, ClipMode, crossEntropy, hostGradNorm, initBackend, kernelCrossEntropy, loadRecurrence, Optimizer, OptimizerName, setFusedRecurrenceLimit, Trainer } from '../lib';
import { maxAbsDiff, randomArray, useCpu } from './helpers';

/** The recurrence in float64, written out. */
function reference(xp: Float32Array, wh: Float32Array, h0: Float32Array, dy: Float32Array, T: number, B: number, H: number) {
  const hs = new Float64Array(T * B * H);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
    let z = xp[(t * B + b) * H + j];
    for (let k = 0; k < H; k++) z += (t === 0 ? h0[b * H + k] : hs[((t - 1) * B + b) * H + k]) * wh[k * H + j];
    hs[(t * B + b) * H + j] = Math.tanh(z);
  }
  const dz = new Float64Array(T * B * H), dh = new Float64Array(B * H), dwh = new Float64Array(H * H);
  for (let t = T - 1; t >= 0; t--) for (let b = 0; b < B; b++) {
    const o = (t * B + b) * H;
    for (let j = 0; j < H; j++) dz[o + j] = (dy[o + j] + dh[b * H + j]) * (1 - hs[o + j] ** 2);
    for (let k = 0; k < H; k++) {
      const hk = t === 0 ? h0[b * H + k] : hs[((t - 1) * B + b) * H + k];
      for (let j = 0; j < H; j++) dwh[k * H + j] += hk * dz[o + j];
    }
    for (let k = 0; k < H; k++) {
      let s = 0;
      for (let j = 0; j < H; j++) s += dz[o + j] * wh[k * H + j];
      dh[b * H + k] = s;
    }
  }
  return { hs, dz, dh0: dh, dwh };
}

test('the WebAssembly recurrence = a float64 reference (forward, dZ, dh0, dWh), H a multiple of 4 or not', async () => {
  const k = await loadRecurrence();
  assert.ok(k, 'the recurrence compiles (wabt, SIMD)');
  for (const [T, B, H] of [[25, 1, 100], [7, 3, 6], [4, 2, 13]]) {
    const xp = randomArray(T * B * H, 1, 1.5), wh = randomArray(H * H, 2, 2 / Math.sqrt(H)), h0 = randomArray(B * H, 3, 0.8), dy = randomArray(T * B * H, 4, 1);
    const ref = reference(xp, wh, h0, dy, T, B, H);
    const hs = k.rnnForward(xp, wh, h0, T, B, H);
    const back = k.rnnBackward(dy, hs, h0, wh, T, B, H);
    const tag = `T=${T} B=${B} H=${H}`;
    assert.ok(maxAbsDiff(hs, ref.hs) < 2e-6, `${tag} hs ${maxAbsDiff(hs, ref.hs)}`);
    assert.ok(maxAbsDiff(back.dZ, ref.dz) < 2e-5, `${tag} dZ ${maxAbsDiff(back.dZ, ref.dz)}`);
    assert.ok(maxAbsDiff(back.dh0, ref.dh0) < 2e-5, `${tag} dh0 ${maxAbsDiff(back.dh0, ref.dh0)}`);
    assert.ok(maxAbsDiff(back.dWh, ref.dwh) < 5e-5, `${tag} dWh ${maxAbsDiff(back.dWh, ref.dwh)}`);
    assert.ok(ref.dwh.some((v) => Math.abs(v) > 1e-2), 'a non-trivial gradient');
  }
  // tanh over its whole range (zero weights: hs = tanh(xp)); inputs past ±7.9 saturate to ±1.
  const n = 4000;
  const xs = Float32Array.from({ length: n }, (_, i) => -12 + (24 * i) / n);
  const th = k.rnnForward(xs, new Float32Array(16), new Float32Array(4), n / 4, 1, 4);
  assert.ok(maxAbsDiff(th, xs.map(Math.tanh)) < 5e-7, `tanh ${maxAbsDiff(th, xs.map(Math.tanh))}`);
});

for (const backend of ['cpu', 'wasm']) {
  test(`${backend}: the fused RNN (one-hot ids at layer 0, a tensor input at layer 1) = the kernel path, values and gradients`, async () => {
    await initBackend(backend);
    const V = 11, H = 10, B = 3, T = 9;
    const m = new CharModel({ modelType: 'rnn', vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.5 }, 4);
    const x = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 2) % V);
    const y = Int32Array.from({ length: B * T }, (_, i) => (i * 3 + 1) % V);
    const h0 = randomArray(B * H, 6, 0.5);
    const params = [...m.namedParams().values()];
    const run = (limit: number) => {
      const old = setFusedRecurrenceLimit(limit);
      try {
        const { value, grads } = tf.variableGrads(() => {
          const state = m.cells.map(() => [tf.tensor2d(h0, [B, H])]);
          const r = m.forward(x, B, T, state, {});
          return tf.add(kernelCrossEntropy(r.logits, y), tf.mul(tf.sum(r.state[1][0]), 0.3)) as tf.Scalar;
        }, params);
        return { loss: value.dataSync()[0], grads: params.map((p) => grads[p.name].dataSync().slice()) };
      } finally {
        setFusedRecurrenceLimit(old);
      }
    };
    const fused = run(1 << 16), kernels = run(0);
    assert.ok(Math.abs(fused.loss - kernels.loss) < 1e-5, `loss ${fused.loss} vs ${kernels.loss}`);
    fused.grads.forEach((g, i) => assert.ok(maxAbsDiff(g, kernels.grads[i]) < 1e-5, `${params[i].name}: ${maxAbsDiff(g, kernels.grads[i])}`));
    assert.ok(fused.grads.every((g) => g.some((v) => Math.abs(v) > 1e-4)), 'every weight gets a gradient');
    m.dispose();
    await useCpu();
  });

  test(`${backend}: the host cross-entropy = the kernel one (value and gradient)`, async () => {
    await initBackend(backend);
    const [T, B, V] = [6, 4, 9];
    const logits = tf.tensor3d(randomArray(T * B * V, 8, 6), [T, B, V]);
    const y = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 3) % V);
    const f = (ce: typeof crossEntropy) => tf.valueAndGrad((l: tf.Tensor) => tf.mul(ce(l as tf.Tensor3D, y), 1.7) as tf.Scalar)(logits);
    const host = f(crossEntropy), kern = f(kernelCrossEntropy);
    assert.ok(Math.abs(host.value.dataSync()[0] - kern.value.dataSync()[0]) < 1e-5, 'value');
    assert.ok(maxAbsDiff(host.grad.dataSync(), kern.grad.dataSync()) < 1e-6, `gradient ${maxAbsDiff(host.grad.dataSync(), kern.grad.dataSync())}`);
    tf.dispose([logits, host.value, host.grad, kern.value, kern.grad]);
    await useCpu();
  });

  for (const name of ['rmsprop', 'adam', 'adagrad'] as OptimizerName[]) {
    test(`${backend}: ${name}.applyOnHost = clipGradients + apply (no clip, by value, by norm; 3 steps)`, async () => {
      await initBackend(backend);
      for (const [clip, mode] of [[0, 'norm'], [0.05, 'value'], [0.5, 'norm']] as [number, ClipMode][]) {
        const init = { a: randomArray(40, 1, 1), b: randomArray(7, 2, 1) };
        const mk = () => new Map(Object.entries(init).map(([k, v]) => [k, tf.variable(tf.tensor1d(v))]));
        const pa = mk(), pb = mk();
        // A tensor sharing b's buffer must not change when the host updates b in place.
        const shared = tf.clone(pb.get('b')!);
        const oa = new Optimizer({ name }), ob = new Optimizer({ name });
        for (let s = 0; s < 3; s++) {
          const grads = () => new Map<string, tf.Tensor>([['a', tf.tensor1d(randomArray(40, 10 + s, 0.4))], ['b', tf.tensor1d(randomArray(7, 20 + s, 0.4))]]);
          const ga = grads(), gb = grads();
          const c = clipGradients(ga, clip, mode);
          oa.apply(pa, c.grads, 0.01);
          const norm = hostGradNorm(gb.values());
          assert.ok(Math.abs(norm - c.norm.dataSync()[0]) < 1e-5, 'norm');
          ob.applyOnHost(pb, gb, 0.01, clip, mode, norm);
        }
        const tag = `${name} clip ${clip} ${mode}`;
        for (const k of ['a', 'b']) assert.ok(maxAbsDiff(pa.get(k)!.dataSync(), pb.get(k)!.dataSync()) < 1e-6, `${tag} param ${k}`);
        for (const [k, v] of oa.getState().slots) assert.ok(maxAbsDiff(v.data, ob.getState().slots.get(k)!.data) < 1e-6, `${tag} slot ${k}`);
        assert.equal(oa.getState().t, ob.getState().t);
        assert.deepEqual(Array.from(shared.dataSync()), Array.from(init.b).map(Math.fround), 'the shared buffer is untouched');
        assert.ok(maxAbsDiff(pb.get('a')!.dataSync(), init.a) > 1e-4, 'the parameters moved');
      }
      await useCpu();
    });
  }

  test(`${backend}: switching between the host and the kernel update mid-run keeps the optimizer state (adam)`, async () => {
    await initBackend(backend);
    const init = randomArray(30, 5, 1);
    const pa = new Map([['w', tf.variable(tf.tensor1d(init))]]), pb = new Map([['w', tf.variable(tf.tensor1d(init))]]);
    const oa = new Optimizer({ name: 'adam' }), ob = new Optimizer({ name: 'adam' });
    const plan = ['host', 'host', 'kernel', 'host', 'kernel'];
    plan.forEach((how, s) => {
      const g = () => new Map<string, tf.Tensor>([['w', tf.tensor1d(randomArray(30, 40 + s, 0.3))]]);
      oa.apply(pa, g(), 0.01);
      if (how === 'host') { const gb = g(); ob.applyOnHost(pb, gb, 0.01, 0, 'norm', hostGradNorm(gb.values())); } else ob.apply(pb, g(), 0.01);
      if (s === 3) assert.deepEqual([...ob.getState().slots.keys()].sort(), ['m/w', 'v/w'], 'getState sees the host slots');
    });
    assert.ok(maxAbsDiff(pa.get('w')!.dataSync(), pb.get('w')!.dataSync()) < 1e-6, `params ${maxAbsDiff(pa.get('w')!.dataSync(), pb.get('w')!.dataSync())}`);
    for (const [k, v] of oa.getState().slots) assert.ok(maxAbsDiff(v.data, ob.getState().slots.get(k)!.data) < 1e-6, `slot ${k}`);
    await useCpu();
  });

  test(`${backend}: training with the host path = the kernel path (rnn and lstm, 6 steps: each update is seen by the next forward pass)`, async () => {
    await initBackend(backend);
    const text = Buffer.from('the host path and the kernel path should agree. '.repeat(20));
    const vocab = ByteVocab.fromData(text);
    for (const modelType of ['rnn', 'lstm'] as const) {
      const losses = (env: string) => {
        const saved = { ...process.env };
        for (const k of ['UNREASONABLE_HOST_UPDATE', 'UNREASONABLE_HOST_LOSS']) process.env[k] = env;
        const old = setFusedRecurrenceLimit(env === '0' ? 0 : 1 << 16);
        try {
          const m = new CharModel({ modelType, vocabSize: vocab.size, hiddenSize: 12, numLayers: 1, dropout: 0 }, 3);
          const w0 = m.namedParams().get('decoder.W')!.dataSync().slice();
          const tr = new Trainer(m, vocab, { train: vocab.encode(text) }, { batchSize: 2, seqLength: 8, steps: 6, optimizer: 'adagrad', learningRate: 0.1, gradClip: 0.5, clipMode: 'value' });
          const out = Array.from({ length: 6 }, () => tr.trainStep());
          const w = m.namedParams().get('decoder.W')!.dataSync().slice();
          tr.dispose();
          m.dispose();
          return { out, w, w0 };
        } finally {
          setFusedRecurrenceLimit(old);
          for (const k of ['UNREASONABLE_HOST_UPDATE', 'UNREASONABLE_HOST_LOSS']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
        }
      };
      const host = losses('1'), kern = losses('0');
      assert.ok(maxAbsDiff(host.out, kern.out) < 1e-5, `${modelType} losses ${host.out} vs ${kern.out}`);
      assert.ok(maxAbsDiff(host.w, kern.w) < 1e-5, `${modelType} weights ${maxAbsDiff(host.w, kern.w)}`);
      assert.ok(maxAbsDiff(host.w, host.w0) > 1e-3, `${modelType}: the weights moved`);
    }
    await useCpu();
  });
}
