/** Shared test helpers. Numerical tests run on the pure-JS cpu backend (exact, deterministic). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '../lib';

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

/**
 * Text with quoted spans and lines of varied length: words from a small list, a quote every
 * few words, a newline every 10–70 bytes (pseudo-random but fixed). For hand-built quote latches.
 */
export function quoteText(n: number, seed = 7): string {
  const rng = new Rng(seed);
  const words = ['the', 'whale', 'said', 'sea', 'ship', 'Ahab', 'of', 'and', 'a', 'white', 'to', 'it', 'was'];
  let s = '';
  let line = 0;
  let lineLen = 10 + Math.floor(rng.uniform(0, 60));
  while (s.length < n) {
    let w = words[Math.floor(rng.uniform(0, words.length))];
    if (rng.uniform(0, 1) < 0.15) w = `"${w}`;
    else if (rng.uniform(0, 1) < 0.15) w = `${w}"`;
    s += w;
    line += w.length;
    if (line >= lineLen) {
      s += '\n';
      line = 0;
      lineLen = 10 + Math.floor(rng.uniform(0, 60));
    } else {
      s += ' ';
      line++;
    }
  }
  return s;
}

/** Debian's python3 with torch (correct, if slow), or undefined: the reason is passed to `skip`. */
export function torchPython(skip: (why: string) => void): { py: string; env: NodeJS.ProcessEnv } | undefined {
  const py = '/usr/bin/python3';
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', GOMP_SPINCOUNT: '0' };
  try {
    require('child_process').execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore', env });
    return { py, env };
  } catch {
    skip(`PyTorch is not available (${py} -c "import torch" failed): skipped the comparison with torch`);
    return undefined;
  }
}
