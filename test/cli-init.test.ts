/**
 * `unreasonable train --init char-rnn|torch --forget-bias x`: the initial weights they give, that
 * the checkpoint records them, that a resume checks them, and bad values (exit 2, one line); the
 * same record-and-check for --weight-drop.
 * Runs the real CLI on the cpu backend with a tiny model; one step at --lr 1e-9 keeps the initial
 * weights (to 1e-8).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { loadCheckpoint } from '../lib';
import { DEFAULT_INIT, initConfig, initOf } from '../lib/nn/init';
import { hashTree, tmpDir, useCpu } from './helpers';

const BIN = path.resolve(__dirname, '..', 'bin', 'unreasonable.js');
const H = 16;
const TINY = ['--hidden', String(H), '--layers', '2', '--batch', '4', '--seq', '8', '--eval-every', '0'];

function cli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, UNREASONABLE_BACKEND: 'cpu' } });
  return { status: r.status, stderr: r.stderr };
}

let root = '';
let text = '';
before(async () => {
  await useCpu();
  root = tmpDir('unreasonable-init-');
  text = path.join(root, 'text.txt');
  fs.writeFileSync(text, 'the whale and the sea, call me ishmael; the white whale of the deep sea.\n'.repeat(40));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Train `steps` steps into a new dir with `flags`; the checkpoint's config and layer biases / weights. */
function train(name: string, flags: string[], steps = 1, lr = '1e-9') {
  const dir = path.join(root, name);
  const r = cli(['train', '--corpus', text, '--checkpoint', dir, ...TINY, '--steps', String(steps), '--lr', lr, ...flags]);
  assert.equal(r.status, 0, r.stderr);
  const ck = loadCheckpoint(dir);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'));
  const biases = ck.model.cells.map((c) => Array.from(c.b.dataSync()));
  const weights = ck.model.cells.flatMap((c) => [...c.Wx.dataSync(), ...c.Wh.dataSync()]);
  ck.model.dispose();
  return { dir, config: json.model, biases, weights, stderr: r.stderr };
}

const maxAbs = (xs: number[]) => xs.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
/** Every value within 1e-6 of `v`. */
const allNear = (xs: number[], v: number) => xs.length > 0 && xs.every((x) => Math.abs(x - v) <= 1e-6);

test('--init char-rnn: weights in ±0.08, forget-gate bias 1, recorded in the checkpoint', () => {
  const t = train('charrnn', ['--init', 'char-rnn'], 1);
  assert.equal(t.config.initScale, 0.08);
  assert.equal(t.config.forgetBias, 1);
  for (const b of t.biases) {
    assert.ok(allNear(b.slice(H, 2 * H), 1), String(b.slice(H, 2 * H))); // gates i, f, o, g: f is the second block
    assert.ok(maxAbs([...b.slice(0, H), ...b.slice(2 * H)]) <= 0.08 + 1e-6, String(b));
  }
  assert.ok(maxAbs(t.weights) <= 0.08 + 1e-6 && maxAbs(t.weights) > 0.07, String(maxAbs(t.weights)));
  assert.match(t.stderr, /init char-rnn \(uniform ±0\.08, forget-gate bias 1\)/);
});

test('--init torch: weights in ±1/√hidden, forget-gate bias 0; --forget-bias overrides it', () => {
  const s = 1 / Math.sqrt(H); // 0.25
  const t = train('torch', ['--init', 'torch'], 1);
  assert.equal(t.config.initScale, s);
  assert.equal(t.config.forgetBias, 0);
  for (const b of t.biases) assert.ok(allNear(b.slice(H, 2 * H), 0));
  assert.ok(maxAbs(t.weights) <= s + 1e-6 && maxAbs(t.weights) > 0.9 * s);
  const o = train('torch-fb', ['--init', 'torch', '--forget-bias', '0.5'], 1);
  assert.equal(o.config.forgetBias, 0.5);
  for (const b of o.biases) assert.ok(allNear(b.slice(H, 2 * H), 0.5));
});

test(`the default init is ${DEFAULT_INIT}`, () => {
  const t = train('default', [], 1);
  assert.deepEqual({ initScale: t.config.initScale, forgetBias: t.config.forgetBias }, initConfig({ init: DEFAULT_INIT, hiddenSize: H, modelType: 'lstm' }));
});

test('initOf reads the init back, and an old checkpoint without forgetBias had 1', () => {
  assert.deepEqual(initOf({ modelType: 'lstm', hiddenSize: 128, initScale: 1 / Math.sqrt(128), forgetBias: 0 }), { init: 'torch', forgetBias: 0 });
  assert.deepEqual(initOf({ modelType: 'lstm', hiddenSize: 128, initScale: 0.08 }), { init: 'char-rnn', forgetBias: 1 });
  assert.deepEqual(initOf({ modelType: 'gru', hiddenSize: 128, initScale: 0.05 }), { init: undefined, forgetBias: undefined });
});

