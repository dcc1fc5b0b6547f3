/**
 * lib/toolkit/viz/explore.ts, the interactive neuron explorer: the 8-bit quantisation, the size bound,
 * and the page itself driven with the mouse and keyboard in headless Chromium, on a recording of
 * a hand-built LSTM whose unit 2 of layer 0 is a quote latch (flips at '"' and holds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ByteVocab, CharModel, NamedArray, Rng } from '../lib/index';
import { UserError } from '../lib/util/errors';
import { featureSeries, inQuotes } from '../lib/toolkit/neurons';
import { CHROMIUM_ARGS, chromiumPath } from '../lib/notebook';
import { record, Recording, topPredictions } from '../lib/toolkit/record';
import { activationColor } from '../lib/toolkit/viz/text';
import { dequantize, exploreSize, explorerData, explorerFragment, explorerHtml, MAX_EXPLORE_VALUES, quantize, saveExplorer } from '../lib/toolkit/viz/explore';
import { quoteText, randomArray, tmpDir, useCpu } from './helpers';

// Browser globals used inside page.evaluate (the project compiles without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare function getComputedStyle(e: any): any;

test('quantize: 8 bits over [min, max], round trip error ≤ (max − min)/510', () => {
  for (const [n, seed, scale, shift] of [[1000, 1, 1, 0], [777, 2, 40, 13], [64, 3, 1e-3, -5], [5000, 4, 300, 0]] as const) {
    const x = Float32Array.from(randomArray(n, seed, scale), (v) => v + shift);
    const qx = quantize(x);
    let min = Infinity;
    let max = -Infinity;
    for (const v of x) [min, max] = [Math.min(min, v), Math.max(max, v)];
    assert.equal(qx.lo, min);
    assert.equal(qx.hi, max);
    assert.equal(qx.q.length, n);
    const back = dequantize(qx);
    const range = max - min;
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(back[i] - x[i]));
    assert.ok(err <= range / 510 + range * 1e-9, `error ${err} > range/510 = ${range / 510}`);
    assert.ok(err <= range / 255, 'the bound the docs state');
    assert.ok(err > range / 2000, `error ${err}: 8 bits do lose precision (not a stub)`);
    assert.equal(Math.min(...qx.q), 0);
    assert.equal(Math.max(...qx.q), 255);
  }
  const c = quantize([2.5, 2.5, 2.5]);
  assert.deepEqual([c.lo, c.hi, [...c.q]], [2.5, 2.5, [0, 0, 0]], 'a constant series');
  assert.deepEqual([...dequantize(c)], [2.5, 2.5, 2.5]);
  const nan = quantize([NaN, 1, 3]);
  assert.deepEqual([nan.lo, nan.hi, [...nan.q]], [1, 3, [0, 0, 255]], 'non-finite values are left out of the range');
});

/** A recording-shaped object of any size without the arrays (exploreSize only checks what was recorded). */
function fakeRecording(hiddenSize: number, numLayers: number, length: number, kinds: ('h' | 'c')[]): Recording {
  const dummy = new Float32Array(1);
  return {
    bytes: new Uint8Array(length), ids: new Int32Array(length), length, hiddenSize, numLayers, modelType: 'lstm',
    vocab: ByteVocab.fromData('ab'), topK: 0, nextLogProb: new Float32Array(length),
    layers: Array.from({ length: numLayers }, (_, layer) => ({ layer, h: kinds.includes('h') ? dummy : undefined, c: kinds.includes('c') ? dummy : undefined })),
  };
}

