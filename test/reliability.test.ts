/**
 * Reliability in real use, with the real CLI process (`node bin/unreasonable.js`, cpu backend,
 * tiny models, a checkpoint every step): readers during training, one trainer per directory,
 * stale locks of killed trainers, and kill -9 at random moments followed by a resume.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ByteVocab,
  CharModel,
  LOCK_FILE,
  LockedError,
  lockCheckpointDir,
  LockOwner,
  loadCheckpoint,
  processStartTime,
  readCheckpointMeta,
  sample,
  saveCheckpoint,
  Trainer,
  UserError,
} from '../lib';
import { tmpDir, useCpu } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'unreasonable.js');
const TINY = ['--hidden', '8', '--layers', '1', '--batch', '4', '--seq', '8', '--eval-every', '0'];
const ENV = { ...process.env, UNREASONABLE_BACKEND: 'cpu' };

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

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: ENV });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI running in the background; `steps` are the step numbers it has printed. */
function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let lastStep = 0;
  const waiters: { ok: () => boolean; resolve: () => void }[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr += d;
    for (const m of d.matchAll(/^step (\d+)\//gm)) lastStep = Math.max(lastStep, Number(m[1]));
    for (const w of waiters.splice(0)) if (w.ok()) w.resolve();
    else waiters.push(w);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  /** Resolves once a step ≥ n has been printed. */
  const waitStep = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const ok = () => lastStep >= n;
      if (ok()) return resolve();
      waiters.push({ ok, resolve });
      exit.then(() => reject(new Error(`exited before step ${n}: ${stderr}`)));
    });
  return { child, exit, waitStep, stderr: () => stderr, lastStep: () => lastStep };
}

const stepOf = (dir: string) => (readCheckpointMeta(dir).training as { step: number }).step;

function corpus(): string {
  const file = path.join(tmpDir(), 'text.txt');
  fs.writeFileSync(file, words(3000, 7));
  return file;
}

function owner(pid: number, over: Partial<LockOwner> = {}): LockOwner {
  return { pid, hostname: os.hostname(), startTime: processStartTime(pid), command: 'test', since: new Date().toISOString(), ...over };
}

/** A live process that is not a trainer, to own locks in tests. */
async function sleeper(): Promise<ChildProcess> {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((r) => c.on('spawn', r));
  return c;
}

const oneLine = (s: string) => assert.doesNotMatch(s.trimEnd(), /\n/, s);

test('the lock: a live owner refuses, a gone or reused pid is stale, force takes over, the loser finds out', async () => {
  const live = await sleeper();
  try {
    const dir = path.join(tmpDir(), 'ck');
    fs.mkdirSync(dir);
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, JSON.stringify(owner(live.pid!)));
    assert.throws(
      () => lockCheckpointDir(dir),
      (e: Error) => e instanceof LockedError && new RegExp(`^checkpoint directory ${dir} is in use by another trainer \\(pid ${live.pid} on ${os.hostname()}, since .*\\): wait for it to finish or stop it; if it is not running, remove ${file} or pass --force-lock$`).test(e.message),
    );
    // Another host cannot be checked: held.
    fs.writeFileSync(file, JSON.stringify(owner(live.pid!, { hostname: 'elsewhere' })));
    assert.throws(() => lockCheckpointDir(dir), /in use by another trainer \(pid \d+ on elsewhere.*\(another host: this machine cannot check whether it still runs\)/);
    // The same pid, started at another time: the pid was reused, the lock is stale.
    if (processStartTime(live.pid!)) {
      fs.writeFileSync(file, JSON.stringify(owner(live.pid!, { startTime: '1' })));
      const notes: string[] = [];
      const l = lockCheckpointDir(dir, { onNote: (n) => notes.push(n) });
      assert.match(notes.join('\n'), /^took over the stale lock of .* \(pid \d+ on .*\): its process is gone \(the pid now belongs to another process\)$/);
      assert.equal((JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner).pid, process.pid);
      // A second holder in this process shares it; the file goes with the last release.
      const again = lockCheckpointDir(dir);
      again.release();
      assert.ok(fs.existsSync(file));
      l.release();
      assert.ok(!fs.existsSync(file));
    }
    // A process that has exited: stale.
    const gone = spawnSync('true');
    fs.writeFileSync(file, JSON.stringify(owner(gone.pid!, { startTime: '1' })));
    const notes: string[] = [];
    const l = lockCheckpointDir(dir, { onNote: (n) => notes.push(n) });
    assert.match(notes[0], /its process is gone/);
    // Forced by another trainer: our next check fails with a one-line message.
    fs.writeFileSync(file, JSON.stringify(owner(live.pid!)));
    assert.throws(() => l.assertHeld(), (e: Error) => e instanceof UserError && /^lost the lock on checkpoint directory .*: another trainer \(pid \d+ .*\) took it over; stopping without saving/.test(e.message));
    l.release();
    assert.ok(fs.existsSync(file), 'release must not remove a lock that is not ours');
    const forced: string[] = [];
    lockCheckpointDir(dir, { force: true, onNote: (n) => forced.push(n) }).release();
    assert.match(forced[0], /^took over the lock of .* from a running trainer \(pid \d+ .*\): forced$/);
    // A fresh directory created for the lock is removed again if nothing was saved into it.
    const fresh = path.join(tmpDir(), 'new', 'ck');
    lockCheckpointDir(fresh).release();
    assert.ok(!fs.existsSync(fresh));
  } finally {
    live.kill();
  }
});

