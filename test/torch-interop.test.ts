/**
 * Checkpoints of the PyTorch reproduction (model.safetensors with nn.LSTM + Linear decoder keys,
 * meta.json with id_to_byte) load into our CharModel and give the same next-byte probabilities:
 * (a) against an LSTM forward pass written here in plain float64 JS from PyTorch's equations,
 * (b) against torch itself, where /usr/bin/python3 has it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CharModel, encodeSafetensors, fromTorchStateDict, loadAnyCheckpoint, loadTorchCheckpoint, NamedArray, UserError } from '../lib';
import { hashTree, maxAbsDiff, randomArray, tmpDir, torchPython, useCpu } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const TEXT = 'the cat sat on the mat; the rat ate the hat.\n';
const idToByte = [...new Set(Buffer.from(TEXT))].sort((a, b) => b - a); // deliberately not sorted ascending
const V = idToByte.length, H = 5, L = 2, G = 4;

/** PyTorch-layout weights: weight_ih_l{k} [4H, in], weight_hh_l{k} [4H, H], biases [4H], decoder [V, H] + [V]. */
function torchWeights(seed: number): Map<string, NamedArray> {
  const m = new Map<string, NamedArray>();
  let s = seed;
  const put = (name: string, shape: number[], scale = 0.8) => m.set(name, { shape, data: randomArray(shape.reduce((a, b) => a * b, 1), ++s, scale) });
  for (let k = 0; k < L; k++) {
    put(`weight_ih_l${k}`, [G * H, k === 0 ? V : H]);
    put(`weight_hh_l${k}`, [G * H, H]);
    put(`bias_ih_l${k}`, [G * H]);
    put(`bias_hh_l${k}`, [G * H]);
  }
  put('decoder.weight', [V, H], 3);
  put('decoder.bias', [V]);
  return m;
}

/** nn.LSTM (gates i, f, g, o) + Linear + softmax in float64, from the PyTorch-layout tensors. */
function referenceProbs(w: Map<string, NamedArray>, ids: number[]): Float64Array[] {
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const get = (n: string) => w.get(n)!.data;
  const h = Array.from({ length: L }, () => new Float64Array(H));
  const c = Array.from({ length: L }, () => new Float64Array(H));
  const out: Float64Array[] = [];
  for (const id of ids) {
    let x = new Float64Array(V);
    x[id] = 1;
    for (let k = 0; k < L; k++) {
      const Wih = get(`weight_ih_l${k}`), Whh = get(`weight_hh_l${k}`), bih = get(`bias_ih_l${k}`), bhh = get(`bias_hh_l${k}`);
      const n = x.length;
      const z = new Float64Array(G * H);
      for (let r = 0; r < G * H; r++) {
        let s = bih[r] + bhh[r];
        for (let j = 0; j < n; j++) s += Wih[r * n + j] * x[j];
        for (let j = 0; j < H; j++) s += Whh[r * H + j] * h[k][j];
        z[r] = s;
      }
      const hNew = new Float64Array(H);
      for (let u = 0; u < H; u++) {
        const i = sig(z[u]), f = sig(z[H + u]), g = Math.tanh(z[2 * H + u]), o = sig(z[3 * H + u]);
        c[k][u] = f * c[k][u] + i * g;
        hNew[u] = o * Math.tanh(c[k][u]);
      }
      h[k] = hNew;
      x = hNew;
    }
    const Wd = get('decoder.weight'), bd = get('decoder.bias');
    const logits = Array.from({ length: V }, (_, v) => {
      let s = bd[v];
      for (let j = 0; j < H; j++) s += Wd[v * H + j] * x[j];
      return s;
    });
    const max = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - max));
    const sum = e.reduce((a, b) => a + b, 0);
    out.push(Float64Array.from(e, (v) => v / sum));
  }
  return out;
}

