/** Checkpoint averaging (lib/train/average.ts): the mean of weight sets, and the kept bests of a run. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { evalStepDir, keptEvals, meanWeights, pruneEvals } from '../lib/train/average';
import { NamedArray } from '../lib/io/safetensors';
import { randomArray, tmpDir } from './helpers';

const set = (entries: [string, number[], Float32Array][]) => new Map<string, NamedArray>(entries.map(([n, shape, data]) => [n, { shape, data }]));

test('meanWeights is the element-wise mean, tensor by tensor, and leaves its inputs alone', () => {
  const a = set([['w', [2, 2], Float32Array.of(1, 2, 3, 4)], ['b', [2], Float32Array.of(-1, 0.5)]]);
  const b = set([['w', [2, 2], Float32Array.of(3, 2, 1, 0)], ['b', [2], Float32Array.of(1, 1.5)]]);
  const c = set([['b', [2], Float32Array.of(3, -2)], ['w', [2, 2], Float32Array.of(-4, 5, 2, 2)]]);
  const m = meanWeights([a, b, c]);
  assert.deepEqual([...m.keys()].sort(), ['b', 'w']);
  assert.deepEqual(m.get('w')!.shape, [2, 2]);
  assert.deepEqual([...m.get('w')!.data], [0, 3, 2, 2]);
  assert.deepEqual([...m.get('b')!.data], [1, 0]);
  assert.deepEqual([...a.get('w')!.data], [1, 2, 3, 4], 'an input changed');
  // One set is itself; against a float64 reference on random data it agrees to float32 rounding.
  const x = randomArray(1000, 1, 3);
  const y = randomArray(1000, 2, 3);
  assert.deepEqual([...meanWeights([set([['w', [1000], x]])]).get('w')!.data], [...x]);
  const xy = meanWeights([set([['w', [1000], x]]), set([['w', [1000], y]])]).get('w')!.data;
  for (let i = 0; i < 1000; i++) assert.ok(Math.abs(xy[i] - (x[i] + y[i]) / 2) <= 1e-6 * Math.max(1, Math.abs(xy[i])), `element ${i}`);
});

test('meanWeights refuses sets that do not match, in one line', () => {
  const a = set([['w', [2], Float32Array.of(1, 2)]]);
  assert.throws(() => meanWeights([]), { message: 'meanWeights: no weights to average' });
  assert.throws(() => meanWeights([a, set([['w', [1, 2], Float32Array.of(1, 2)]])]), { message: 'meanWeights: weight set 1 has w of shape [1,2], not [2]' });
  assert.throws(() => meanWeights([a, set([['v', [2], Float32Array.of(1, 2)]])]), { message: 'meanWeights: weight set 1 lacks w' });
  assert.throws(() => meanWeights([a, set([['w', [2], Float32Array.of(1, 2)], ['v', [1], Float32Array.of(0)]])]), { message: 'meanWeights: weight set 1 has 2 tensors, the first 1' });
});

test('a run keeps its last evaluations: listed oldest first, pruned to the newest k, half-written ones ignored', () => {
  const dir = tmpDir();
  assert.deepEqual(keptEvals(path.join(dir, 'none')), []);
  for (const s of [40, 5, 1200, 300]) {
    fs.mkdirSync(path.join(dir, evalStepDir(s)));
    fs.writeFileSync(path.join(dir, evalStepDir(s), 'checkpoint.json'), '{}');
  }
  fs.mkdirSync(path.join(dir, evalStepDir(2000))); // no checkpoint.json: not kept
  fs.mkdirSync(path.join(dir, 'other'));
  assert.deepEqual(keptEvals(dir), [5, 40, 300, 1200]);
  pruneEvals(dir, 2);
  assert.deepEqual(keptEvals(dir), [300, 1200]);
  assert.ok(fs.existsSync(path.join(dir, 'other')), 'pruning removed something else');
  pruneEvals(dir, 5);
  assert.deepEqual(keptEvals(dir), [300, 1200]);
});