test('the library Trainer refuses a directory another trainer holds', async () => {
  await useCpu();
  const live = await sleeper();
  try {
    const dir = path.join(tmpDir(), 'ck');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(owner(live.pid!)));
    const vocab = ByteVocab.fromData(words(300, 1));
    const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 4, numLayers: 1, dropout: 0 });
    const tr = new Trainer(model, vocab, { train: vocab.encodeBytes(Buffer.from(words(300, 1))) }, { batchSize: 2, seqLength: 4, steps: 2, checkpointDir: dir });
    await assert.rejects(tr.run(), (e: Error) => e instanceof LockedError && /is in use by another trainer \(pid \d+ .*pass forceLock: true \(CLI: --force-lock\)$/.test(e.message));
    assert.equal(tr.step, 0);
    assert.deepEqual(fs.readdirSync(dir), [LOCK_FILE]);
    tr.dispose();
    model.dispose();
  } finally {
    live.kill();
  }
});

test('readers during training always load one complete version; a second trainer is refused; a kill -9 leaves a stale lock that the next trainer takes over', { timeout: 180_000 }, async () => {
  await useCpu();
  const text = corpus();
  const dir = path.join(tmpDir(), 'run');
  const a = start(['train', '--corpus', text, '--checkpoint', dir, ...TINY, '--steps', '1000000', '--checkpoint-every', '1', '--log-every', '1']);
  await a.waitStep(3);

  // Readers: this process loads and samples in a loop while `a` replaces the checkpoint every step.
  const steps = new Set<number>();
  let reads = 0;
  const t0 = Date.now();
  while (reads < 300 && (reads < 40 || Date.now() - t0 < 8000)) {
    const ck = loadCheckpoint(dir); // throws on a mixed or missing version
    steps.add((ck.meta.training as { step: number }).step);
    assert.equal(sample(ck.model, ck.vocab, { length: 5, seed: reads }).length, 5);
    ck.model.dispose();
    reads++;
    await new Promise((r) => setImmediate(r)); // let the trainer's stderr drain
  }
  assert.ok(steps.size >= 5, `the trainer must have saved while we read: saw steps ${[...steps]}`);
  // …and the CLI readers, two at once.
  const readers = await Promise.all(
    [1, 2].map(
      (seed) =>
        new Promise<{ code: number | null; out: string; err: string }>((res) => {
          const c = spawn(process.execPath, [BIN, '-q', 'sample', '--checkpoint', dir, '--length', '50', '--seed', String(seed)], { env: ENV });
          let out = '';
          let err = '';
          c.stdout.on('data', (d) => (out += d));
          c.stderr.on('data', (d) => (err += d));
          c.on('close', (code) => res({ code, out, err }));
        }),
    ),
  );
  for (const r of readers) {
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.equal(Buffer.byteLength(r.out), 50);
  }

  // A second trainer on the same directory: refused with one line, exit 1, nothing written.
  const b = cli(['train', '--checkpoint', dir, '--resume']);
  assert.equal(b.status, 1, b.stderr);
  oneLine(b.stderr);
  assert.match(b.stderr.trimEnd(), new RegExp(`^error: checkpoint directory ${dir} is in use by another trainer \\(pid ${a.child.pid} on ${os.hostname()}, since [^)]*\\): wait for it to finish or stop it; if it is not running, remove ${path.join(dir, LOCK_FILE)} or pass --force-lock$`));

  // kill -9: the lock stays behind, naming a dead process.
  a.child.kill('SIGKILL');
  assert.equal((await a.exit).signal, 'SIGKILL');
  const stale = JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as LockOwner;
  assert.equal(stale.pid, a.child.pid);
  const k = stepOf(dir);
  assert.ok(k >= a.lastStep() - 1, `checkpoint at step ${k}, trainer had printed step ${a.lastStep()}`);
  const c = cli(['train', '--checkpoint', dir, '--resume', '--steps', String(k + 2)]);
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stderr, new RegExp(`^took over the stale lock of ${dir} \\(pid ${a.child.pid} on .*\\): its process is gone$`, 'm'));
  assert.match(c.stderr, new RegExp(`^resuming from step ${k} of ${k + 2} `, 'm'));
  assert.match(c.stderr, new RegExp(`^done: step ${k + 2}/${k + 2} `, 'm'));
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), 'a finished trainer removes its lock');
});