test('size bound: a 2×512 LSTM over 5,000 bytes fits with h (a few MB), h and c are refused with how to shrink', () => {
  const rec = fakeRecording(512, 2, 8000, ['h', 'c']);
  const h = exploreSize(rec, { to: 5000, kinds: ['h'] });
  assert.equal(h.values, 2 * 512 * 5000);
  assert.ok(h.bytes > 6.8e6 && h.bytes < 8e6, `~${(h.bytes / 1e6).toFixed(1)} MB`);
  assert.throws(
    () => exploreSize(rec, { to: 5000 }),
    (e: Error) => {
      assert.ok(e instanceof UserError, 'a UserError (one clear line, no stack trace)');
      assert.ok(!e.message.includes('\n'));
      assert.match(e.message, /10,240,000 activation values \(2 layers × 2 kinds \(h, c\) × 512 units × 5,000 bytes\) are over the limit of 6,000,000/);
      assert.match(e.message, /fewer bytes \(to: from \+ 2,929\), fewer kinds \(e\.g\. kinds: \["h"\]\) or fewer layers \(e\.g\. layers: \[1\]\), or raise maxValues/);
      return true;
    },
  );
  // The advice works: 2,929 bytes fit, 2,930 do not.
  assert.equal(exploreSize(rec, { from: 100, to: 100 + 2929 }).values, 2 * 2 * 512 * 2929);
  assert.ok(2 * 2 * 512 * 2929 <= MAX_EXPLORE_VALUES && 2 * 2 * 512 * 2930 > MAX_EXPLORE_VALUES);
  assert.throws(() => exploreSize(rec, { from: 100, to: 100 + 2930 }), /over the limit/);
  assert.equal(exploreSize(rec, { to: 5000, layers: [1] }).values, 2 * 512 * 5000, 'one layer');
  assert.equal(exploreSize(rec, { to: 20_000, maxValues: 1e8 }).to, 8000, 'maxValues raises the bound; `to` stops at the end');
  assert.equal(exploreSize(rec).to, 2000, 'default window: 2,000 bytes');
  assert.throws(() => exploreSize(rec, { kinds: ['f'] }), /layer 0 f was not recorded \(it has h, c\)/);
  assert.throws(() => exploreSize(rec, { layers: [2] }), /layer 2 does not exist/);
  assert.throws(() => exploreSize(rec, { from: 8000 }), /from must be a position/);
  assert.throws(() => exploreSize(fakeRecording(4, 1, 10, []), {}), /holds no unit series/);
  // tanh(c) is derived from c: not shown by default (the bound above counts h and c), shown when named.
  assert.deepEqual(exploreSize(rec, { to: 100, kinds: ['h', 'tanhc'] }).kinds, ['h', 'tanhc']);
  assert.throws(() => exploreSize(fakeRecording(4, 1, 10, ['h']), { kinds: ['tanhc'] }), /layer 0 tanhc was not recorded \(it has h; tanhc needs c\)/);
});

// ------------------------------------------------------------------------------------------
// The hand-built model


const H = 8;
const U = 2; // the quote latch: layer 0, unit 2

/**
 * A 2-layer LSTM (hidden 8), random weights except unit U of layer 0, a quote latch (as in
 * test/neurons.test.ts): its gates are zeroed and then set so that o ≈ 1; on '"' i ≈ 1, f ≈ 0
 * (c' = g), elsewhere i ≈ 0, f ≈ 1 (c' = c); g = tanh(−10·h + 2) from its own previous h.
 * So c ≈ +1 inside quotes (opening quote included), ≈ −1 after the closing one, 0 before any.
 */
function quoteLatchModel(vocab: ByteVocab): CharModel {
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.5 }, 11);
  const w = new Map<string, NamedArray>();
  for (const [name, v] of model.namedParams()) w.set(name, { shape: v.shape.slice(), data: Float32Array.from(v.dataSync()) });
  const Wx = w.get('layers.0.Wx')!.data; // [V, 4H]
  const Wh = w.get('layers.0.Wh')!.data; // [H, 4H]
  const b = w.get('layers.0.b')!.data; //   [4H]
  const col = (gate: number, unit: number) => gate * H + unit; // gate order i, f, g, o
  const [I, F, G, O] = [0, 1, 2, 3];
  for (let gate = 0; gate < 4; gate++) {
    for (let v = 0; v < vocab.size; v++) Wx[v * 4 * H + col(gate, U)] = 0;
    for (let r = 0; r < H; r++) Wh[r * 4 * H + col(gate, U)] = 0;
    b[col(gate, U)] = 0;
  }
  const q = vocab.idOf(0x22);
  b[col(I, U)] = -15;
  Wx[q * 4 * H + col(I, U)] = 30;
  b[col(F, U)] = 15;
  Wx[q * 4 * H + col(F, U)] = -30;
  Wh[U * 4 * H + col(G, U)] = -10;
  b[col(G, U)] = 2;
  b[col(O, U)] = 15;
  model.setWeights(w);
  return model;
}

