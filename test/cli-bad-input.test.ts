/**
 * Bad input, nothing lost: the real CLI (`node bin/unreasonable.js`, pure-JS cpu backend, tiny
 * models) on bad corpora, bad checkpoints, bad flags, NaN, a full disk and Ctrl-C. Every failure
 * must exit with the documented code, print exactly one line "error: …" on stderr (no stack
 * trace), and leave every checkpoint directory byte-for-byte as it was.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { loadCheckpoint, partFile, readCheckpointMeta } from '../lib';
import { describeError } from '../lib/cli/main';
import { UsageError, UserError } from '../lib/util/errors';
import { hashTree, tmpDir, useCpu } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'unreasonable.js');
const ENOSPC = path.join(__dirname, 'fixtures', 'enospc.cjs');
const TINY = ['--hidden', '8', '--layers', '1', '--batch', '4', '--seq', '8', '--eval-every', '0'];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { env?: Record<string, string>; node?: string[] } = {}): Run {
  const r = spawnSync(process.execPath, [...(opts.node ?? []), BIN, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, UNREASONABLE_BACKEND: 'cpu', ...opts.env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Words drawn deterministically: a corpus of a few KB with a small vocabulary. */
function words(n: number, seed: number): string {
  const w = ['the', 'sea', 'whale', 'ship', 'and', 'of', 'a', 'call', 'me', 'ishmael', 'white', 'deep'];
  let s = seed;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out.push(w[(s >>> 16) % w.length] + (i % 11 === 10 ? '.\n' : ''));
  }
  return out.join(' ');
}

let root = '';
const f: Record<string, string> = {};
let closedPort = 0;

/** Hash of a file or directory tree (undefined if absent). */
function snapshot(p: string): unknown {
  if (!fs.existsSync(p)) return undefined;
  if (fs.statSync(p).isDirectory()) return hashTree(p);
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

function copyCheckpoint(name: string): string {
  const d = path.join(root, name);
  fs.cpSync(f.good, d, { recursive: true });
  return d;
}

before(async () => {
  root = tmpDir('unreasonable-cli-');
  const file = (name: string, data: string | Buffer) => {
    f[name] = path.join(root, name);
    fs.writeFileSync(f[name], data);
  };
  file('text.txt', words(700, 1));
  file('other.txt', words(700, 2)); // same bytes, different text
  file('empty.txt', '');
  file('tiny.txt', 'hello world');
  file('one.txt', 'a');
  file('binary.bin', Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 2654435761) >>> 24)));
  f.adir = path.join(root, 'adir');
  fs.mkdirSync(f.adir);
  f.foreign = path.join(root, 'foreign');
  fs.mkdirSync(f.foreign);
  fs.writeFileSync(path.join(f.foreign, 'notes.txt'), 'not a checkpoint');
  f.emptyCache = path.join(root, 'cache');
  fs.mkdirSync(f.emptyCache);
  f.good = path.join(root, 'good');
  const r = cli(['-q', 'train', '--corpus', f['text.txt'], '--checkpoint', f.good, ...TINY, '--steps', '3']);
  assert.equal(r.status, 0, r.stderr);
  for (const name of ['truncated', 'badjson', 'nan', 'full', 'mismatch', 'othercorpus', 'exists', 'interrupt']) f[name] = copyCheckpoint(name);
  const st = path.join(f.truncated, partFile(readCheckpointMeta(f.truncated), 'model')!);
  fs.writeFileSync(st, fs.readFileSync(st).subarray(0, 300));
  fs.writeFileSync(path.join(f.badjson, 'checkpoint.json'), '{"format": "unreasonable-charrnn", ');
  // A port nothing listens on: the download fails at once (ECONNREFUSED), deterministically.
  const server = net.createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  closedPort = (server.address() as net.AddressInfo).port;
  await new Promise<void>((res) => server.close(() => res()));
});