test('kill -9 of the real trainer process at random moments: the directory always loads and resumes, losing at most the step in flight', { timeout: 240_000 }, async () => {
  await useCpu();
  const text = corpus();
  const dir = path.join(tmpDir(), 'run');
  const KILLS = 6;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) >>> 8) / (2147483648 >>> 8);
  for (let i = 0; i < KILLS; i++) {
    const first = i === 0;
    const before = first ? 0 : stepOf(dir);
    const args = first
      ? ['train', '--corpus', text, '--checkpoint', dir, ...TINY, '--steps', '1000000', '--checkpoint-every', '1', '--log-every', '1']
      : ['train', '--checkpoint', dir, '--resume', '--log-every', '1'];
    const run = start(args);
    await run.waitStep(before + (first ? 3 : 1));
    await new Promise((r) => setTimeout(r, rand() * 400)); // a random moment: mid-step or mid-save
    run.child.kill('SIGKILL');
    const { signal } = await run.exit;
    assert.equal(signal, 'SIGKILL', run.stderr());
    if (!first) assert.match(run.stderr(), /^took over the stale lock of .*: its process is gone$/m);
    const ck = loadCheckpoint(dir); // every file's sha256 verified
    const step = (ck.meta.training as { step: number }).step;
    ck.model.dispose();
    assert.ok(step >= run.lastStep() - 1 && step <= run.lastStep(), `kill ${i}: checkpoint at step ${step}, the trainer had printed step ${run.lastStep()}`);
    assert.ok(step >= before);
  }
  const k = stepOf(dir);
  const r = cli(['-q', 'train', '--checkpoint', dir, '--resume', '--steps', String(k + 3)]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(stepOf(dir), k + 3);
  // Old versions and the leftovers of killed saves are gone: the newest version and the one before.
  const names = fs.readdirSync(dir).sort();
  assert.deepEqual(names.filter((n) => !/^(checkpoint\.json|(model|trainer)-[0-9a-f]{12}\.safetensors)$/.test(n)), []);
  assert.ok(names.length <= 5, names.join(' '));
});

test('a version-1 checkpoint (model.safetensors, trainer.safetensors) still loads, and a save into it writes version 2', async () => {
  await useCpu();
  const dir = path.join(tmpDir(), 'ck');
  const vocab = ByteVocab.fromData('hello world');
  const model = new CharModel({ modelType: 'gru', vocabSize: vocab.size, hiddenSize: 3, numLayers: 1, dropout: 0 }, 1);
  saveCheckpoint(dir, { model, vocab });
  // Rewrite it in the version-1 layout.
  const meta = readCheckpointMeta(dir);
  const name = meta.parts!.model;
  fs.renameSync(path.join(dir, name), path.join(dir, 'model.safetensors'));
  const v1 = { ...meta, version: 1, files: { 'model.safetensors': meta.files[name] } } as Record<string, unknown>;
  delete v1.parts;
  fs.writeFileSync(path.join(dir, 'checkpoint.json'), JSON.stringify(v1));
  const ck = loadCheckpoint(dir);
  assert.deepEqual(ck.model.Wy.dataSync(), model.Wy.dataSync());
  saveCheckpoint(dir, { model: ck.model, vocab });
  assert.equal(readCheckpointMeta(dir).version, 2);
  assert.ok(fs.existsSync(path.join(dir, 'model.safetensors')), 'the previous version stays for readers still on it');
  saveCheckpoint(dir, { model: ck.model, vocab });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['checkpoint.json', name]);
  ck.model.dispose();
  model.dispose();
});