const FROM = 40;
const TO = 1240;

async function latchRecording(): Promise<{ rec: Recording; model: CharModel }> {
  await useCpu();
  const text = quoteText(1400);
  const vocab = ByteVocab.fromData(text);
  const model = quoteLatchModel(vocab);
  return { rec: record(model, vocab, text, { topK: 5 }), model };
}

/** Maximal runs [a, b] of inQuotes = 1 inside [FROM, TO), as window indices. */
function quotedRuns(rec: Recording): { a: number; b: number }[] {
  const f = featureSeries(inQuotes, rec.bytes);
  const runs: { a: number; b: number }[] = [];
  let a = -1;
  for (let t = FROM; t <= TO; t++) {
    const on = t < TO && f[t] === 1;
    if (on && a < 0) a = t;
    if (!on && a >= 0) {
      if (a > FROM && t < TO) runs.push({ a: a - FROM, b: t - 1 - FROM });
      a = -1;
    }
  }
  return runs;
}

test('explorerData: the quantised series decode to the recording within (max − min)/510', async () => {
  const { rec, model } = await latchRecording();
  const d = explorerData(rec, { from: FROM, to: TO }) as { T: number; q: string; lo: number[]; hi: number[]; groups: { layer: number; kind: string }[]; features: { name: string; corr: number[] }[] };
  assert.equal(d.T, TO - FROM);
  assert.deepEqual(d.groups.map((g) => `${g.layer}${g.kind}`), ['0h', '0c', '1h', '1c']);
  const q = Buffer.from(d.q, 'base64');
  assert.equal(q.length, 4 * H * d.T, 'one byte per value');
  for (const [gi, n] of [[0, U], [1, U], [2, 5], [3, 7]]) {
    const g = d.groups[gi];
    const a = rec.layers[g.layer][g.kind as 'h' | 'c']!;
    const k = gi * H + n;
    const back = dequantize({ lo: d.lo[k], hi: d.hi[k], q: q.subarray(k * d.T, (k + 1) * d.T) });
    for (let t = 0; t < d.T; t++) assert.ok(Math.abs(back[t] - a[(FROM + t) * H + n]) <= (d.hi[k] - d.lo[k]) / 510 + 1e-7, `${g.layer}/${g.kind}/${n} at ${t}`);
  }
  const quotes = d.features.find((f) => f.name === 'inQuotes')!;
  assert.ok(quotes.corr[1 * H + U] > 0.95, `c of the latch correlates with inQuotes: ${quotes.corr[1 * H + U]}`);
  model.dispose();
});

// ------------------------------------------------------------------------------------------
// In the browser

/** "rgb(r, g, b)" → [r, g, b] */
const rgb = (s: string) => (s.match(/\d+/g) ?? []).slice(0, 3).map(Number);

