/**
 * Per-op thread choice for the threaded wasm backend (lib/backend/wasm-threads.ts).
 *
 * The tfjs wasm build runs every XNNPACK op on one pthreadpool, made once at start; a worker
 * must be woken for each op, and when another process has the other core the op waits for the
 * scheduler (measured on 2 cores with one busy: a [1,100]·[100,100] matmul + sigmoid 2.0 ms with
 * the pool, 0.17 ms without; a vanilla RNN of 100 units at batch 1 trains 13× slower). The pool
 * is a pointer in the module's memory (`threadpool` in tfjs's backend.cc, read by every op), and
 * XNNPACK runs an op on the calling thread when it is NULL — same tiles, same results. So the
 * kernels are wrapped: an op runs on the pool only when it is big enough to gain from it
 * (matmul ≥ MIN_POOL_FLOPS, elementwise ≥ MIN_POOL_ELEMENTS) and no other process is using a
 * core (sampled from /proc/stat every SAMPLE_MS); else with the pointer cleared for its call.
 *
 * The pointer's address is read from the binary: the exported `get_threads_count` starts with
 * `i32.const ADDR; i32.load` of it. A binary that does not start so gets no policy (every op on
 * the pool, as before).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';

/** Matmuls below this many FLOPs run on the calling thread (~1.5 ms of one wasm thread). */
export const MIN_POOL_FLOPS = 2 ** 24;
/** Other ops below this many output elements run on the calling thread. */
export const MIN_POOL_ELEMENTS = 2 ** 18;
/** How often the CPU use of other processes is sampled. */
export const SAMPLE_MS = 250;
/** Other processes using more than this many cores' worth: the pool is not used at all. */
export const CONTENDED_CORES = 0.5;

function leb(b: Uint8Array, p: number): [number, number] {
  let r = 0;
  let shift = 0;
  for (;;) {
    const x = b[p++];
    r += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (x < 0x80) return [r, p];
  }
}

/** The linear-memory address that an exported function's body loads first (`i32.const A; i32.load`). */
export function firstLoadAddress(wasm: Uint8Array, exportName: string): number | undefined {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) return undefined;
  const sections = new Map<number, number>();
  for (let p = 8; p < wasm.length; ) {
    const id = wasm[p];
    const [size, q] = leb(wasm, p + 1);
    if (!sections.has(id)) sections.set(id, q);
    p = q + size;
  }
  const text = (p: number, n: number) => Buffer.from(wasm.subarray(p, p + n)).toString('utf8');
  let importedFuncs = 0;
  if (sections.has(2)) {
    let [n, p] = leb(wasm, sections.get(2)!);
    for (let i = 0; i < n; i++) {
      let len: number;
      [len, p] = leb(wasm, p);
      p += len;
      [len, p] = leb(wasm, p);
      p += len;
      const kind = wasm[p++];
      if (kind === 0) [, p] = leb(wasm, p), importedFuncs++;
      else if (kind === 1) {
        p++;
        const flags = wasm[p++];
        [, p] = leb(wasm, p);
        if (flags & 1) [, p] = leb(wasm, p);
      } else if (kind === 2) {
        const flags = wasm[p++];
        [, p] = leb(wasm, p);
        if (flags & 1) [, p] = leb(wasm, p);
      } else if (kind === 3) p += 2;
      else return undefined;
    }
  }
  if (!sections.has(7) || !sections.has(10)) return undefined;
  let func: number | undefined;
  {
    let [n, p] = leb(wasm, sections.get(7)!);
    for (let i = 0; i < n && func === undefined; i++) {
      let len: number;
      [len, p] = leb(wasm, p);
      const name = text(p, len);
      p += len;
      const kind = wasm[p++];
      let idx: number;
      [idx, p] = leb(wasm, p);
      if (kind === 0 && name === exportName) func = idx;
    }
  }
  if (func === undefined || func < importedFuncs) return undefined;
  let [n, p] = leb(wasm, sections.get(10)!);
  const want = func - importedFuncs;
  if (want >= n) return undefined;
  for (let i = 0; i < want; i++) {
    let size: number;
    [size, p] = leb(wasm, p);
    p += size;
  }
  [, p] = leb(wasm, p); // body size
  let groups: number;
  [groups, p] = leb(wasm, p);
  for (let g = 0; g < groups; g++) [, p] = leb(wasm, p), p++; // count, type
  if (wasm[p] !== 0x41) return undefined; // i32.const
  let addr = 0;
  let shift = 0;
  let x: number;
  p++;
  do {
    x = wasm[p++];
    addr += (x & 0x7f) * 2 ** shift;
    shift += 7;
  } while (x & 0x80);
  if (x & 0x40) return undefined; // negative
  return wasm[p] === 0x28 && wasm[p + 1] === 0x02 && wasm[p + 2] === 0x00 && addr % 4 === 0 ? addr : undefined; // i32.load align=2 offset=0
}

