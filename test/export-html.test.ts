/**
 * `unreasonable export --html`: the standalone page generates text in real headless Chromium
 * (opened from file://, the network blocked), the same seed gives the same text, and the text is
 * exactly what lib/generate/sample.ts's sample() gives for the same model, prime, temperature, length and
 * seed; the page's next-byte distribution equals the library's to 1e-5. lib/interop/web/sampler.js is
 * checked against lib/util/rng.ts and lib/generate/sample.ts draw by draw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import { ByteVocab, CharModel, exportHtmlPage, PAGE_FILES, pickId, Rng, sample, saveCheckpoint, softmaxWithTemperature, Stepper } from '../lib';
import { CHROMIUM_ARGS, chromiumPath } from '../lib/notebook';
import { maxAbsDiff, randomArray, tmpDir, useCpu } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const TEXT = 'First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n';
const vocab = ByteVocab.fromData(TEXT);

interface PageSampler {
  Rng: new (seed: number) => { nextUint32(): number; next(): number; categorical(w: ArrayLike<number>): number };
  softmaxWithTemperature(l: ArrayLike<number>, t: number): Float64Array;
  pickId(l: ArrayLike<number>, t: number, rng: unknown): number;
}

function pageSampler(): PageSampler {
  const ctx: Record<string, unknown> = {};
  ctx.globalThis = ctx;
  vm.runInNewContext(fs.readFileSync(path.join(ROOT, 'lib/interop/web/sampler.js'), 'utf8'), ctx);
  return ctx.UnreasonableSampler as PageSampler;
}

test("the page's sampler.js draws exactly lib/util/rng.ts's and lib/generate/sample.ts's numbers", () => {
  const S = pageSampler();
  for (const seed of [0, 1, 42, 0xffffffff, 123456789]) {
    const a = new Rng(seed);
    const b = new S.Rng(seed);
    for (let i = 0; i < 1000; i++) assert.equal(b.nextUint32(), a.nextUint32(), `seed ${seed} draw ${i}`);
  }
  const logits = randomArray(vocab.size, 7, 3);
  for (const t of [0, 0.3, 1, 1.7]) {
    const a = new Rng(9);
    const b = new S.Rng(9);
    const ours = Array.from({ length: 500 }, () => pickId(logits, t, a));
    assert.deepEqual(Array.from({ length: 500 }, () => S.pickId(logits, t, b)), ours, `temperature ${t}`);
    if (t > 0) assert.deepEqual(Array.from(S.softmaxWithTemperature(logits, t)), Array.from(softmaxWithTemperature(logits, t)));
    assert.ok(t === 0 || new Set(ours).size > 3, 'draws should vary');
  }
});

interface PageApi {
  ready: Promise<string>;
  generate(o: { prime: string; temperature: number; length: number; seed: number }): Promise<{ bytes: number[]; text: string }>;
  nextProbs(prime: string, t: number): Promise<number[]>;
}
declare const window: { unreasonable: PageApi };
declare const tf: { memory(): { numTensors: number } };

test('the exported web page generates in Chromium from file://, offline, the same text as sample()', { timeout: 300_000 }, async () => {
  await useCpu();
  const root = tmpDir();
  const lstm = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 24, numLayers: 2, dropout: 0, initScale: 0.5 }, 3);
  const rnn = new CharModel({ modelType: 'rnn', vocabSize: vocab.size, hiddenSize: 16, numLayers: 1, dropout: 0, initScale: 0.5 }, 4);
  // The LSTM through the CLI (checkpoint → export --html), the RNN through the library call.
  const ck = path.join(root, 'ck');
  saveCheckpoint(ck, { model: lstm, vocab });
  const lstmPage = path.join(root, 'page-lstm');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/unreasonable.js'), 'export', '--checkpoint', ck, '--html', lstmPage, '--prime', 'All:'],
    { encoding: 'utf8', env: { ...process.env, UNREASONABLE_BACKEND: 'cpu' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote a web page \(8 files, \d+ bytes\) to .*index\.html/);
  assert.deepEqual(fs.readdirSync(lstmPage).sort(), [...PAGE_FILES].sort());
  const rnnPage = path.join(root, 'page-rnn');
  await exportHtmlPage(rnn, vocab, rnnPage);
  // A directory with other files is refused; an earlier page is replaced.
  fs.mkdirSync(path.join(root, 'other'));
  fs.writeFileSync(path.join(root, 'other', 'notes.txt'), 'mine');
  await assert.rejects(exportHtmlPage(rnn, vocab, path.join(root, 'other')), /holds other files \(notes.txt\)/);
  await exportHtmlPage(rnn, vocab, rnnPage);

  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] });
  try {
    const ctx = await browser.newContext();
    const requests: string[] = [];
    await ctx.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // --- the LSTM page, through its UI ---
    await page.goto(`file://${lstmPage}/index.html`);
    await page.locator('body[data-state="ready"]').waitFor({ timeout: 60_000 });
    assert.equal(await page.inputValue('#prime'), 'All:');
    const settings = { prime: 'Speak', temperature: 0.9, length: 300, seed: 11 };
    const ours = sample(lstm, vocab, settings).toString('latin1');
    const viaUi = async (s: typeof settings): Promise<string> => {
      await page.fill('#prime', s.prime);
      await page.fill('#temperature', String(s.temperature));
      await page.fill('#length', String(s.length));
      await page.fill('#seed', String(s.seed));
      await page.click('#generate');
      await page.locator('body[data-state="done"]').waitFor({ timeout: 120_000 });
      const out = (await page.textContent('#output')) ?? '';
      assert.ok(out.startsWith(s.prime), out);
      return out.slice(s.prime.length);
    };
    const first = await viaUi(settings);
    assert.equal(first.length, 300);
    assert.equal(first, ours, 'the page must generate what sample() generates');
    assert.match((await page.textContent('#status')) ?? '', /^300 bytes in [\d.]+ s \(\d+ bytes\/s, cpu\)/);
    assert.equal(await viaUi(settings), first, 'the same seed must give the same text');
    const other = await viaUi({ ...settings, seed: 12 });
    assert.notEqual(other, first, 'another seed should give other text');
    assert.equal(other, sample(lstm, vocab, { ...settings, seed: 12 }).toString('latin1'));
    // Greedy (temperature 0) and the default prime, through the API.
    const api = await page.evaluate(async () => {
      const n0 = tf.memory().numTensors;
      const g = await window.unreasonable.generate({ prime: '', temperature: 0, length: 120, seed: 5 });
      const g2 = await window.unreasonable.generate({ prime: '', temperature: 0, length: 120, seed: 5 });
      return { text: g.text, n0, n1: tf.memory().numTensors, same: g.text === g2.text };
    });
    assert.equal(api.text, sample(lstm, vocab, { length: 120, temperature: 0, seed: 5 }).toString('latin1'));
    assert.ok(api.same);
    assert.equal(api.n1, api.n0, 'tensors leak in the page');
    // Next-byte distributions after a prime.
    const stepper = new Stepper(lstm);
    const libProbs = softmaxWithTemperature(stepper.feed(vocab.encode('Before we')), 1);
    stepper.dispose();
    const pageProbs = await page.evaluate(() => window.unreasonable.nextProbs('Before we', 1));
    const d = maxAbsDiff(libProbs, pageProbs);
    console.log(`LSTM page vs library: next-byte probabilities max abs diff ${d.toExponential(2)}`);
    assert.ok(d < 1e-5, `max abs diff ${d}`);
    assert.ok(Math.max(...libProbs) > 2 / vocab.size, 'the distribution is trivially uniform');

    // --- the RNN page, through the API ---
    await page.goto(`file://${rnnPage}/index.html`);
    await page.locator('body[data-state="ready"]').waitFor({ timeout: 60_000 });
    const s2 = { prime: 'hear me', temperature: 1, length: 200, seed: 3 };
    const rnnText = await page.evaluate((s) => window.unreasonable.generate(s).then((g) => g.text), s2);
    assert.equal(rnnText, sample(rnn, vocab, s2).toString('latin1'));
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], 'the page must not use the network');
    await ctx.close();
  } finally {
    await browser.close();
    lstm.dispose();
    rnn.dispose();
  }
});