async function launch(): Promise<any> {
  assert.ok(fs.existsSync(chromiumPath()), `no Chromium at ${chromiumPath()} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { chromium } = require('playwright-core');
  return chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, '--headless', '--disable-sync', '--no-first-run'], headless: true });
}

/** Scroll byte t of the text near the top of its box (unless `scroll` is false) and return its box. */
async function byteBox(page: any, t: number, scroll = true): Promise<{ left: number; right: number; top: number; bottom: number }> {
  return page.evaluate(([i, sc]: [number, boolean]) => {
    const s = document.querySelector(`.ux-text span[data-i="${i}"]`);
    const text = document.querySelector('.ux-text');
    if (sc) text.scrollTop = s.offsetTop - 40;
    const r = s.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
  }, [t, scroll]);
}

/** Computed background colours of bytes `ts` of the text. */
async function colours(page: any, ts: number[]): Promise<number[][]> {
  const cs: string[] = await page.evaluate((is: number[]) => is.map((i) => getComputedStyle(document.querySelector(`.ux-text span[data-i="${i}"]`)).backgroundColor), ts);
  return cs.map(rgb);
}

/** The colour scale of a unit's series: h ±1; c its mean ± its largest deviation over the window. */
function scaleOf(series: number[], kind: string): (v: number) => number {
  if (kind !== 'c') return (v) => v;
  const mean = series.reduce((a, b) => a + b, 0) / series.length;
  const range = Math.max(...series.map((v) => Math.abs(v - mean)));
  return (v) => (v - mean) / range;
}

function assertColours(actual: number[][], values: number[], scale: (v: number) => number, what: string): void {
  values.forEach((v, i) => {
    const want = rgb(activationColor(scale(v)));
    assert.ok(actual[i].every((c, j) => Math.abs(c - want[j]) <= 2), `${what}, byte ${i}: ${actual[i]} vs ${want} (value ${v})`);
  });
}

/**
 * Drive one explorer page: select a quoted span (the latch must rank first), click a byte
 * (its five predictions), pick units by click, ↓ and search (the colours follow).
 */
async function exercise(page: any, rec: Recording): Promise<void> {
  await page.waitForSelector('.unreasonable-explorer[data-ready="1"]', { timeout: 20_000 });
  const T = TO - FROM;
  assert.equal(await page.locator('.ux-text span[data-i]').count(), T, 'one span per byte');

  // 1. A quoted span, selected with the mouse from its opening quote to the byte before the closing one.
  const runs = quotedRuns(rec);
  const run = runs.find((r) => r.b - r.a >= 8 && r.a > 100)!;
  assert.ok(run && rec.bytes[FROM + run.a] === 0x22 && rec.bytes[FROM + run.b + 1] === 0x22, 'a quoted run');
  const A = await byteBox(page, run.a);
  const B = await byteBox(page, run.b, false);
  assert.ok(B.top >= A.top, 'the span is laid out forward');
  await page.mouse.move(A.left + 1, (A.top + A.bottom) / 2);
  await page.mouse.down();
  await page.mouse.move((A.right + B.right) / 2, (A.top + B.bottom) / 2, { steps: 4 });
  await page.mouse.move(B.right - 1, (B.top + B.bottom) / 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForSelector('.ux-match', { timeout: 10_000 });
  const matches: { label: string; sign: string }[] = await page.evaluate(() =>
    [...document.querySelectorAll('.ux-match')].map((e: any) => ({ label: e.getAttribute('data-label'), sign: e.getAttribute('data-sign') })),
  );
  const selected: number[] = await page.evaluate(() => [...document.querySelectorAll('.ux-text span.ux-sel')].map((e: any) => +e.getAttribute('data-i')));
  assert.deepEqual([selected[0], selected.at(-1)], [run.a, run.b], 'the mouse selected exactly the quoted run');
  assert.ok(['0/c/2', '0/h/2'].includes(matches[0].label) && matches[0].sign === '1', `the quote latch ranks first: ${matches.map((m) => m.label).join(', ')}`);
  assert.ok(matches.slice(0, 2).every((m) => ['0/c/2', '0/h/2'].includes(m.label)), `its h and c are the top two: ${matches.slice(0, 3).map((m) => m.label)}`);
  // The other places with the same on/off pattern are quoted runs of similar length.
  const hl: number[] = await page.evaluate(() => [...document.querySelectorAll('.ux-text span.ux-hl')].map((e: any) => +e.getAttribute('data-i')));
  const L = run.b - run.a + 1;
  const similar = runs.filter((r) => r !== run && r.b - r.a + 1 >= Math.ceil(L / 2) && r.b - r.a + 1 <= 2 * L);
  assert.ok(similar.length >= 2, 'the text has other quotes of similar length');
  assert.deepEqual(hl, similar.flatMap((r) => Array.from({ length: r.b - r.a + 1 }, (_, i) => r.a + i)), 'exactly the quoted runs of similar length are underlined');
  assert.match(await page.locator('.ux-found').innerText(), new RegExp(`same pattern in ${similar.length} other places`));
  assert.equal(await page.locator('svg.ux-plot path.ux-line').count(), Math.min(3, matches.length), 'the top (up to three) matches are plotted');
  // The text is now coloured by the best match.
  const best = matches[0].label.split('/');
  const kind = best[1] as 'h' | 'c';
  const series = Array.from({ length: T }, (_, t) => rec.layers[0][kind]![(FROM + t) * H + U]);
  const probe = [run.a - 1, run.a, run.a + 3, run.b, run.b + 1, 5, T - 1];
  assertColours(await colours(page, probe), probe.map((t) => series[t]), scaleOf(series, kind), `coloured by ${matches[0].label}`);

  // 2. Click a byte: its top-5 predictions, as recorded.
  for (const t of [run.a + 2, 17]) {
    const box = await byteBox(page, t);
    await page.mouse.click((box.left + box.right) / 2, (box.top + box.bottom) / 2);
    await page.waitForFunction((i: number) => document.querySelector('.ux-info .ux-h')?.textContent.includes('pinned') && document.querySelector(`.ux-text span.ux-pin[data-i="${i}"]`), t);
    const preds: { byte: number; p: number }[] = await page.evaluate(() =>
      [...document.querySelectorAll('.ux-info .ux-pred')].map((e: any) => ({ byte: +e.getAttribute('data-byte'), p: Number(e.querySelector('.ux-p').textContent) })),
    );
    const want = topPredictions(rec, FROM + t);
    assert.equal(preds.length, 5);
    preds.forEach((p, j) => {
      assert.equal(p.byte, want[j].byte, `byte ${t}, guess ${j}`);
      assert.ok(Math.abs(p.p - want[j].prob) <= 6e-4, `byte ${t}, guess ${j}: p ${p.p} vs ${want[j].prob}`);
    });
    const header = await page.locator('.ux-info .ux-h').first().innerText();
    assert.ok(header.includes(`byte ${(FROM + t).toLocaleString('en-US')}`), header);
    assert.equal(await page.locator('.ux-info .ux-act').count(), 8, 'the units most active there');
  }

  // 3. Pick units: the text recolours.
  await page.locator('.ux-row[data-label="1/h/3"]').click();
  const h13 = Array.from({ length: T }, (_, t) => rec.layers[1].h![(FROM + t) * H + 3]);
  const some = [0, 9, 100, 333, run.a, T - 2];
  assertColours(await colours(page, some), some.map((t) => h13[t]), scaleOf(h13, 'h'), 'after clicking 1/h/3');
  assert.equal(await page.locator('.ux-row.ux-cur').getAttribute('data-label'), '1/h/3');
  // ↓ steps to the next unit of the ranking.
  const rows: string[] = await page.evaluate(() => [...document.querySelectorAll('.ux-row')].map((e: any) => e.getAttribute('data-label')));
  const next = rows[rows.indexOf('1/h/3') + 1];
  await page.locator('.ux-list').focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.locator('.ux-row.ux-cur').getAttribute('data-label'), next, '↓ selects the next unit');
  const [nl, nk, nu] = next.split('/');
  const nSeries = Array.from({ length: T }, (_, t) => rec.layers[+nl][nk as 'h' | 'c']![(FROM + t) * H + +nu]);
  assertColours(await colours(page, some), some.map((t) => nSeries[t]), scaleOf(nSeries, nk), `after ↓ to ${next}`);
  await page.keyboard.press('ArrowUp');
  assert.equal(await page.locator('.ux-row.ux-cur').getAttribute('data-label'), '1/h/3', '↑ goes back');
  // Search by layer/kind/index, Enter picks the first hit.
  await page.locator('.ux-search').fill('0/h/2');
  assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('.ux-row')].map((e: any) => e.getAttribute('data-label'))), ['0/h/2']);
  await page.locator('.ux-search').press('Enter');
  const h02 = Array.from({ length: T }, (_, t) => rec.layers[0].h![(FROM + t) * H + U]);
  assertColours(await colours(page, probe), probe.map((t) => h02[t]), scaleOf(h02, 'h'), 'after searching 0/h/2');
  await page.locator('.ux-search').fill('c');
  assert.equal(await page.locator('.ux-row').count(), 2 * H, '"c": every c unit of both layers');
  // Ranked by |r| against inQuotes, the latch is first.
  await page.locator('.ux-search').fill('');
  await page.locator('.ux-rank').selectOption({ label: '|r| vs inQuotes' });
  const top2: string[] = await page.evaluate(() => [...document.querySelectorAll('.ux-row')].slice(0, 2).map((e: any) => e.getAttribute('data-label')));
  assert.deepEqual(top2.sort(), ['0/c/2', '0/h/2'], 'ranked by |r| with inQuotes');
  // Hover shows the value.
  const hb = await byteBox(page, 50);
  await page.mouse.move((hb.left + hb.right) / 2, (hb.top + hb.bottom) / 2);
  const status = await page.locator('.ux-status').innerText();
  const shown = Number(status.slice(status.lastIndexOf('=') + 1).trim().replace('\u2212', '-'));
  assert.ok(status.includes(`byte ${FROM + 50}`) && Math.abs(shown - h02[50]) < 0.01, `hover: "${status}" vs ${h02[50]}`);
}

test('explorer in headless Chromium: span match ranks the quote latch first, predictions, recolouring; from a file:// page and from nbconvert HTML', { timeout: 240_000 }, async () => {
  const { rec, model } = await latchRecording();
  const dir = tmpDir('unreasonable-explore-');
  const file = saveExplorer(rec, path.join(dir, 'explorer.html'), { from: FROM, to: TO });
  const html = fs.readFileSync(file, 'utf8');
  const anyId = (s: string) => s.replace(/unreasonable-explorer-[\w-]+/g, 'ID');
  assert.equal(anyId(html), anyId(explorerHtml(rec, { from: FROM, to: TO })), 'saveExplorer writes explorerHtml');
  assert.match(html, /^<!doctype html>/);
  assert.ok(!/src=|href=|https?:\/\//.test(html.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, '')), 'nothing is loaded from anywhere');
  const browser = await launch();
  try {
    const errors: string[] = [];
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (e: Error) => errors.push(e.message));
    page.on('request', (r: any) => { if (!r.url().startsWith('file:')) errors.push(`request ${r.url()}`); });
    await page.goto(`file://${file}`);
    await exercise(page, rec);

    // As a notebook output converted by nbconvert (the fragment inside Jupyter's HTML template).
    const nb = {
      cells: [{ cell_type: 'code', execution_count: 1, metadata: {}, source: ['explore(rec)'], outputs: [{ output_type: 'display_data', metadata: {}, data: { 'text/html': explorerFragment(rec, { from: FROM, to: TO }), 'text/plain': '[explorer]' } }] }],
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    fs.writeFileSync(path.join(dir, 'nb.ipynb'), JSON.stringify(nb));
    const r = spawnSync('/usr/bin/python3', ['-m', 'nbconvert', '--to', 'html', '--output-dir', dir, path.join(dir, 'nb.ipynb')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `nbconvert failed (Debian: apt-get install python3-nbconvert): ${r.stderr}`);
    const nbPage = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    nbPage.on('pageerror', (e: Error) => errors.push(e.message));
    await nbPage.goto(`file://${path.join(dir, 'nb.html')}`);
    await exercise(nbPage, rec);
    assert.deepEqual(errors, [], 'no script errors, no network requests');
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  model.dispose();
});
