/** Shared test helpers. Numerical tests run on the pure-JS cpu backend (exact, deterministic). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib';

export async function useCpu(): Promise<void> {
  await initBackend('cpu');
}

export function tmpDir(prefix = 'unreasonable-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Max |a − b| over two arrays of the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A deterministic pseudo-random float array in [-scale, scale]. */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return ((s / 4294967296) * 2 - 1) * scale;
  });
}

/** sha256 of every file under a directory (path → hash), to prove nothing changed. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = require('crypto').createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

export function scalar(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/**
 * Central finite difference of `loss` with respect to entry i of variable v:
 * (loss(v + eps·e_i) − loss(v − eps·e_i)) / 2·eps. Restores v afterwards.
 */
export function finiteDifference(v: tf.Variable, i: number, loss: () => tf.Scalar | tf.Tensor, eps = 1e-2): number {
  const base = v.dataSync().slice();
  const at = (delta: number) => {
    const w = base.slice();
    w[i] += delta;
    v.assign(tf.tensor(w, v.shape));
    return tf.tidy(() => loss().dataSync()[0]);
  };
  const numeric = (at(eps) - at(-eps)) / (2 * eps);
  v.assign(tf.tensor(base, v.shape));
  return numeric;
}
