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

test('shifted windows: epoch e reads every stream from epochOffset(e); offsets visit all of [0, seqLength) once in seqLength epochs', () => {
  const ids = Int32Array.from({ length: 1001 }, (_, i) => i);
  const B = 4, T = 10, n = 250;
  const L = new BatchLoader(ids, B, T, 'training data', true);
  assert.equal(L.numChunks, Math.floor((n - (T - 1)) / T)); // 24: room for an offset up to T − 1
  assert.equal(L.epochOffset(0), 0);
  const offsets = Array.from({ length: T }, (_, e) => L.epochOffset(e));
  assert.deepEqual([...offsets].sort((a, b) => a - b), Array.from({ length: T }, (_, i) => i));
  for (let e = 1; e < T; e++) assert.ok(Math.abs(offsets[e] - offsets[e - 1]) >= 2, `epochs ${e - 1}, ${e}: offsets ${offsets[e - 1]}, ${offsets[e]}`);
  assert.equal(L.epochOffset(T + 3), offsets[3]);
  for (const off of [0, 3, T - 1]) {
    // Row r of chunk i starts at r·n + off + i·T, stays inside stream r, and y is x shifted by one.
    for (let i = 0; i < L.numChunks; i++) {
      const c = L.chunk(i, off);
      for (let r = 0; r < B; r++) {
        assert.equal(c.x[r * T], r * n + off + i * T);
        assert.ok(c.y[r * T + T - 1] <= (r + 1) * n);
        for (let t = 0; t < T; t++) assert.equal(c.y[r * T + t], c.x[r * T + t] + 1);
      }
    }
  }
  assert.throws(() => L.chunk(0, T), /offset 10 out of range \[0, 9\]/);
  // Without shift: offset 0 only, every epoch.
  const plain = new BatchLoader(ids, B, T);
  assert.equal(plain.numChunks, 25);
  assert.equal(plain.epochOffset(5), 0);
  assert.throws(() => plain.chunk(0, 1), /offset 1 out of range \[0, 0\]/);
  // The smallest corpus for one shifted batch: B·(2T − 1) + 1 bytes.
  assert.throws(() => new BatchLoader(new Int32Array(4 * 19), 4, 10, 'training data', true), /too small for one batch with shifted windows of batchSize × \(2·seqLength − 1\) \+ 1 = 4 × 19 \+ 1 = 77 bytes/);
  assert.equal(new BatchLoader(new Int32Array(77), 4, 10, 'training data', true).numChunks, 1);
});
