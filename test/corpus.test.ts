import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { CORPORA, loadCorpus, splitCorpus, UserError, sha256, TINYSHAKESPEARE_SHA256, wrapParagraphs } from '../lib';
import { tmpDir } from './helpers';

test('named offline corpora load from their npm packages', async () => {
  const moby = await loadCorpus('moby-dick');
  assert.ok(moby.data.length > 1_000_000, `moby-dick has ${moby.data.length} bytes`);
  assert.match(moby.data.toString('utf8', 0, 200_000), /Call me Ishmael/);
  const names = await loadCorpus('names');
  const lines = names.data.toString().trim().split('\n');
  assert.ok(lines.length > 7000, `${lines.length} names`);
  assert.ok(lines.includes('Emma') && lines.includes('John'));
  assert.equal(new Set(lines).size, lines.length, 'names are unique');
});

test('linux corpus reads C headers when present', async (t) => {
  if (!fs.existsSync('/usr/include/linux')) return t.skip('no /usr/include/linux on this machine');
  const c = await loadCorpus('linux');
  assert.match(c.data.toString('utf8', 0, 100_000), /#(define|include|ifndef)/);
});

test('coreutils corpus: the manual unzipped, hard-wrapped (many lines of 60–79 bytes)', async () => {
  const c = await loadCorpus('coreutils');
  const text = c.data.toString('utf8');
  assert.match(text, /This manual documents version [0-9.]+ of the GNU core utilities/);
  const lengths = text.split('\n').map((l) => Buffer.byteLength(l));
  const wrapped = lengths.filter((n) => n >= 60 && n < 80).length;
  assert.ok(wrapped > 0.4 * lengths.filter((n) => n > 0).length, `${wrapped} of ${lengths.length} lines are 60–79 bytes`);
  // It ends before the concept index: the last node is the GNU Free Documentation License.
  assert.doesNotMatch(text, /Node: Concept index|Tag Table/);
  assert.match(text.slice(-40_000), /GNU Free Documentation License/);
});

test('wrapParagraphs: greedy word wrap by bytes, paragraphs apart by a blank line; moby-dick-64 is Moby-Dick wrapped so', async () => {
  assert.equal(wrapParagraphs('aa bb cc dd\n\nee  ff\n', 5), 'aa bb\ncc dd\n\nee ff\n');
  assert.equal(wrapParagraphs('abcdefgh ij', 4), 'abcdefgh\nij\n', 'a word longer than the width keeps a line of its own');
  // Width counts bytes: "é" is two, so "é é" (5 bytes) does not fit in 4.
  assert.equal(wrapParagraphs('é é x', 4), 'é\né x\n');
  assert.throws(() => wrapParagraphs('x', 0), /wrap width must be a positive integer/);
  const moby = (await loadCorpus('moby-dick')).data.toString('utf8');
  const wrapped = await loadCorpus('moby-dick-64');
  const lines = wrapped.data.toString('utf8').split('\n');
  const long = lines.filter((l) => Buffer.byteLength(l) > 64);
  assert.ok(long.every((l) => !l.includes(' ')), `only single over-long words pass 64 bytes: ${long.slice(0, 3).join(' | ')}`);
  assert.ok(lines.filter((l) => Buffer.byteLength(l) >= 50).length > 0.7 * lines.filter((l) => l).length, 'most lines are filled');
  assert.deepEqual(wrapped.data.toString('utf8').split(/\s+/).filter(Boolean), moby.split(/\s+/).filter(Boolean), 'the same words in the same order');
});

test('a file path and a Buffer load as corpora', async () => {
  const dir = tmpDir();
  const f = path.join(dir, 'x.txt');
  fs.writeFileSync(f, 'abc');
  assert.equal((await loadCorpus(f)).data.toString(), 'abc');
  assert.equal((await loadCorpus(Buffer.from('xyz'))).data.toString(), 'xyz');
});

test('bad corpora give clear errors', async () => {
  const dir = tmpDir();
  const empty = path.join(dir, 'empty.txt');
  fs.writeFileSync(empty, '');
  await assert.rejects(loadCorpus(empty), (e: Error) => e instanceof UserError && /is empty/.test(e.message));
  await assert.rejects(loadCorpus(Buffer.alloc(0)), /is empty/);
  await assert.rejects(loadCorpus('no-such-corpus'), /unknown corpus "no-such-corpus": use a file path or one of moby-dick, moby-dick-64, names, tinyshakespeare, linux, coreutils$/);
  await assert.rejects(loadCorpus('./missing/file.txt'), /corpus file not found/);
  await assert.rejects(loadCorpus(dir), /is not a file/);
});

test('tinyshakespeare: offline without a cache, a clear error says where to put the file', async () => {
  const dir = tmpDir();
  const old = process.env.UNREASONABLE_DATA_DIR;
  process.env.UNREASONABLE_DATA_DIR = dir;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async () => {
    throw new Error('getaddrinfo ENOTFOUND');
  }) as typeof fetch;
  try {
    await assert.rejects(loadCorpus('tinyshakespeare'), (e: Error) =>
      e instanceof UserError && e.message.includes('could not be downloaded') && e.message.includes(path.join(dir, 'tinyshakespeare.txt')) && e.message.includes('raw.githubusercontent.com'));
    // A download with the wrong content is refused and not saved.
    globalThis.fetch = (async () => new Response('not shakespeare')) as typeof fetch;
    await assert.rejects(loadCorpus('tinyshakespeare'), /wrong sha256/);
    assert.equal(fs.existsSync(path.join(dir, 'tinyshakespeare.txt')), false);
    // A wrong file in the cache is detected.
    fs.writeFileSync(path.join(dir, 'tinyshakespeare.txt'), 'tampered');
    await assert.rejects(loadCorpus('tinyshakespeare'), /sha256 mismatch/);
  } finally {
    globalThis.fetch = realFetch;
    if (old === undefined) delete process.env.UNREASONABLE_DATA_DIR;
    else process.env.UNREASONABLE_DATA_DIR = old;
  }
});

test('tinyshakespeare from the cache is verified by sha256', async (t) => {
  const info = CORPORA.find((c) => c.name === 'tinyshakespeare')!;
  if (!info.available()) return t.skip('tinyshakespeare is not in the cache (CI copies it there)');
  const c = await loadCorpus('tinyshakespeare');
  assert.equal(c.data.length, 1115394);
  assert.equal(sha256(c.data), TINYSHAKESPEARE_SHA256);
});

test('split by fractions, contiguous (char-rnn 0.95/0.05/0 default)', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
  const s = splitCorpus(data);
  assert.equal(s.train.length, 950);
  assert.equal(s.val.length, 50);
  assert.equal(s.test.length, 0);
  assert.equal(s.val[0], data[950]);
  const s2 = splitCorpus(data, { train: 0.8, val: 0.1, test: 0.1 });
  assert.deepEqual([s2.train.length, s2.val.length, s2.test.length], [800, 100, 100]);
  assert.throws(() => splitCorpus(data, { train: 0.9, val: 0.2 }), /add up to more than 1/);
  assert.throws(() => splitCorpus(data, { train: 0.9, val: -0.1 }), /between 0 and 1/);
});