/** Cores' worth of CPU used by other processes since the last call (Linux /proc/stat; 0 elsewhere). */
export class OtherLoad {
  private last?: { busy: number; self: number; t: number };
  private readonly tick = 100; // USER_HZ: /proc/stat counts in 1/100 s on Linux

  sample(): number {
    let busy: number;
    try {
      const line = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
      busy = (line[0] + line[1] + line[2] + (line[5] ?? 0) + (line[6] ?? 0) + (line[7] ?? 0)) / this.tick; // user nice system irq softirq steal, s
    } catch {
      return 0;
    }
    const u = process.cpuUsage();
    const now = { busy, self: (u.user + u.system) / 1e6, t: performance.now() / 1000 };
    const prev = this.last;
    this.last = now;
    if (!prev || now.t - prev.t <= 0) return 0;
    return Math.max(0, (now.busy - prev.busy - (now.self - prev.self)) / (now.t - prev.t));
  }
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[]; backend: unknown; attrs?: Record<string, unknown> };

/** Work of one kernel call: FLOPs for matmuls, output-size proxy (largest input) for the rest. */
function poolWorthy(name: string, args: KernelArgs): boolean {
  const inputs = Object.values(args.inputs ?? {}) as tf.TensorInfo[];
  if (name === 'BatchMatMul' || name === '_FusedMatMul') {
    const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
    const ta = args.attrs?.transposeA ? 1 : 0;
    const tb = args.attrs?.transposeB ? 1 : 0;
    const ra = a.shape.length;
    const M = a.shape[ra - 2 + ta];
    const K = a.shape[ra - 1 - ta];
    const N = b.shape[b.shape.length - 1 - tb];
    const batch = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    return 2 * batch * M * K * N >= MIN_POOL_FLOPS;
  }
  let size = 0;
  for (const t of inputs) if (t && Array.isArray(t.shape)) size = Math.max(size, t.shape.reduce((x, y) => x * y, 1));
  return size >= MIN_POOL_ELEMENTS;
}

export interface PolicyStats {
  /** Kernel calls run on the pool / on the calling thread. */
  pooled: number;
  alone: number;
  /** Whether the last load sample found another process on a core. */
  contended: boolean;
}

/**
 * Wrap every wasm kernel so that it runs on the pool only when worth it (see the top). `slot` is
 * the address of the pool pointer; `module` the emscripten module (HEAP32 follows memory growth).
 * Returns live counters.
 */
export function installThreadPolicy(module: { HEAP32: Int32Array }, slot: number, load: () => number = (() => { const o = new OtherLoad(); return () => o.sample(); })()): PolicyStats {
  const stats: PolicyStats = { pooled: 0, alone: 0, contended: false };
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  let nextSample = 0;
  const i = slot >> 2;
  for (const config of tf.getKernelsForBackend('wasm')) {
    const f = config.kernelFunc as unknown as (args: KernelArgs) => unknown;
    const name = config.kernelName;
    const wrapped = (args: KernelArgs) => {
      const now = performance.now();
      if (now >= nextSample) {
        nextSample = now + SAMPLE_MS;
        // Another process on a core, or the machine's cores all in use: no pool.
        stats.contended = cores < 2 || load() > CONTENDED_CORES;
      }
      if (!stats.contended && poolWorthy(name, args)) {
        stats.pooled++;
        return f(args);
      }
      stats.alone++;
      const heap = module.HEAP32;
      const pool = heap[i];
      heap[i] = 0;
      try {
        return f(args);
      } finally {
        heap[i] = pool;
      }
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: wrapped as unknown as tf.KernelFunc });
  }
  return stats;
}
