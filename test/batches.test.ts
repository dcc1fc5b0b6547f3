import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchLoader, UserError } from '../lib';

test('chunk i+1 row b continues chunk i row b; y is x shifted by one', () => {
  const ids = Int32Array.from({ length: 1001 }, (_, i) => i);
  const B = 4, T = 10;
  const L = new BatchLoader(ids, B, T);
  assert.equal(L.streamLength, 250);
  assert.equal(L.numChunks, 25);
  for (let i = 0; i + 1 < L.numChunks; i++) {
    const a = L.chunk(i), b = L.chunk(i + 1);
    for (let r = 0; r < B; r++) {
      // last input of row r in chunk i is followed by the first input of row r in chunk i+1
      assert.equal(b.x[r * T], a.x[r * T + T - 1] + 1);
      // the last target of row r in chunk i is the first input of row r in chunk i+1
      assert.equal(a.y[r * T + T - 1], b.x[r * T]);
      for (let t = 0; t < T; t++) assert.equal(a.y[r * T + t], a.x[r * T + t] + 1);
    }
  }
  // Streams are contiguous blocks of the data: row r starts at r·n.
  const c0 = L.chunk(0);
  for (let r = 0; r < B; r++) assert.equal(c0.x[r * T], r * 250);
});

test('every training byte position is used at most once per epoch', () => {
  const ids = Int32Array.from({ length: 5000 }, (_, i) => i);
  const L = new BatchLoader(ids, 7, 13);
  const seen = new Set<number>();
  for (let i = 0; i < L.numChunks; i++) for (const v of L.chunk(i).x) {
    assert.ok(!seen.has(v));
    seen.add(v);
  }
  assert.equal(seen.size, L.numChunks * 7 * 13);
});

test('a corpus smaller than one batch is a clear error', () => {
  assert.throws(() => new BatchLoader(new Int32Array(40), 4, 10), (e: Error) => e instanceof UserError && /has 40 bytes, too small for one batch of batchSize × seqLength \+ 1 = 4 × 10 \+ 1 = 41 bytes/.test(e.message));
  assert.doesNotThrow(() => new BatchLoader(new Int32Array(41), 4, 10));
  assert.throws(() => new BatchLoader(new Int32Array(100), 0, 10), /batchSize must be a positive integer/);
  assert.throws(() => new BatchLoader(new Int32Array(100), 2, 1.5), /seqLength must be a positive integer/);
});
