/**
 * Measuring how a cost grows: median wall time and peak tensor memory of a call, and the slope
 * of a power law fitted on log-log axes (cost ∝ n^slope: 1 for an RNN's chunk, 2 for attention's).
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';

export interface PowerLaw {
  /** y ≈ exp(intercept) · x^slope */
  slope: number;
  intercept: number;
  /** Coefficient of determination of the fit on log-log axes. */
  r2: number;
}

/** Least-squares line through (ln x, ln y); points with x ≤ 0 or y ≤ 0 are left out (needs two). */
export function fitPowerLaw(x: readonly number[], y: readonly number[]): PowerLaw {
  if (x.length !== y.length) throw new Error(`fitPowerLaw: ${x.length} x but ${y.length} y`);
  const pts: [number, number][] = [];
  for (let i = 0; i < x.length; i++) if (x[i] > 0 && y[i] > 0) pts.push([Math.log(x[i]), Math.log(y[i])]);
  const n = pts.length;
  if (n < 2) throw new Error(`fitPowerLaw: needs two positive points, got ${n}`);
  const mx = pts.reduce((a, p) => a + p[0], 0) / n;
  const my = pts.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (const [lx, ly] of pts) {
    sxy += (lx - mx) * (ly - my);
    sxx += (lx - mx) ** 2;
    syy += (ly - my) ** 2;
  }
  if (sxx === 0) throw new Error('fitPowerLaw: all x are equal');
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

export interface CostOptions {
  /** Timed runs after one untimed warm-up (default 3); the median is reported. */
  repeats?: number;
}

export interface Cost {
  /** Median wall time of one call, milliseconds. */
  ms: number;
  /** Peak bytes of tfjs tensors allocated during one call above what existed before (tf.profile). */
  peakBytes: number;
}

/**
 * Time and peak memory of `fn` (which must dispose what it creates; what it returns is disposed
 * here). Memory counts tensors the tfjs engine tracks, measured in a separate run from the timing
 * (profiling slows kernels down).
 */
export async function measureCost(fn: () => tf.Tensor | tf.Tensor[] | void, opts: CostOptions = {}): Promise<Cost> {
  const repeats = opts.repeats ?? 3;
  const run = () => {
    const out = fn();
    if (out) tf.dispose(out);
  };
  const before = tf.memory().numBytes;
  const profile = await tf.profile(run);
  const peakBytes = Math.max(0, profile.peakBytes - before, profile.newBytes);
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const out = fn();
    // Wait for the values so that asynchronous backends are timed too.
    if (out) {
      for (const t of Array.isArray(out) ? out : [out]) t.dataSync();
      tf.dispose(out);
    }
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], peakBytes };
}

/**
 * How much tensor memory the backend can hold: wasm's heap is a 32-bit address space (4 GiB at
 * most); cpu and tensorflow allocate from the machine's RAM.
 */
export function backendMemoryLimit(backend: string = tf.getBackend()): number {
  return backend === 'wasm' ? 4 * 2 ** 30 : os.totalmem();
}
