/**
 * Multi-threaded wasm in Node (tfjs 4.22).
 *
 * @tensorflow/tfjs-backend-wasm ships a threaded SIMD build (XNNPACK over a pthreadpool of
 * emscripten workers) but never uses it in Node: its WASM_HAS_MULTITHREAD_SUPPORT flag is
 * hard-wired to false there (tfjs#3830), its worker is handed over as a blob: URL that Node's
 * Worker cannot load, and the C++ side caps the pool at navigator.hardwareConcurrency / 2 —
 * one thread on a 2-core machine. This module loads that same build the way Node needs:
 *   - the worker script (the package's `wasmWorkerContents`) is written to a file;
 *   - `mainScriptUrlOrBlob` is the path of the package's threaded glue file;
 *   - the wasm module is instantiated through emscripten's `instantiateWasm` hook with the
 *     `emscripten_num_logical_cores` import answering 2 × the threads wanted, so the cap
 *     lets the pool have them;
 * and registers it as the `wasm` backend (the stock kernels are registered under that name,
 * so they all apply). Nothing in node_modules is modified.
 *
 * The emscripten runtime preloads 8 workers (the build's PTHREAD_POOL_SIZE); those the pool did
 * not take are terminated, and the pool's are unref'd so that they do not keep Node alive.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors';
import { firstLoadAddress } from './wasm-threadpool';

/** Whether UNREASONABLE_THREADS fixes the thread count (else the per-op policy chooses). */
export function threadsFromEnv(): boolean {
  return Boolean(process.env.UNREASONABLE_THREADS?.trim());
}

/** Threads to use: UNREASONABLE_THREADS, else the machine's cores (at most 8, the build's pool). */
export function wantedThreads(): number {
  const env = process.env.UNREASONABLE_THREADS?.trim();
  if (env) {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`UNREASONABLE_THREADS must be a positive integer, got "${env}"`);
    return Math.min(n, 8);
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, 8));
}

interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  PThread: { runningWorkers: { unref(): void }[]; unusedWorkers: { terminate(): void }[]; terminateAllThreads(): void };
  tfjs?: unknown;
}

/** The part of the WebAssembly global used here (lib/ compiles without DOM types). */
const webAssembly = (globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Uint8Array, imports: unknown): Promise<{ instance: unknown; module: unknown }> };
}).WebAssembly;

type Factory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

/** Write `contents` to a file named after its hash in the temp dir (atomically; reused when it holds exactly that). */
function workerFile(contents: string): string {
  const hash = crypto.createHash('sha256').update(contents).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `unreasonable-tfjs-wasm-worker-${hash}.js`);
  let same = false;
  try {
    same = fs.readFileSync(file, 'utf8') === contents;
  } catch {
    same = false;
  }
  if (!same) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, contents);
    fs.renameSync(tmp, file);
  }
  return file;
}

/**
 * Register the threaded SIMD build as the `wasm` backend with `threads` threads. Returns false
 * (and leaves the stock registration alone) where this Node lacks shared memory or the files
 * are missing. Call before `tf.setBackend('wasm')`.
 */
