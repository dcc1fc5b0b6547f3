import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ByteVocab, CharModel, decodeSafetensors, encodeSafetensors, loadCheckpoint, NamedArray, partFile, readCheckpointMeta, saveCheckpoint, UserError, writeDirAtomic } from '../lib';
import { f16ToF32, f32ToF16 } from '../lib/io/safetensors';
import { Rng } from '../lib/util/rng';
import { hashTree, tmpDir, useCpu } from './helpers';

const vocab = ByteVocab.fromData('hello world');
const config = { modelType: 'gru' as const, vocabSize: vocab.size, hiddenSize: 6, numLayers: 2, dropout: 0.1 };

test('save + load round-trips weights, config and vocabulary', async () => {
  await useCpu();
  const m = new CharModel(config, 9);
  const dir = path.join(tmpDir(), 'ck');
  saveCheckpoint(dir, { model: m, vocab });
  const ck = loadCheckpoint(dir);
  assert.deepEqual(ck.meta.model, m.config);
  assert.deepEqual(ck.vocab.idToByte, vocab.idToByte);
  for (const [name, v] of m.namedParams()) assert.deepEqual(ck.model.namedParams().get(name)!.dataSync(), v.dataSync(), name);
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['ck'], 'no temp files left beside it');
});

test('safetensors: round trip, and F16/F64 tensors read as float32', () => {
  const t = new Map<string, NamedArray>([['a', { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }], ['b', { shape: [1], data: Float32Array.from([-0.5]) }]]);
  const buf = encodeSafetensors(t, { note: 'x' });
  const back = decodeSafetensors(buf);
  assert.deepEqual(back.metadata, { note: 'x' });
  assert.deepEqual(Array.from(back.tensors.get('a')!.data), [1, 2, 3, 4]);
  assert.deepEqual(back.tensors.get('a')!.shape, [2, 2]);
  // Hand-built file: F16 [1.0, -2.0] (0x3c00, 0xc000) and F64 [0.25].
  const header = JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, d: { dtype: 'F64', shape: [1], data_offsets: [4, 12] } });
  const data = Buffer.alloc(12);
  data.writeUInt16LE(0x3c00, 0);
  data.writeUInt16LE(0xc000, 2);
  data.writeDoubleLE(0.25, 4);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const parsed = decodeSafetensors(Buffer.concat([len, Buffer.from(header), data]));
  assert.deepEqual(Array.from(parsed.tensors.get('h')!.data), [1, -2]);
  assert.deepEqual(Array.from(parsed.tensors.get('d')!.data), [0.25]);
});

test('F16: every half value round-trips; any float32 goes to the nearest half (ties to even); a checkpoint saved as F16 loads those values', async () => {
  for (let h = 0; h < 0x10000; h++) {
    const x = f16ToF32(h);
    if (Number.isNaN(x)) assert.ok(Number.isNaN(f16ToF32(f32ToF16(x))));
    else assert.equal(f32ToF16(x), h, `half 0x${h.toString(16)}`);
  }
  // Nearest: no other half is closer; at a tie the mantissa is even. Values span subnormals to overflow.
  const rng = new Rng(5);
  const xs = [65504, 65519.99, 65520, 1e6, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2049, 2051];
  for (let i = 0; i < 20000; i++) xs.push((rng.uniform(-1, 1) < 0 ? -1 : 1) * Math.fround(2 ** rng.uniform(-27, 17)));
  for (const x0 of xs) {
    const x = Math.fround(x0);
    const h = f32ToF16(x);
    const y = f16ToF32(h);
    if (!Number.isFinite(y)) {
      assert.ok(Math.abs(x) >= 65520, `${x} overflowed`); // IEEE: from the midpoint between 65504 and 2^16 up
      continue;
    }
    for (const other of [h - 1, h + 1]) {
      if ((other & 0x7fff) > 0x7c00 || other < 0 || ((other ^ h) & 0x8000) !== 0) continue; // NaNs, across the sign
      const z = f16ToF32(other);
      const dy = Math.abs(x - y), dz = Math.abs(x - z);
      assert.ok(dy < dz || (dy === dz && (h & 1) === 0), `${x} → ${y} (0x${h.toString(16)}), but ${z} is nearer or the even tie`);
    }
  }
  assert.equal(f16ToF32(f32ToF16(65520)), Infinity);
  assert.equal(f16ToF32(f32ToF16(65519.99)), 65504);
  assert.equal(f16ToF32(f32ToF16(-1e6)), -Infinity);
  await useCpu();
  const m = new CharModel(config, 9);
  const dir = path.join(tmpDir(), 'ck16');
  saveCheckpoint(dir, { model: m, vocab, modelDtype: 'F16' });
  const ck = loadCheckpoint(dir);
  const file = fs.readFileSync(path.join(dir, partFile(readCheckpointMeta(dir), 'model')!));
  assert.equal(file.length - 8 - Number(file.readBigUInt64LE(0)), 2 * m.numParams(), 'two bytes a weight');
  for (const [name, v] of m.namedParams()) {
    const want = Array.from(v.dataSync() as Float32Array, (x) => f16ToF32(f32ToF16(x)));
    assert.deepEqual(Array.from(ck.model.namedParams().get(name)!.dataSync()), want, name);
  }
});