/** Our model's next-byte probabilities at every position of `ids` (one stream from a zero state). */
function ourProbs(model: CharModel, ids: number[]): Float32Array[] {
  return tf.tidy(() => {
    const r = model.forward(Int32Array.from(ids), 1, ids.length, model.zeroState(1));
    const p = tf.softmax(r.logits.reshape([ids.length, -1])).arraySync() as number[][];
    return p.map((row) => Float32Array.from(row));
  });
}

function writeTorchDir(dir: string, tensors: Map<string, NamedArray>, meta: unknown = { id_to_byte: idToByte }): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors));
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
  return dir;
}

function prefixed(w: Map<string, NamedArray>, prefix: string): Map<string, NamedArray> {
  return new Map([...w].map(([k, v]) => [k.startsWith('decoder.') ? k : prefix + k, v]));
}

const textIds = [...Buffer.from(TEXT)].map((b) => idToByte.indexOf(b));

test('(a) a PyTorch-format LSTM checkpoint gives the float64 reference probabilities', async () => {
  await useCpu();
  const w = torchWeights(100);
  const ref = referenceProbs(w, textIds);
  const root = tmpDir();
  for (const prefix of ['internal_model.', 'lstm.', '']) {
    const dir = writeTorchDir(path.join(root, `p${prefix || 'none'}`), prefixed(w, prefix));
    const before = hashTree(dir);
    const { model, vocab } = loadTorchCheckpoint(dir);
    assert.deepEqual(model.config, { modelType: 'lstm', vocabSize: V, hiddenSize: H, numLayers: L, dropout: 0, initScale: 0.08 });
    assert.deepEqual(Array.from(vocab.idToByte), idToByte);
    const ours = ourProbs(model, textIds);
    const d = Math.max(...ours.map((p, t) => maxAbsDiff(p, ref[t])));
    console.log(`prefix "${prefix}": max abs diff of next-byte probabilities vs float64 reference = ${d.toExponential(2)}`);
    assert.ok(d < 1e-6, `max abs diff ${d}`);
    assert.ok(Math.max(...ref.map((p) => Math.max(...p))) > 2 / V, 'the reference is not trivially uniform');
    assert.deepEqual(hashTree(dir), before, 'loading changes nothing');
    model.dispose();
  }
});

test('(a) the CLI reads a PyTorch checkpoint directory: eval --json equals the reference loss', async () => {
  const w = torchWeights(200);
  const dir = writeTorchDir(path.join(tmpDir(), 'torch'), prefixed(w, 'internal_model.'));
  const text = path.join(path.dirname(dir), 'text.txt');
  fs.writeFileSync(text, TEXT);
  const ref = referenceProbs(w, textIds.slice(0, -1));
  const refLoss = -ref.reduce((s, p, t) => s + Math.log(p[textIds[t + 1]]), 0) / ref.length;
  // The default (parallel warmed-up streams) and --batch 1 (the literal one-stream loop) both give
  // the loss of the text as one stream.
  for (const extra of [[], ['--batch', '1'], ['--batch', '4', '--seq', '16']]) {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/unreasonable.js'), '-q', 'eval', '--checkpoint', dir, '--text', text, '--json', ...extra], {
      encoding: 'utf8',
      env: { ...process.env, UNREASONABLE_BACKEND: 'cpu' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 1);
    const out = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(out), ['loss', 'bpc', 'bytes']);
    assert.equal(out.bytes, TEXT.length);
    assert.ok(Math.abs(out.loss - refLoss) < 1e-5, `${extra.join(' ')}: ${out.loss} vs ${refLoss}`);
    assert.ok(Math.abs(out.bpc - refLoss / Math.LN2) < 1e-5);
  }
});