export function registerThreadedWasm(threads: number): boolean {
  if (registeredThreads !== undefined) return registeredThreads === threads; // once per process
  if (typeof SharedArrayBuffer === 'undefined') return false;
  let wasmPkg: typeof import('@tensorflow/tfjs-backend-wasm');
  let dir: string;
  try {
    wasmPkg = require('@tensorflow/tfjs-backend-wasm');
    dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  } catch {
    return false;
  }
  const glue = path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const binary = path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.wasm');
  const workerJs = path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js');
  if (![glue, binary, workerJs].every((f) => fs.existsSync(f))) return false;

  let factory: Factory;
  let worker: string;
  try {
    factory = require(glue) as Factory;
    // The package keeps the worker source as a JS string whose "\n" escapes became newlines.
    const { wasmWorkerContents } = require(workerJs) as { wasmWorkerContents: string };
    worker = workerFile(wasmWorkerContents.replace(/\n/g, '\\n'));
  } catch {
    return false; // e.g. no writable temp dir: the stock build it is
  }

  const create = async (): Promise<tf.KernelBackend> => {
    let fail: (e: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (fail = reject)); // instantiation errors end the wait
    const bytes = fs.readFileSync(binary);
    const wasmModule = await Promise.race([failed, factory({
      locateFile: (p: string, prefix: string) => (p.endsWith('.worker.js') ? worker : p.endsWith('.wasm') ? binary : prefix + p),
      mainScriptUrlOrBlob: glue,
      instantiateWasm(info: { env: Record<string, unknown> }, receive: (instance: unknown, module: unknown) => void) {
        info.env.emscripten_num_logical_cores = () => 2 * threads;
        webAssembly.instantiate(bytes, info).then((r) => receive(r.instance, r.module), fail);
        return {};
      },
    })]);
    wasmModule.tfjs = {
      init: wasmModule.cwrap('init', null, []),
      initWithThreadsCount: wasmModule.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: wasmModule.cwrap('get_threads_count', 'number', []),
      registerTensor: wasmModule.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: wasmModule.cwrap('dispose_data', null, ['number']),
      dispose: wasmModule.cwrap('dispose', null, []),
    };
    wasmPkg.setThreadsCount(threads);
    const backend = new wasmPkg.BackendWasm(wasmModule as never);
    // The pool's threads wait on a futex between ops; they must not keep Node running.
    for (const w of wasmModule.PThread.runningWorkers) w.unref();
    // emscripten preloaded 8 workers (the build's PTHREAD_POOL_SIZE); the pool is made once, at
    // init, so the ones it did not take are never used: ~12 MB of RSS each.
    for (const w of wasmModule.PThread.unusedWorkers) w.terminate();
    wasmModule.PThread.unusedWorkers = [];
    const slot = firstLoadAddress(bytes, 'get_threads_count');
    threadpoolSlot = slot === undefined ? undefined : { module: wasmModule, slot };
    return backend;
  };
  const stock = tf.engine().registryFactory.wasm;
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', create, stock?.priority ?? 2);
  restoreStock = () => {
    tf.removeBackend('wasm');
    if (stock) tf.registerBackend('wasm', stock.factory, stock.priority);
  };
  registeredThreads = threads;
  return true;
}

let registeredThreads: number | undefined;
/** Where the started threaded module keeps its pool pointer (lib/backend/wasm-threadpool.ts). */
let threadpoolSlot: { module: ThreadedModule; slot: number } | undefined;

/** The threaded module and its pool pointer's address, once started (undefined: not found). */
export function threadpoolPointer(): { module: { HEAP32: Int32Array }; slot: number } | undefined {
  if (!threadpoolSlot) return undefined;
  const m = threadpoolSlot.module as unknown as { HEAP32?: Int32Array; HEAPU8: Uint8Array };
  // HEAP32 follows memory growth where the build exports it; else a view made per use.
  const module = { get HEAP32(): Int32Array { return m.HEAP32 ?? new Int32Array(m.HEAPU8.buffer); } };
  return { module, slot: threadpoolSlot.slot };
}
let restoreStock: (() => void) | undefined;

/** Put the stock single-threaded registration back (after the threaded one failed to start). */
export function unregisterThreadedWasm(): void {
  restoreStock?.();
  restoreStock = undefined;
  registeredThreads = 0;
}

let policyThreads: number | undefined;

/** The per-op policy keeps the pool pointer cleared between ops (get_threads_count then says 1): it records the pool's size here. */
export function notePolicyThreads(n: number): void {
  policyThreads = n;
}

/** Threads the active wasm backend really runs with (1 for the stock single-threaded build). */
export function wasmThreadsInUse(): number {
  if (policyThreads !== undefined) return policyThreads;
  try {
    return require('@tensorflow/tfjs-backend-wasm').getThreadsCount();
  } catch {
    return 1;
  }
}