test('--weight-drop is saved in the checkpoint, a resume keeps it, a different value or 1 exits 2 with one line', () => {
  const t = train('weight-drop', ['--weight-drop', '0.3'], 2);
  assert.equal(t.config.weightDrop, 0.3);
  const before = hashTree(t.dir);
  const bad = cli(['train', '--checkpoint', t.dir, '--resume', '--steps', '3', '--weight-drop', '0.1']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /^error: cannot resume .*--weight-drop 0\.1 \(checkpoint: 0\.3\): a resumed run keeps the model and batch layout/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.deepEqual(hashTree(t.dir), before);
  const ok = cli(['-q', 'train', '--checkpoint', t.dir, '--resume', '--steps', '3']);
  assert.equal(ok.status, 0, ok.stderr);
  const json = JSON.parse(fs.readFileSync(path.join(t.dir, 'checkpoint.json'), 'utf8'));
  assert.deepEqual([json.training.step, json.model.weightDrop], [3, 0.3]);
  const one = cli(['train', '--corpus', text, '--checkpoint', path.join(root, 'weight-drop-1'), ...TINY, '--steps', '1', '--weight-drop', '1']);
  assert.equal(one.status, 2);
  assert.match(one.stderr.trim(), /^error: option '--weight-drop <p>' argument '1' is invalid\. must be in \[0, 1\)\.$/);
});

test('bad --init / --forget-bias values exit 2 with one line', () => {
  const cases: [string[], RegExp][] = [
    [['--init', 'xavier'], /^error: option '--init <name>' argument 'xavier' is invalid\. Allowed choices are char-rnn, torch\.$/],
    [['--forget-bias', 'one'], /^error: option '--forget-bias <x>' argument 'one' is invalid\. expected a number\.$/],
    [['--forget-bias', '1e9'], /^error: option '--forget-bias <x>' argument '1e9' is invalid\. must be in \[-100, 100\]\.$/],
    [['--model', 'gru', '--forget-bias', '1'], /^error: --forget-bias applies to an LSTM only \(--model gru has no forget gate\)$/],
  ];
  for (const [flags, re] of cases) {
    const dir = path.join(root, `bad-${Math.random().toString(36).slice(2)}`);
    const r = cli(['train', '--corpus', text, '--checkpoint', dir, ...TINY, '--steps', '1', ...flags]);
    assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], re);
    assert.equal(fs.existsSync(dir), false);
  }
});

test('a resume checks --init and --forget-bias against the checkpoint', () => {
  const t = train('resume', ['--init', 'char-rnn', '--forget-bias', '0.5'], 2);
  const before = hashTree(t.dir);
  const conflicts: [string[], RegExp][] = [
    [['--init', 'torch'], /--init torch \(checkpoint: char-rnn\)/],
    [['--forget-bias', '1'], /--forget-bias 1 \(checkpoint: 0\.5\)/],
    [['--init', 'torch', '--forget-bias', '0'], /--init torch \(checkpoint: char-rnn\), --forget-bias 0 \(checkpoint: 0\.5\)/],
  ];
  for (const [flags, re] of conflicts) {
    const r = cli(['train', '--checkpoint', t.dir, '--resume', '--steps', '3', ...flags]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^error: cannot resume .*: a resumed run keeps the model and batch layout/);
    assert.match(r.stderr, re);
    assert.deepEqual(hashTree(t.dir), before);
  }
  const ok = cli(['-q', 'train', '--checkpoint', t.dir, '--resume', '--steps', '3', '--init', 'char-rnn', '--forget-bias', '0.5']);
  assert.equal(ok.status, 0, ok.stderr);
  const json = JSON.parse(fs.readFileSync(path.join(t.dir, 'checkpoint.json'), 'utf8'));
  assert.equal(json.training.step, 3);
  assert.deepEqual([json.model.initScale, json.model.forgetBias], [0.08, 0.5]);
});

test('--forget-bias on resuming a GRU checkpoint is a conflict', () => {
  const t = train('gru', ['--model', 'gru', '--init', 'torch'], 1);
  assert.equal(t.config.initScale, 1 / Math.sqrt(H));
  assert.equal(t.config.forgetBias, undefined);
  const r = cli(['train', '--checkpoint', t.dir, '--resume', '--steps', '2', '--forget-bias', '1']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--forget-bias 1 \(checkpoint: gru, no forget gate\)/);
});

test('--activation relu|gelu (vanilla RNN): recorded in the checkpoint, checked on --resume, refused for an LSTM', () => {
  for (const act of ['relu', 'gelu']) {
    const t = train(`rnn-${act}`, ['--model', 'rnn', '--activation', act], 2, '1e-3');
    assert.equal(t.config.modelType, 'rnn');
    assert.equal(t.config.activation, act);
    const ck = loadCheckpoint(t.dir);
    assert.equal(ck.model.config.activation, act);
    ck.model.dispose();
  }
  const tanh = train('rnn-tanh', ['--model', 'rnn'], 1);
  assert.equal(tanh.config.activation ?? 'tanh', 'tanh');
  const before = hashTree(path.join(root, 'rnn-relu'));
  const r = cli(['train', '--checkpoint', path.join(root, 'rnn-relu'), '--resume', '--activation', 'gelu', '--steps', '3']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--activation gelu \(checkpoint: relu\)/);
  assert.deepEqual(hashTree(path.join(root, 'rnn-relu')), before);
  const ok = cli(['train', '--checkpoint', path.join(root, 'rnn-relu'), '--resume', '--activation', 'relu', '--steps', '3']);
  assert.equal(ok.status, 0, ok.stderr);
  const lstm = cli(['train', '--corpus', text, '--checkpoint', path.join(root, 'lstm-relu'), ...TINY, '--steps', '1', '--activation', 'relu']);
  assert.equal(lstm.status, 2, lstm.stderr);
  assert.equal(lstm.stderr.trim().split('\n').filter((l) => l.startsWith('error')).length, 1, lstm.stderr);
  assert.match(lstm.stderr, /--activation relu is for --model rnn only/);
  assert.equal(fs.existsSync(path.join(root, 'lstm-relu', 'checkpoint.json')), false);
});
