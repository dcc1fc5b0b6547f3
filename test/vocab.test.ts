import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ByteVocab, UserError } from '../lib';
import { useCpu } from './helpers';

test('vocabulary is the sorted set of bytes present', () => {
  const v = ByteVocab.fromData('hello');
  assert.deepEqual(Array.from(v.idToByte), [...'ehlo'].map((c) => c.charCodeAt(0)));
  assert.equal(v.size, 4);
  assert.deepEqual(Array.from(v.encode('hole')), [1, 3, 2, 0]);
  assert.equal(v.decode([1, 3, 2, 0]).toString(), 'hole');
});

test('works on bytes, not UTF-16 code units: é is two UTF-8 bytes', () => {
  const v = ByteVocab.fromData('café');
  assert.equal(v.size, 5); // c a f 0xC3 0xA9
  assert.ok(v.has(0xc3) && v.has(0xa9));
  const ids = v.encode('é');
  assert.equal(ids.length, 2);
  assert.equal(v.decode(ids).toString('utf8'), 'é');
});

test('binary data round-trips through the full 256-byte vocabulary', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256);
  const v = ByteVocab.full();
  assert.equal(v.size, 256);
  assert.deepEqual(new Uint8Array(v.decode(v.encode(data))), data);
});

test('unknown bytes: a clear error listing them, or skipped on request', () => {
  const v = ByteVocab.fromData('abc');
  assert.throws(() => v.encode('abzq\n'), (e: Error) => e instanceof UserError && /3 byte value\(s\) not in the model's vocabulary: 'z', 'q', '\\n'/.test(e.message));
  assert.deepEqual(Array.from(v.encode('abzq', { skipUnknown: true })), [0, 1]);
});

test('one-hot rows have a single 1 at the id', async () => {
  await useCpu();
  const v = ByteVocab.fromData('abc');
  const oh = v.oneHot([2, 0]);
  assert.deepEqual(oh.shape, [2, 3]);
  assert.deepEqual(Array.from(oh.dataSync()), [0, 0, 1, 1, 0, 0]);
  oh.dispose();
  assert.equal(tf.memory().numTensors, 0);
});

test('JSON round trip and invalid vocabularies', () => {
  const v = ByteVocab.fromData('xyz');
  assert.deepEqual(ByteVocab.fromJSON(v.toJSON()).idToByte, v.idToByte);
  assert.throws(() => new ByteVocab([1, 1]), /repeated/);
  assert.throws(() => new ByteVocab([300]), /not a byte/);
  assert.throws(() => ByteVocab.fromData(''), /empty/);
});
