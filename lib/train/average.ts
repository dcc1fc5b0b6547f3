/**
 * Checkpoint averaging: the element-wise mean of several checkpoints' weights (Polyak averaging over
 * a few points of one run, as NMT systems average their last checkpoints). Late in a run at a high
 * learning rate the weights wander around a minimum; their mean sits nearer its centre.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NamedArray } from '../io/safetensors';
import { UserError } from '../util/errors';

/**
 * The element-wise mean of named weight sets that have the same names and shapes (float64 sums,
 * so the order of the sets does not change the result beyond float32 rounding).
 */
export function meanWeights(sets: Map<string, NamedArray>[]): Map<string, NamedArray> {
  if (!sets.length) throw new UserError('meanWeights: no weights to average');
  const out = new Map<string, NamedArray>();
  for (const [name, first] of sets[0]) {
    const sum = new Float64Array(first.data.length);
    for (const [i, s] of sets.entries()) {
      const w = s.get(name);
      if (!w || w.shape.join('×') !== first.shape.join('×')) {
        throw new UserError(`meanWeights: weight set ${i} ${w ? `has ${name} of shape [${w.shape}], not [${first.shape}]` : `lacks ${name}`}`);
      }
      for (let j = 0; j < sum.length; j++) sum[j] += w.data[j];
    }
    out.set(name, { shape: [...first.shape], data: Float32Array.from(sum, (v) => v / sets.length) });
  }
  for (const [i, s] of sets.entries()) {
    if (s.size !== out.size) throw new UserError(`meanWeights: weight set ${i} has ${s.size} tensors, the first ${out.size}`);
  }
  return out;
}

/** Directory name of one evaluation's kept weights (evals/step-N). */
export function evalStepDir(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** The steps of the evaluations whose weights a run keeps under `dir` (evals/), oldest first; half-written ones are skipped. */
export function keptEvals(dir: string): number[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && fs.existsSync(path.join(dir, m[0], 'checkpoint.json')))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Delete all but the newest `keep` kept evaluations under `dir`. */
export function pruneEvals(dir: string, keep: number): void {
  const steps = keptEvals(dir);
  for (const s of steps.slice(0, Math.max(0, steps.length - keep))) fs.rmSync(path.join(dir, evalStepDir(s)), { recursive: true, force: true });
}