after(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface Case {
  name: string;
  args: () => string[];
  code: number;
  /** stderr (one line) for failures; stdout for successes. */
  match?: RegExp;
  env?: () => Record<string, string>;
  node?: string[];
  /** Paths whose bytes must not change. */
  keep?: () => string[];
  /** Paths that must not exist afterwards. */
  absent?: () => string[];
}

const newDir = () => path.join(root, `new-${Math.random().toString(36).slice(2)}`);
const offlineEnv = () => ({ UNREASONABLE_DATA_DIR: f.emptyCache, UNREASONABLE_TINYSHAKESPEARE_URL: `http://127.0.0.1:${closedPort}/input.txt` });
let lastNew = '';
const fresh = () => (lastNew = newDir());

const CASES: Case[] = [
  // Corpora
  { name: 'missing corpus file', args: () => ['train', '--corpus', path.join(root, 'missing.txt'), '--checkpoint', fresh(), ...TINY], code: 1, match: /^error: corpus file not found: .*missing\.txt$/, absent: () => [lastNew] },
  { name: 'empty corpus', args: () => ['train', '--corpus', f['empty.txt'], '--checkpoint', fresh(), ...TINY], code: 1, match: /^error: corpus empty\.txt \(.*empty\.txt\) is empty$/, absent: () => [lastNew] },
  { name: 'a directory as corpus', args: () => ['train', '--corpus', f.adir, '--checkpoint', fresh(), ...TINY], code: 1, match: /^error: corpus path .*adir is not a file$/, absent: () => [lastNew] },
  { name: 'corpus smaller than one batch', args: () => ['train', '--corpus', f['tiny.txt'], '--checkpoint', fresh(), ...TINY], code: 1, match: /^error: training data has \d+ bytes, too small for one batch of batchSize × seqLength \+ 1 = 4 × 8 \+ 1 = 33 bytes/, absent: () => [lastNew] },
  { name: 'unknown corpus name', args: () => ['train', '--corpus', 'shakespear', '--checkpoint', fresh(), ...TINY], code: 1, match: /^error: unknown corpus "shakespear": use a file path or one of moby-dick, moby-dick-64, names, tinyshakespeare, linux, coreutils$/, absent: () => [lastNew] },
  { name: 'tinyshakespeare offline with an empty cache (train)', args: () => ['train', '--corpus', 'tinyshakespeare', '--checkpoint', fresh(), ...TINY], env: offlineEnv, code: 1, match: /^error: tinyshakespeare is not cached and could not be downloaded \(fetch failed: ECONNREFUSED\): save http:\/\/127\.0\.0\.1:\d+\/input\.txt as .*cache\/tinyshakespeare\.txt$/, keep: () => [f.emptyCache], absent: () => [lastNew] },
  { name: 'tinyshakespeare offline (corpora fetch)', args: () => ['corpora', 'fetch', 'tinyshakespeare'], env: offlineEnv, code: 1, match: /^error: tinyshakespeare is not cached and could not be downloaded \(fetch failed: ECONNREFUSED\)/, keep: () => [f.emptyCache] },
  { name: 'corpora fetch of an unknown name', args: () => ['corpora', 'fetch', 'nope'], code: 2, match: /^error: unknown corpus "nope": use one of moby-dick, moby-dick-64, names, tinyshakespeare, linux, coreutils$/ },
  { name: 'binary corpus trains (bytes are bytes)', args: () => ['train', '--corpus', f['binary.bin'], '--checkpoint', (f.binck = newDir()), ...TINY, '--steps', '2'], code: 0 },
  { name: '…and samples', args: () => ['sample', '--checkpoint', f.binck, '--length', '40'], code: 0, keep: () => [f.binck] },
  { name: 'binary corpus with --full-vocab', args: () => ['train', '--corpus', f['binary.bin'], '--checkpoint', newDir(), ...TINY, '--steps', '2', '--full-vocab'], code: 0 },
  // Sampling and evaluation input
  { name: 'prime bytes outside the vocabulary', args: () => ['sample', '--checkpoint', f.good, '--prime', 'Ω the'], code: 1, match: /^error: 2 byte value\(s\) not in the model's vocabulary: 0xce, 0xa9 \(use skipUnknown \/ --skip-unknown to drop them\)$/, keep: () => [f.good] },
  { name: 'prime with --skip-unknown', args: () => ['sample', '--checkpoint', f.good, '--prime', 'Ω the', '--skip-unknown', '--length', '25'], code: 0, match: /^ the[a-z .\n]{25}$/, keep: () => [f.good] },
  { name: 'sample prints the prime, then the continuation', args: () => ['sample', '--checkpoint', f.good, '--prime', 'call me', '--length', '30'], code: 0, match: /^call me[a-z .\n]{30}$/, keep: () => [f.good] },
  { name: 'sample --no-echo-prime prints only the continuation', args: () => ['sample', '--checkpoint', f.good, '--prime', 'call me', '--length', '30', '--no-echo-prime'], code: 0, match: /^[a-z .\n]{30}$/, keep: () => [f.good] },
  { name: 'prime with no known byte', args: () => ['sample', '--checkpoint', f.good, '--prime', 'ΩΩ', '--skip-unknown'], code: 1, match: /^error: no byte of the prime text is in the vocabulary$/ },
  { name: 'eval: text file missing', args: () => ['eval', '--checkpoint', f.good, '--text', path.join(root, 'nope.txt')], code: 1, match: /^error: text file not found: .*nope\.txt$/ },
  { name: 'eval: text of one byte', args: () => ['eval', '--checkpoint', f.good, '--text', f['one.txt']], code: 1, match: /^error: .*one\.txt has 1 usable byte\(s\): need at least 2 to measure a loss$/ },
  // Checkpoints
  { name: 'truncated checkpoint file (sample)', args: () => ['sample', '--checkpoint', f.truncated], code: 1, match: /^error: checkpoint file .*truncated\/model-[0-9a-f]{12}\.safetensors is corrupt or truncated \(sha256 mismatch\)$/, keep: () => [f.truncated] },
  { name: 'truncated checkpoint file (resume)', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', f.truncated, '--resume'], code: 1, match: /corrupt or truncated \(sha256 mismatch\)$/, keep: () => [f.truncated] },
  { name: 'corrupt checkpoint.json', args: () => ['eval', '--checkpoint', f.badjson, '--text', f['text.txt']], code: 1, match: /^error: .*badjson\/checkpoint\.json is corrupt \(not valid JSON\)$/, keep: () => [f.badjson] },
  { name: 'checkpoint not found', args: () => ['sample', '--checkpoint', path.join(root, 'nowhere')], code: 1, match: /^error: checkpoint not found: .*nowhere$/, absent: () => [path.join(root, 'nowhere')] },
  { name: 'foreign checkpoint dir (sample)', args: () => ['sample', '--checkpoint', f.foreign], code: 1, match: /^error: .*foreign is not a checkpoint: checkpoint\.json is missing$/, keep: () => [f.foreign] },
  { name: 'foreign dir as training target', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', f.foreign, ...TINY], code: 1, match: /^error: .*foreign is not empty and holds no checkpoint \(notes\.txt\): refusing to replace it; choose a new or empty directory$/, keep: () => [f.foreign] },
  { name: 'foreign dir resumed', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', f.foreign, '--resume'], code: 1, match: /is not empty and holds no checkpoint/, keep: () => [f.foreign] },
  { name: 'resume with nothing there', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--resume'], code: 1, match: /^error: nothing to resume: .* holds no checkpoint$/, absent: () => [lastNew] },
  { name: 'existing checkpoint without --resume', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', f.exists, ...TINY], code: 2, match: /^error: .*exists already holds a checkpoint: add --resume to continue it, or --force to start afresh/, keep: () => [f.exists] },
  { name: 'resume with a different --hidden', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', f.mismatch, '--resume', '--hidden', '16', '--batch', '4', '--seq', '9'], code: 2, match: /^error: cannot resume .*mismatch with --hidden 16 \(checkpoint: 8\), --seq 9 \(checkpoint: 8\): a resumed run keeps the model and batch layout/, keep: () => [f.mismatch] },
  { name: 'resume on a different corpus', args: () => ['train', '--corpus', f['other.txt'], '--checkpoint', f.othercorpus, '--resume', '--steps', '5'], code: 1, match: /^error: cannot resume from .*othercorpus: the training data differs from the data it was trained on \(use the same --corpus and --val-frac as the run that wrote it\)$/, keep: () => [f.othercorpus] },
  { name: 'resume with another --val-frac', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', f.othercorpus, '--resume', '--steps', '5', '--val-frac', '0.2'], code: 1, match: /the training data differs/, keep: () => [f.othercorpus] },
  { name: 'NaN loss (huge learning rate, no clipping)', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', f.nan, '--resume', '--steps', '10', '--lr', '1e38', '--clip', '0'], code: 1, match: /^error: loss became (NaN|Infinity) \(gradient norm \S+\) at step 5: training stopped, the last good checkpoint is kept; lower the learning rate or enable gradient clipping$/, keep: () => [f.nan] },
  { name: 'disk full while saving', node: ['--require', ENOSPC], args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', f.full, '--resume', '--steps', '5'], code: 1, match: /^error: could not save checkpoint to .*full: ENOSPC: no space left on device, write \(the previous checkpoint, if any, is intact\)$/, keep: () => [f.full] },
  { name: 'checkpoint parent is a file', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', path.join(f['text.txt'], 'ck'), ...TINY], code: 1, match: /^error: cannot create checkpoint directory .*text\.txt\/ck: .*text\.txt is not a directory$/, keep: () => [f['text.txt']] },
  { name: 'checkpoint below a file (sample)', args: () => ['sample', '--checkpoint', path.join(f['text.txt'], 'ck')], code: 1, match: /^error: checkpoint not found: .*text\.txt\/ck$/, keep: () => [f['text.txt']] },
  { name: 'checkpoint path is a file', args: () => ['sample', '--checkpoint', f['text.txt']], code: 1, match: /^error: checkpoint .*text\.txt is not a directory$/, keep: () => [f['text.txt']] },
  { name: 'export into a directory with other files', args: () => ['export', '--checkpoint', f.good, '--out', f.foreign], code: 1, match: /^error: export target .*foreign holds other files \(notes\.txt\): choose a new or empty directory$/, keep: () => [f.foreign, f.good] },
  // Bad flags and values: exit 2 before any work
  { name: '--hidden 0', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--hidden', '0'], code: 2, match: /^error: option '--hidden <n>' argument '0' is invalid\. must be an integer from 1 to 65536\.$/, absent: () => [lastNew] },
  { name: '--hidden abc', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--hidden', 'abc'], code: 2, match: /argument 'abc' is invalid\. expected an integer\.$/, absent: () => [lastNew] },
  { name: '--steps 2.5', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--steps', '2.5'], code: 2, match: /--steps <n>' argument '2\.5' is invalid\. expected an integer\.$/ },
  { name: '--lr -1', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--lr', '-1'], code: 2, match: /--lr <x>' argument '-1' is invalid\. must be in \(0, ∞\)\.$/ },
  { name: '--lr fast', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--lr', 'fast'], code: 2, match: /argument 'fast' is invalid\. expected a number\.$/ },
  { name: '--dropout 1', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--dropout', '1'], code: 2, match: /--dropout <p>' argument '1' is invalid\. must be in \[0, 1\)\.$/ },
  { name: '--val-frac 1.5', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--val-frac', '1.5'], code: 2, match: /--val-frac <x>' argument '1\.5' is invalid/ },
  { name: '--model transformer', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--model', 'transformer'], code: 2, match: /argument 'transformer' is invalid\. Allowed choices are rnn, lstm, gru\.$/ },
  { name: '--optimizer sgd', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--optimizer', 'sgd'], code: 2, match: /Allowed choices are rmsprop, adam, adagrad\.$/ },
  { name: '--steps with --epochs', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--steps', '10', '--epochs', '2'], code: 2, match: /^error: give --steps or --epochs, not both$/, absent: () => [lastNew] },
  { name: '--resume with --force', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', f.good, '--resume', '--force'], code: 2, match: /^error: --resume and --force exclude each other$/, keep: () => [f.good] },
  { name: 'misspelt flag', args: () => ['train', '--corpus', f['text.txt'], '--checkpoint', fresh(), '--hiden', '8'], code: 2, match: /^error: unknown option '--hiden' \(Did you mean --hidden\?\)$/ },
  { name: 'missing --checkpoint', args: () => ['train', '--corpus', f['text.txt']], code: 2, match: /^error: required option '--checkpoint <dir>' not specified$/ },
  { name: 'missing --corpus', args: () => ['train', '--checkpoint', fresh()], code: 2, match: /^error: required option '--corpus <name\|path>' not specified$/, absent: () => [lastNew] },
  { name: 'sample --temperature -1', args: () => ['sample', '--checkpoint', f.good, '--temperature', '-1'], code: 2, match: /--temperature <t>' argument '-1' is invalid\. must be in \[0, 100\]\.$/ },
  { name: 'sample --length x', args: () => ['sample', '--checkpoint', f.good, '--length', 'x'], code: 2, match: /--length <n>' argument 'x' is invalid/ },
  { name: 'eval without --text', args: () => ['eval', '--checkpoint', f.good], code: 2, match: /^error: required option '--text <file>' not specified$/ },
  { name: 'unknown command', args: () => ['trian'], code: 2, match: /^error: unknown command 'trian' \(Did you mean train\?\)$/ },
  { name: 'unknown backend', args: () => ['--backend', 'gpu', 'corpora'], code: 2, match: /argument 'gpu' is invalid\. Allowed choices are tensorflow, wasm, cpu\.$/ },
];

test('sample: the output with the prime is the prime followed by the same continuation', () => {
  const a = cli(['-q', 'sample', '--checkpoint', f.good, '--prime', 'the sea', '--length', '40', '--seed', '3']);
  const b = cli(['-q', 'sample', '--checkpoint', f.good, '--prime', 'the sea', '--length', '40', '--seed', '3', '--no-echo-prime']);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(b.stdout.length, 40);
  assert.equal(a.stdout, `the sea${b.stdout}`);
});

test('train without a terminal prints a progress line whenever --log-seconds passed, not only every --log-every steps', () => {
  const dir = newDir();
  const r = cli(['train', '--corpus', f['text.txt'], '--checkpoint', dir, ...TINY, '--steps', '40', '--log-every', '1000000', '--log-seconds', '0.001']);
  assert.equal(r.status, 0, r.stderr);
  const steps = r.stderr.split('\n').filter((l) => /^step \d+\/40 /.test(l)).map((l) => Number(/^step (\d+)/.exec(l)![1]));
  // The first step always; then one line per step (each takes over 1 ms), the step counter rising.
  assert.ok(steps.length >= 20, `progress lines: ${steps.join(', ')}\n${r.stderr}`);
  assert.deepEqual(steps, [...steps].sort((x, y) => x - y));
  const quiet = cli(['train', '--corpus', f['text.txt'], '--checkpoint', newDir(), ...TINY, '--steps', '40', '--log-every', '1000000', '--log-seconds', '1000']);
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.equal(quiet.stderr.split('\n').filter((l) => /^step \d+\/40 /.test(l)).length, 2, `only the first step and the final validation: ${quiet.stderr}`);
});

function leftovers(): string[] {
  return fs.readdirSync(root).filter((n) => /\.(tmp|old)-\d+$/.test(n));
}

for (const c of CASES) {
  test(`CLI: ${c.name} → exit ${c.code}`, () => {
    const keep = c.keep?.() ?? [];
    const before = keep.map(snapshot);
    const args = c.args();
    const r = cli(['-q', ...args], { env: c.env?.(), node: c.node });
    const show = `${args.join(' ')}\nexit ${r.status}\nstderr: ${r.stderr}`;
    assert.equal(r.status, c.code, show);
    if (c.code === 0) {
      assert.equal(r.stderr, '', show);
      if (c.match) assert.match(r.stdout, c.match);
    } else {
      const lines = r.stderr.replace(/\n$/, '').split('\n');
      assert.equal(lines.length, 1, `stderr must be one line: ${show}`);
      assert.match(lines[0], /^error: /, show);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      assert.doesNotMatch(r.stderr, /internal:/, 'a user-facing error, not an internal one');
      if (c.match) assert.match(lines[0], c.match, show);
      assert.equal(r.stdout, '', 'nothing on stdout');
    }
    keep.forEach((p, i) => assert.deepEqual(snapshot(p), before[i], `${p} changed`));
    for (const p of c.absent?.() ?? []) assert.equal(fs.existsSync(p), false, `${p} was created`);
    assert.deepEqual(leftovers(), [], 'no temporary or half-swapped directories left');
  });
}

test('an unexpected error is one line "error: internal: …" (exit 1); UserError and UsageError keep their codes', () => {
  assert.deepEqual(describeError(new TypeError('x is not a function\n    at foo (bar.ts:1:2)')), { line: 'error: internal: x is not a function at foo (bar.ts:1:2)', code: 1 });
  assert.deepEqual(describeError(new UserError('no such thing')), { line: 'error: no such thing', code: 1 });
  assert.deepEqual(describeError(new UsageError('bad flag')), { line: 'error: bad flag', code: 2 });
  assert.deepEqual(describeError('weird'), { line: 'error: internal: weird', code: 1 });
});

/** Run the CLI asynchronously, to signal it while it trains. */
function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, UNREASONABLE_BACKEND: 'cpu' } });
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr += d;
    for (const w of waiters.splice(0)) if (w.re.test(stderr)) w.resolve();
    else waiters.push(w);
  });
  child.stdout.resume();
  const exit = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(stderr)) return resolve();
      waiters.push({ re, resolve });
      exit.then(() => reject(new Error(`exited before ${re}: ${stderr}`)));
    });
  return { child, exit, waitFor, stderr: () => stderr };
}

const stepOf = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).training as { step: number }).step;

test('Ctrl-C during training saves a checkpoint, exits 130, and train --resume continues from its step', async () => {
  await useCpu();
  const dir = path.join(tmpDir(), 'run');
  const run = start(['train', '--corpus', f['text.txt'], '--checkpoint', dir, ...TINY, '--steps', '100000', '--log-every', '1000000']);
  await run.waitFor(/^step 1\/100000 /m);
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 130, run.stderr());
  const lines = run.stderr().trimEnd().split('\n');
  assert.match(lines.at(-2)!, /^SIGINT: stopping after the current step and saving a checkpoint/);
  const m = /^interrupted at step (\d+)\/100000: checkpoint saved to (.+); resume with: unreasonable train --checkpoint (\S+) --resume$/.exec(lines.at(-1)!);
  assert.ok(m, lines.at(-1));
  const k = Number(m[1]);
  assert.ok(k >= 1 && k < 100000);
  assert.equal(m[2], dir);
  assert.equal(stepOf(dir), k);
  const saved = hashTree(dir);

  // The printed command is enough: the checkpoint records the corpus and --val-frac.
  const r = cli(['train', '--checkpoint', dir, '--resume', '--steps', String(k + 3)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`^resuming from step ${k} of ${k + 3} `, 'm'));
  assert.match(r.stderr, new RegExp(`^done: step ${k + 3}/${k + 3} `, 'm'));
  assert.equal(stepOf(dir), k + 3);
  assert.notDeepEqual(hashTree(dir), saved);
});

test('one Ctrl-C delivered twice (by the terminal and by npx/npm run, which forward it) still stops after the step and saves', async () => {
  await useCpu();
  const dir = f.interrupt;
  const run = start(['train', '--corpus', f['text.txt'], '--checkpoint', dir, '--resume', '--steps', '100000', '--log-every', '1000000']);
  await run.waitFor(/^step 4\/100000 /m);
  run.child.kill('SIGINT');
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 130, run.stderr());
  const m = /^interrupted at step (\d+)\/100000: checkpoint saved to /.exec(run.stderr().trimEnd().split('\n').at(-1)!);
  assert.ok(m, run.stderr());
  const ck = loadCheckpoint(dir); // verifies every file's sha256
  assert.equal((ck.meta.training as { step: number }).step, Number(m[1]));
  ck.model.dispose();
  assert.deepEqual(fs.readdirSync(path.dirname(dir)).filter((n) => /\.(tmp|old)-\d+$/.test(n)), []);
});