test('PyTorch checkpoints with missing/mismatched tensors or a wrong id_to_byte give one clear error', async () => {
  await useCpu();
  const root = tmpDir();
  const w = prefixed(torchWeights(300), 'internal_model.');
  const cases: [string, (m: Map<string, NamedArray>) => unknown, RegExp][] = [
    ['missing-hh', (m) => m.delete('internal_model.weight_hh_l1'), /"internal_model.weight_hh_l1" is missing/],
    ['missing-layer', (m) => ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].forEach((k) => m.delete(`internal_model.${k}_l0`)), /layer 0 is missing \(found layers 1\)/],
    ['no-decoder', (m) => (m.delete('decoder.weight'), m.delete('decoder.bias')), /no decoder found \(expected "decoder.weight" \[\d+, 5\]/],
    ['one-bias', (m) => m.delete('internal_model.bias_hh_l0'), /"internal_model.bias_hh_l0" is missing/],
    ['wrong-shape', (m) => m.set('internal_model.weight_ih_l1', { shape: [20, 6], data: new Float32Array(120) }), /"internal_model.weight_ih_l1" has shape \[20, 6\], expected \[20, 5\]/],
    ['wrong-decoder', (m) => m.set('decoder.weight', { shape: [V + 1, H], data: new Float32Array((V + 1) * H) }), new RegExp(`"decoder.weight" has shape \\[${V + 1}, 5\\], expected \\[${V}, 5\\]`)],
    ['bidirectional', (m) => m.set('internal_model.weight_ih_l0_reverse', m.get('internal_model.weight_ih_l0')!), /bidirectional/],
    ['extra', (m) => m.set('embedding.weight', { shape: [V, 3], data: new Float32Array(V * 3) }), /unexpected tensors "embedding.weight"/],
    ['five-gates', (m) => m.set('internal_model.weight_hh_l0', { shape: [25, 5], data: new Float32Array(125) }), /has 5 gate blocks of 5; expected 4 \(LSTM\), 3 \(GRU\) or 1 \(RNN\)/],
    ['two-prefixes', (m) => m.set('other.weight_hh_l0', m.get('internal_model.weight_hh_l0')!), /several prefixes/],
  ];
  for (const [name, edit, re] of cases) {
    const m = new Map(w);
    edit(m);
    const dir = writeTorchDir(path.join(root, name), m);
    const before = hashTree(dir);
    assert.throws(() => loadTorchCheckpoint(dir), (e: Error) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'), name);
    assert.deepEqual(hashTree(dir), before);
  }
  const metaCases: [string, unknown, RegExp][] = [
    ['short-vocab', { id_to_byte: idToByte.slice(1) }, new RegExp(`"id_to_byte" has ${V - 1} entries but the model's vocabulary has ${V}`)],
    ['no-vocab', { vocab: idToByte }, /has no "id_to_byte" array/],
    ['bad-byte', { id_to_byte: [...idToByte.slice(1), 300] }, /"id_to_byte" is not a valid vocabulary \(300 is not a byte value/],
    ['repeated', { id_to_byte: [...idToByte.slice(1), idToByte[1]] }, /not a valid vocabulary \(repeated byte values\)/],
    ['bad-nonlinearity', { id_to_byte: idToByte, nonlinearity: 'gelu' }, /"nonlinearity" is "gelu"; nn.RNN has "tanh" or "relu"/],
    ['relu-lstm', { id_to_byte: idToByte, nonlinearity: 'relu' }, /"nonlinearity" "relu" is for an nn.RNN, but model.safetensors holds an nn.LSTM/],
  ];
  for (const [name, meta, re] of metaCases) {
    const dir = writeTorchDir(path.join(root, name), w, meta);
    assert.throws(() => loadTorchCheckpoint(dir), (e: Error) => e instanceof UserError && re.test(e.message), name);
  }
  const bad = writeTorchDir(path.join(root, 'badjson'), w);
  fs.writeFileSync(path.join(bad, 'meta.json'), '{"id_to_byte": [1,');
  assert.throws(() => loadTorchCheckpoint(bad), /meta.json is corrupt \(not valid JSON\)/);
  const trunc = writeTorchDir(path.join(root, 'trunc'), w);
  const f = path.join(trunc, 'model.safetensors');
  fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 200));
  assert.throws(() => loadAnyCheckpoint(trunc), /model.safetensors is not a valid safetensors file: .*truncated/);
  assert.throws(() => loadTorchCheckpoint(path.join(root, 'nope')), /checkpoint not found/);
  // A state dict without biases (bias=False) is fine: zeros.
  const nb = new Map([...w].filter(([k]) => !k.includes('bias_')));
  assert.equal(fromTorchStateDict(nb).weights.get('layers.0.b')!.data.every((v) => v === 0), true);
});

