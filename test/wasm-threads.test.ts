/**
 * The threaded wasm build (lib/backend/wasm-threads.ts): it starts with the threads asked for, computes
 * what the cpu backend computes, lets Node exit on its own, and UNREASONABLE_THREADS picks it.
 * Each case runs in a child process because the backend is chosen once per process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const script = `
const tf = require('@tensorflow/tfjs');
const L = require(${JSON.stringify(path.join(__dirname, '..', 'lib'))});
(async () => {
  const run = async (name) => {
    await L.initBackend(name);
    return tf.tidy(() => {
      const a = tf.tensor2d(Float32Array.from({ length: 64 * 300 }, (_, i) => Math.sin(i)), [64, 300]);
      const b = tf.tensor2d(Float32Array.from({ length: 300 * 200 }, (_, i) => Math.cos(i)), [300, 200]);
      return Array.from(tf.sigmoid(tf.matMul(a, b)).dataSync());
    });
  };
  const wasm = await run('wasm');
  const line = L.describeBackend();
  const threads = require('@tensorflow/tfjs-backend-wasm').getThreadsCount();
  const cpu = await run('cpu');
  let worst = 0;
  for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(cpu[i] - wasm[i]));
  console.log(JSON.stringify({ line, threads, worst }));
})().catch((e) => { console.error('error: ' + e.message); process.exit(1); });
`;

function child(env: Record<string, string>): { status: number | null; out: string; err: string; ms: number } {
  const t = Date.now();
  // No process.exit() on success: the child must end by itself (idle pool workers are unref'd).
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - t };
}

const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;

test('default: the threaded SIMD build with one thread per core, same results as cpu, exits by itself', () => {
  const r = child({ UNREASONABLE_THREADS: '' });
  assert.equal(r.status, 0, r.err);
  const res = JSON.parse(r.out.trim().split('\n').pop()!);
  const want = Math.min(cores, 8);
  assert.equal(res.threads, want);
  assert.match(res.line, want > 1 ? new RegExp(`SIMD, ${want} threads`) : /1 thread/);
  assert.ok(res.worst < 1e-5, `max diff vs cpu ${res.worst}`);
});

test('UNREASONABLE_THREADS=2 gives 2 threads even where the C++ default would cap at cores/2', () => {
  const r = child({ UNREASONABLE_THREADS: '2' });
  assert.equal(r.status, 0, r.err);
  const res = JSON.parse(r.out.trim().split('\n').pop()!);
  assert.equal(res.threads, 2);
  assert.match(res.line, /SIMD, 2 threads/);
  assert.ok(res.worst < 1e-5);
});

test('UNREASONABLE_THREADS=1 uses the stock single-threaded build', () => {
  const r = child({ UNREASONABLE_THREADS: '1' });
  assert.equal(r.status, 0, r.err);
  const res = JSON.parse(r.out.trim().split('\n').pop()!);
  assert.equal(res.threads, 1);
  assert.match(res.line, /wasm, 1 thread\)/);
});

test('a bad UNREASONABLE_THREADS is one clear error line', () => {
  const r = child({ UNREASONABLE_THREADS: 'many' });
  assert.equal(r.status, 1);
  assert.equal(r.err.trim(), 'error: UNREASONABLE_THREADS must be a positive integer, got "many"');
});

test('where the worker file cannot be written, the stock single-threaded build is used', () => {
  // A private temp dir where the worker file's name is taken by a directory.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unreasonable-threads-'));
  const probe = child({ UNREASONABLE_THREADS: '2', TMPDIR: dir });
  assert.equal(probe.status, 0, probe.err);
  const [name] = fs.readdirSync(dir).filter((f) => f.startsWith('unreasonable-tfjs-wasm-worker-'));
  assert.ok(name, 'the first run wrote the worker file');
  fs.rmSync(path.join(dir, name));
  fs.mkdirSync(path.join(dir, name));
  const r = child({ UNREASONABLE_THREADS: '2', TMPDIR: dir });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, r.err);
  const res = JSON.parse(r.out.trim().split('\n').pop()!);
  assert.equal(res.threads, 1);
  assert.match(res.line, /wasm, 1 thread\)/);
});