test('missing, corrupt, truncated and foreign checkpoints give clear errors and change nothing', async () => {
  await useCpu();
  const root = tmpDir();
  const dir = path.join(root, 'ck');
  saveCheckpoint(dir, { model: new CharModel(config, 1), vocab });
  const expectError = (d: string, re: RegExp) => {
    const before = fs.existsSync(d) ? hashTree(d) : undefined;
    assert.throws(() => loadCheckpoint(d), (e: Error) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));
    if (before) assert.deepEqual(hashTree(d), before);
  };
  expectError(path.join(root, 'nope'), /checkpoint not found/);
  const copy = (name: string) => {
    const d = path.join(root, name);
    fs.cpSync(dir, d, { recursive: true });
    return d;
  };
  const truncated = copy('truncated');
  const f = path.join(truncated, partFile(readCheckpointMeta(truncated), 'model')!);
  fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 100));
  expectError(truncated, /model-[0-9a-f]{12}\.safetensors is corrupt or truncated \(sha256 mismatch\)/);
  const badJson = copy('badjson');
  fs.writeFileSync(path.join(badJson, 'checkpoint.json'), '{"format": ');
  expectError(badJson, /checkpoint.json is corrupt \(not valid JSON\)/);
  const foreign = copy('foreign');
  fs.writeFileSync(path.join(foreign, 'checkpoint.json'), JSON.stringify({ format: 'something-else' }));
  expectError(foreign, /is not an unreasonable checkpoint/);
  const torchLike = path.join(root, 'torch');
  fs.mkdirSync(torchLike);
  fs.writeFileSync(path.join(torchLike, 'model.safetensors'), 'x');
  fs.writeFileSync(path.join(torchLike, 'meta.json'), '{}');
  expectError(torchLike, /checkpoint.json is missing \(it looks like a PyTorch checkpoint/);
  const mismatched = copy('mismatched');
  const meta = JSON.parse(fs.readFileSync(path.join(mismatched, 'checkpoint.json'), 'utf8'));
  meta.model.hiddenSize = 7;
  fs.writeFileSync(path.join(mismatched, 'checkpoint.json'), JSON.stringify(meta));
  expectError(mismatched, /weight "layers.0.Wx" has shape \[\d+,18\], the model needs \[\d+,21\]/);
  assert.throws(() => decodeSafetensors(Buffer.from([1, 2, 3])), /not a valid safetensors file: only 3 bytes/);
});

test('a failed save (disk full, unwritable) leaves the previous checkpoint intact', async () => {
  await useCpu();
  const root = tmpDir();
  const dir = path.join(root, 'ck');
  saveCheckpoint(dir, { model: new CharModel(config, 1), vocab });
  const before = hashTree(dir);
  // Simulate a full disk: the second file written into the temp directory fails half-way with ENOSPC.
  const cjsFs = require('fs') as typeof fs;
  const realWrite = cjsFs.writeFileSync;
  let writes = 0;
  cjsFs.writeFileSync = ((file: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, opts?: fs.WriteFileOptions) => {
    if (String(file).includes('.tmp-') && ++writes === 2) {
      realWrite(file, 'partial');
      const e = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException;
      e.code = 'ENOSPC';
      throw e;
    }
    return realWrite(file, data, opts);
  }) as typeof fs.writeFileSync;
  try {
    assert.throws(() => saveCheckpoint(dir, { model: new CharModel(config, 2), vocab }), (e: Error) => e instanceof UserError && /could not save checkpoint .*ENOSPC.*previous checkpoint, if any, is intact/.test(e.message));
  } finally {
    cjsFs.writeFileSync = realWrite;
  }
  assert.equal(writes, 2, 'the failure was injected');
  assert.deepEqual(hashTree(dir), before);
  assert.deepEqual(fs.readdirSync(root), ['ck'], 'no partial directory left');
});

test('an interrupted swap (crash between the two renames) is recovered on load', async () => {
  await useCpu();
  const root = tmpDir();
  const dir = path.join(root, 'ck');
  writeDirAtomic(dir, new Map([['a.txt', 'one']]));
  saveCheckpoint(dir, { model: new CharModel(config, 1), vocab });
  fs.renameSync(dir, `${dir}.old-12345`); // as if the process died right after the first rename
  const ck = loadCheckpoint(dir);
  assert.equal(ck.model.config.hiddenSize, 6);
  assert.ok(fs.existsSync(dir));
});