test('(b) against torch itself: LSTM, GRU, RNN and ReLU-RNN checkpoints written by PyTorch (max abs diff of log-probs < 1e-4)', async (t) => {
  const torch = torchPython((why) => t.skip(why));
  if (!torch) return;
  const { py, env } = torch;
  await useCpu();
  const root = tmpDir();
  const text = path.join(root, 'text.txt');
  fs.writeFileSync(text, 'Call me Ishmael. Some years ago - never mind how long precisely - having little money.\n');
  const out = execFileSync(py, [path.join(__dirname, 'fixtures', 'torch_checkpoint.py'), root, text], { encoding: 'utf8', env });
  const data = [...fs.readFileSync(text)];
  const results = out.trim().split('\n').map((l) => JSON.parse(l) as { cell: string; dir: string; logp: number[][] });
  assert.deepEqual(results.map((r) => r.cell), ['lstm', 'gru', 'rnn', 'rnn-relu']);
  for (const r of results) {
    const { model, vocab } = loadAnyCheckpoint(r.dir);
    assert.equal(model.config.modelType, r.cell.replace('-relu', ''));
    assert.equal(model.config.activation ?? 'tanh', r.cell === 'rnn-relu' ? 'relu' : 'tanh');
    const ids = data.map((b) => vocab.idOf(b));
    const ours = tf.tidy(() => {
      const f = model.forward(Int32Array.from(ids.slice(0, -1)), 1, ids.length - 1, model.zeroState(1));
      return tf.logSoftmax(f.logits.reshape([ids.length - 1, -1])).arraySync() as number[][];
    });
    const d = Math.max(...ours.map((row, i) => maxAbsDiff(row, r.logp[i])));
    console.log(`${r.cell}: max abs diff of log-probabilities vs torch = ${d.toExponential(2)} over ${ours.length} positions × ${vocab.size} bytes`);
    assert.ok(d < 1e-4, `${r.cell}: max abs diff ${d}`);
    model.dispose();
  }
});

test('(b) `eval` by default equals the loss torch computes for the text as one stream (6,000 bytes)', async (t) => {
  const torch = torchPython((why) => t.skip(why));
  if (!torch) return;
  const { py, env } = torch;
  const root = tmpDir();
  const text = path.join(root, 'text.txt');
  const { loadCorpus } = await import('../lib');
  fs.writeFileSync(text, (await loadCorpus('moby-dick')).data.subarray(50_000, 56_000));
  const out = execFileSync(py, [path.join(__dirname, 'fixtures', 'torch_checkpoint.py'), root, text], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  const data = [...fs.readFileSync(text)];
  // Only the first line (the LSTM): the ReLU RNN's outputs may overflow on a text this long.
  const lstm = JSON.parse(out.trim().split('\n')[0]) as { cell: string; dir: string; logp: number[][] };
  const idToByteOf = JSON.parse(fs.readFileSync(path.join(lstm.dir, 'meta.json'), 'utf8')).id_to_byte as number[];
  const torchLoss = -lstm.logp.reduce((s, row, i) => s + row[idToByteOf.indexOf(data[i + 1])], 0) / lstm.logp.length;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/unreasonable.js'), '-q', 'eval', '--checkpoint', lstm.dir, '--text', text, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, UNREASONABLE_BACKEND: 'cpu' },
  });
  assert.equal(r.status, 0, r.stderr);
  const ours = JSON.parse(r.stdout).loss as number;
  console.log(`torch ${torchLoss.toFixed(6)} nats/byte, eval (32 warmed-up streams) ${ours.toFixed(6)}`);
  assert.ok(Math.abs(ours - torchLoss) < 1e-4, `${ours} vs torch ${torchLoss}`);
});
