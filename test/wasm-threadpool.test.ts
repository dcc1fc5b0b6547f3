/**
 * lib/backend/wasm-threadpool.ts: the pool pointer's address found in a wasm binary, and the per-op
 * thread policy: small ops and contended CPUs run on the calling thread, big ops on the pool,
 * the same results either way, the pointer always put back. Backend cases run in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { firstLoadAddress } from '../lib/backend/wasm-threadpool';

/** A minimal module: one exported function `name` with `body` (after the locals). */
function tinyModule(name: string, body: number[]): Uint8Array {
  const section = (id: number, bytes: number[]) => [id, bytes.length, ...bytes];
  const fn = [0x00, ...body, 0x0b]; // no locals, body, end
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x00, 0x01, 0x7f]), // type () -> i32
    ...section(3, [0x01, 0x00]),
    ...section(5, [0x01, 0x00, 0x01]), // memory 1 page
    ...section(7, [0x01, name.length, ...Buffer.from(name), 0x00, 0x00]),
    ...section(10, [0x01, fn.length, ...fn]),
  ]);
}

test('firstLoadAddress: i32.const A; i32.load → A; anything else → undefined', () => {
  const m = tinyModule('get_threads_count', [0x41, 0x80, 0x08, 0x28, 0x02, 0x00]); // i32.const 1024; i32.load
  assert.equal(firstLoadAddress(m, 'get_threads_count'), 1024);
  assert.ok((globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(m)); // a real module, not just bytes the parser likes
  assert.equal(firstLoadAddress(m, 'other'), undefined);
  assert.equal(firstLoadAddress(tinyModule('get_threads_count', [0x41, 0x07]), 'get_threads_count'), undefined); // no load
  assert.equal(firstLoadAddress(Uint8Array.from([1, 2, 3]), 'x'), undefined);
});

test('firstLoadAddress finds the pool pointer in the shipped threaded build', () => {
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const addr = firstLoadAddress(fs.readFileSync(path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.wasm')), 'get_threads_count');
  assert.ok(addr !== undefined && addr > 0 && addr % 4 === 0, String(addr));
});

const script = `
const tf = require('@tensorflow/tfjs');
const L = require(${JSON.stringify(path.join(__dirname, '..', 'lib'))});
const P = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'backend', 'wasm-threadpool'))});
const T = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'backend', 'wasm-threads'))});
const { wasmThreadPolicy } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'backend', 'select'))});
(async () => {
  const info = await L.initBackend('wasm');
  const mm = (M, K, N) => tf.tidy(() => {
    const a = tf.tensor2d(Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), [M, K]);
    const b = tf.tensor2d(Float32Array.from({ length: K * N }, (_, i) => Math.cos(i)), [K, N]);
    return Array.from(tf.matMul(a, b).dataSync());
  });
  let stats = wasmThreadPolicy();
  if (process.env.STUB_LOAD) {
    // UNREASONABLE_THREADS=2 installs no policy: install one with a stubbed load of other processes.
    if (stats) throw new Error('a policy with UNREASONABLE_THREADS set');
    const p = T.threadpoolPointer();
    stats = P.installThreadPolicy(p.module, p.slot, () => Number(process.env.STUB_LOAD));
  }
  // The pool pointer, kept cleared between the ops that get the pool (0 = run on the calling thread).
  const pointer = () => { const p = T.threadpoolPointer(); return p.module.HEAP32[p.slot >> 2]; };
  const before = { ...stats };
  const small = mm(8, 16, 16);
  const afterSmall = { ...stats };
  const big = mm(256, 256, 512); // 67 MFLOP
  const afterBig = { ...stats };
  const pointerAfter = pointer();
  await L.initBackend('cpu');
  const [smallCpu, bigCpu] = [mm(8, 16, 16), mm(256, 256, 512)];
  let worst = 0;
  for (const [x, y] of [[small, smallCpu], [big, bigCpu]]) for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
  console.log(JSON.stringify({ line: L.describeBackend(info), before, afterSmall, afterBig, pointerAfter, threadsInUse: T.wasmThreadsInUse(), worst }));
})().catch((e) => { console.error('error: ' + e.message); process.exit(1); });
`;

function child(env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('idle CPU: a small matmul runs alone, a big one on the pool; same results as cpu; pointer restored', () => {
  const r = child({ UNREASONABLE_THREADS: '2', STUB_LOAD: '0' });
  assert.equal(r.afterSmall.alone - r.before.alone, 1);
  assert.equal(r.afterSmall.pooled, r.before.pooled);
  assert.equal(r.afterBig.pooled - r.afterSmall.pooled, 1);
  assert.equal(r.pointerAfter, 0); // the pool pointer is cleared again after the pooled op
  assert.ok(r.worst < 1e-5, String(r.worst));
});

test('another process on a core: even the big matmul runs alone', () => {
  const r = child({ UNREASONABLE_THREADS: '2', STUB_LOAD: '1' });
  assert.equal(r.afterBig.pooled, r.before.pooled);
  assert.equal(r.afterBig.alone - r.before.alone, 2);
  assert.equal(r.afterBig.contended, true);
  assert.equal(r.pointerAfter, 0);
  assert.ok(r.worst < 1e-5, String(r.worst));
});

test('the default (UNREASONABLE_THREADS unset) installs the policy; a fixed count does not', () => {
  const r = child({ UNREASONABLE_THREADS: '' });
  assert.match(r.line, /SIMD, \d+ threads \(per op\)/);
  assert.equal(r.pointerAfter, 0);
  assert.equal(r.threadsInUse, Number(/(\d+) threads/.exec(r.line)![1]), "the pool's size, though its pointer is cleared between ops");
  assert.ok(r.afterSmall.alone > r.before.alone);
  assert.ok(r.worst < 1e-5);
});
