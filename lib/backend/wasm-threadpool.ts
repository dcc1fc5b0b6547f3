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
 * core (sampled from /proc/stat every SAMPLE_MS); the pointer is set for that call only and
 * cleared otherwise.
 *
 * The pointer's address is read from the binary: the exported `get_threads_count` starts with
 * `i32.const ADDR; i32.load` of it. A binary that does not start so gets no policy (every op on
 * the pool, as before).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';

/**
 * Matmuls below this many FLOPs run on the calling thread (~150 µs of one wasm thread). Measured
 * on the bench's S model (2×128, batch 32: its per-step products are 2²² FLOPs) on 2 idle cores:
 * 106 ms a training step from 2²⁴, 95 from 2²², 94–100 from 2²¹ and 2²⁰.
 */
export const MIN_POOL_FLOPS = 2 ** 22;

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

/** FLOPs of a BatchMatMul / _FusedMatMul call. */
function matMulFlops(args: KernelArgs): number {
  const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
  const ta = args.attrs?.transposeA ? 1 : 0;
  const tb = args.attrs?.transposeB ? 1 : 0;
  const sa = a.shape;
  const ra = sa.length;
  let batch = 1;
  for (let d = 0; d < ra - 2; d++) batch *= sa[d];
  return 2 * batch * sa[ra - 2 + ta] * sa[ra - 1 - ta] * b.shape[b.shape.length - 1 - tb];
}

/** The largest input's element count (a proxy for an elementwise op's work); no allocation. */
function largestInput(args: KernelArgs): number {
  const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
  let size = 0;
  for (const k in inputs) {
    const shape = inputs[k]?.shape;
    if (!shape) continue;
    let n = 1;
    for (let d = 0; d < shape.length; d++) n *= shape[d];
    if (n > size) size = n;
  }
  return size;
}

export interface PolicyStats {
  /** Kernel calls run on the pool / on the calling thread. */
  pooled: number;
  alone: number;
  /** Whether the last load sample found another process on a core. */
  contended: boolean;
}

/** Kernel calls between two looks at the clock (the load is sampled every SAMPLE_MS). */
const CLOCK_EVERY = 32;

/**
 * Wrap every wasm kernel so that it runs on the pool only when worth it (see the top). `slot` is
 * the address of the pool pointer; `module` the emscripten module (HEAP32 follows memory growth).
 * The pointer is kept cleared: an op runs on the calling thread unless the policy hands it the
 * pool for its call, so the cheap path (a small op, or any op while another process wants a
 * core) adds one counter and one comparison, and kernels reached without the registry (a
 * kernel calling another directly) never wake the pool. Returns live counters.
 */
export function installThreadPolicy(module: { HEAP32: Int32Array }, slot: number, load: () => number = (() => { const o = new OtherLoad(); return () => o.sample(); })()): PolicyStats {
  const stats: PolicyStats = { pooled: 0, alone: 0, contended: false };
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const i = slot >> 2;
  const pool = module.HEAP32[i];
  module.HEAP32[i] = 0;
  let nextSample = 0;
  let calls = 0;
  const check = () => {
    const now = performance.now();
    if (now < nextSample) return;
    nextSample = now + SAMPLE_MS;
    // Another process on a core, or the machine's cores all in use: no pool.
    stats.contended = cores < 2 || load() > CONTENDED_CORES;
  };
  check();
  for (const config of tf.getKernelsForBackend('wasm')) {
    const f = config.kernelFunc as unknown as (args: KernelArgs) => unknown;
    const name = config.kernelName;
    const matMul = name === 'BatchMatMul' || name === '_FusedMatMul';
    const wrapped = (args: KernelArgs) => {
      if (++calls === CLOCK_EVERY) {
        calls = 0;
        check();
      }
      if (stats.contended || (matMul ? matMulFlops(args) < MIN_POOL_FLOPS : largestInput(args) < MIN_POOL_ELEMENTS)) {
        stats.alone++;
        return f(args);
      }
      stats.pooled++;
      module.HEAP32[i] = pool;
      try {
        return f(args);
      } finally {
        module.HEAP32[i] = 0;
      }
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: wrapped as unknown as tf.KernelFunc });
  }
  return stats;
}
