/**
 * The pictures of the hidden-state toolkit (lib/toolkit/viz/*): what the HTML/SVG/figures contain, and
 * that the exported files really render in headless Chromium (element counts, layout, pixels).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { ByteVocab, CharModel } from '../lib/index';
import { CHROMIUM_ARGS, chromiumPath, figurePage, htmlPage, screenshotHtml } from '../lib/notebook';
import { record } from '../lib/toolkit/record';
import { activationColor, activationHtml, byteGlyph, byteGlyphs, predictionsHtml, unitHtml } from '../lib/toolkit/viz/text';
import { gateSaturation, saturationFigure, unitsHeatmapFigure } from '../lib/toolkit/viz/units';
import { diagramCounts, unrolledDot, unrolledSvg } from '../lib/toolkit/viz/diagram';
import { useCpu } from './helpers';

// Browser globals used inside page.evaluate (the project compiles without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const Image: any;
declare function getComputedStyle(e: any): any;
type HTMLElement = any;

const TEXT = 'He said "hello <there> & goodbye."\n\tShe said "no."\nCafé, naïve — done.\n';

function count(s: string, re: RegExp): number {
  return (s.match(re) ?? []).length;
}

test('activationColor: −1 blue, 0 white, +1 red, clipped', () => {
  assert.equal(activationColor(0), 'rgb(255,255,255)');
  assert.equal(activationColor(1), 'rgb(178,24,43)');
  assert.equal(activationColor(-1), 'rgb(33,102,172)');
  assert.equal(activationColor(5), activationColor(1));
  assert.equal(activationColor(2, 4), 'rgb(217,140,149)', 'range scales');
  assert.equal(activationColor(NaN), 'rgb(255,255,255)');
});

test('activationHtml: one span per byte, colours follow the values, text escaped, lines kept', () => {
  const bytes = new Uint8Array(Buffer.from(TEXT, 'utf8'));
  const values = Float32Array.from(bytes, (_, i) => Math.sin(i / 3));
  const html = activationHtml(bytes, values);
  const spans = [...html.matchAll(/<span style="background:(rgb\(\d+,\d+,\d+\))"/g)];
  assert.equal(spans.length, bytes.length, 'one span per byte (UTF-8 continuation bytes too)');
  assert.ok(new Set(spans.map((m) => m[1])).size > 20, 'colours vary with the values');
  spans.forEach((m, i) => assert.equal(m[1], activationColor(values[i]), `span ${i}`));
  assert.ok(html.includes('>&#60;</span>') && html.includes('>&#38;</span>') && !html.includes('<there'), 'HTML special characters escaped');
  assert.equal(count(html, /↵<\/span>\n/g), 3, 'each newline drawn and kept as a line break');
  assert.ok(html.includes('white-space:pre-wrap'));
  assert.ok(html.includes('>é<') && html.includes('>—<'), 'multi-byte characters drawn on their first byte');
  assert.throws(() => activationHtml(bytes, values.subarray(1)), /bytes but/);
  assert.deepEqual(byteGlyphs(new Uint8Array([0x41, 0x00, 0xc3, 0xa9, 0xff, 0x0a])), ['A', '␀', 'é', '', '\uFFFD', '\n']);
  assert.deepEqual([0x41, 0xc3, 0xa9].map(byteGlyph), ['A', '\uFFFD', '\uFFFD'], 'single bytes are never joined');
});

/** A small LSTM with gate biases set so that some units' gates are pinned (see the saturation test). */
function pinnedModel(vocab: ByteVocab): CharModel {
  const H = 6;
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.1 }, 4);
  tf.tidy(() => {
    for (const cell of model.cells) {
      const b = cell.b.dataSync().slice();
      b[0 * H + 0] = 12; // unit 0: input gate always ≈ 1 (right-saturated)
      b[1 * H + 1] = -12; // unit 1: forget gate always ≈ 0 (left-saturated)
      b[3 * H + 2] = 12; // unit 2: output gate always ≈ 1
      b[3 * H + 3] = 0; // unit 3: output gate ≈ 0.5, never saturated (weights are small)
      cell.b.assign(tf.tensor1d(b));
    }
  });
  return model;
}

test('gate saturation fractions, and the scatter figure: one panel per sigmoid gate, one trace per layer and gate', async () => {
  await useCpu();
  const vocab = ByteVocab.fromData(TEXT);
  const model = pinnedModel(vocab);
  const rec = record(model, vocab, TEXT, { gates: true, topK: 0 });
  const sat = gateSaturation(rec);
  assert.deepEqual(sat.map((s) => `${s.layer}${s.gate}`), ['0i', '0f', '0o', '1i', '1f', '1o']);
  for (const layer of [0, 1]) {
    const get = (g: string) => sat.find((s) => s.layer === layer && s.gate === g)!;
    assert.equal(get('i').right[0], 1);
    assert.equal(get('i').left[0], 0);
    assert.equal(get('f').left[1], 1);
    assert.equal(get('o').right[2], 1);
    assert.equal(get('o').left[3] + get('o').right[3], 0);
    for (const s of sat) for (let u = 0; u < 6; u++) assert.ok(s.left[u] + s.right[u] <= 1 + 1e-6);
  }
  assert.throws(() => gateSaturation(record(model, vocab, TEXT, { topK: 0 }), { gates: ['f'] }), /not recorded/);
  const fig = saturationFigure(sat);
  assert.equal(fig.data.length, 6);
  assert.deepEqual([...new Set(fig.data.map((d) => d.xaxis))], ['x', 'x2', 'x3']);
  assert.equal((fig.layout.shapes as unknown[]).length, 3, 'a diagonal x + y = 1 per panel');
  model.dispose();
});

test('predictionsHtml: a column per byte with the top-k under it; the right guess outlined', async () => {
  await useCpu();
  const vocab = ByteVocab.fromData(TEXT);
  const model = pinnedModel(vocab);
  const rec = record(model, vocab, TEXT, { topK: 5 });
  const html = predictionsHtml(rec, { from: 0, to: 40 });
  const cols = html.split('class="pred-col"').slice(1);
  assert.equal(cols.length, 40);
  for (const c of cols) assert.equal(count(c, /width:1\.35em/g), 6, 'the byte and 5 guesses');
  let hits = 0;
  for (let t = 0; t < 40; t++) for (let j = 0; j < 5; j++) if (rec.topIds![t * 5 + j] === rec.ids[t + 1]) hits++;
  assert.equal(count(html, /outline:2px/g), hits, 'outlined = the byte that came next');
  assert.equal(count(html, /flex-basis:100%/g), 1, 'the newline at byte 34 starts a new row');
  assert.throws(() => predictionsHtml(record(model, vocab, TEXT, { topK: 0 })), /no top-k/);
  model.dispose();
});

test('units heatmap: units × positions, bytes on the x axis', async () => {
  await useCpu();
  const vocab = ByteVocab.fromData(TEXT);
  const model = pinnedModel(vocab);
  const rec = record(model, vocab, TEXT, { topK: 0 });
  const fig = unitsHeatmapFigure(rec, { layer: 1, units: [4, 0, 2], from: 3, to: 13 });
  const z = fig.data[0].z as number[][];
  assert.equal(z.length, 3);
  assert.equal(z[0].length, 10);
  assert.equal(z[1][2], rec.layers[1].h![(3 + 2) * 6 + 0]);
  assert.deepEqual((fig.layout.xaxis as { ticktext: string[] }).ticktext.join(''), 'said␣"hell');
  assert.deepEqual(fig.data[0].y, ['h[4]', 'h[0]', 'h[2]']);
  const c = unitsHeatmapFigure(rec, { kind: 'c' });
  assert.ok((c.data[0].zmax as number) >= 1);
  // unitHtml of a cell state colours its deviation from the mean: the extreme byte gets full colour.
  const colours = [...unitHtml(rec, 1, 'c', 0, { to: rec.length }).matchAll(/background:(rgb\([^)]*\))/g)].map((m) => m[1]);
  assert.equal(colours.length, rec.length);
  assert.ok(colours.includes(activationColor(1)) || colours.includes(activationColor(-1)), 'normalised to the full range');
  const raw = [...unitHtml(rec, 1, 'c', 0, { to: rec.length, normalize: false }).matchAll(/background:(rgb\([^)]*\))/g)].map((m) => m[1]);
  assert.notDeepEqual(raw, colours);
  model.dispose();
});

test('unrolled diagram: L×T layer nodes + T inputs + T outputs, and the edges of each style', async () => {
  for (const [modelType, numLayers, steps, style] of [
    ['lstm', 2, 3, 'passthrough'],
    ['rnn', 1, 5, 'passthrough'],
    ['gru', 3, 4, 'shortcut'],
    ['lstm', 3, 2, 'shortcut'],
  ] as const) {
    const config = { modelType, numLayers, hiddenSize: 32 };
    const svg = await unrolledSvg(config, { steps, style });
    const want = diagramCounts(config, { steps, style });
    assert.equal(want.nodes, numLayers * steps + 2 * steps);
    assert.equal(count(svg, /class="node"/g), want.nodes, `${modelType} ${numLayers}×${steps} nodes`);
    assert.equal(count(svg, /class="edge"/g), want.edges, `${modelType} ${numLayers}×${steps} ${style} edges`);
    assert.equal(count(svg, /stroke-dasharray/g), style === 'shortcut' ? 2 * steps * (numLayers - 1) : 0, 'dashed shortcut edges');
    assert.equal(count(svg, /> ?c<\/text>/g), modelType === 'lstm' ? numLayers * (steps - 1) : 0, 'LSTM cell-state edges');
    assert.ok(svg.includes(`${numLayers}&#45;layer ${modelType.toUpperCase()}, 32 units per layer`), 'caption from the model structure');
  }
  assert.match(unrolledDot({ modelType: 'lstm', numLayers: 1, hiddenSize: 4 }, { steps: 2, text: 'a"' }), /x₁ = '\\"'/);
});

test('exported pictures render in headless Chromium', { timeout: 180_000 }, async () => {
  assert.ok(fs.existsSync(chromiumPath()), `no Chromium at ${chromiumPath()}`);
  await useCpu();
  const vocab = ByteVocab.fromData(TEXT);
  const model = pinnedModel(vocab);
  const rec = record(model, vocab, TEXT, { topK: 5 });
  const activation = htmlPage(unitHtml(rec, 0, 'c', 4, { to: rec.length }));
  const predictions = htmlPage(predictionsHtml(rec, { to: rec.length }));
  const svg = await unrolledSvg(model, { steps: 4 });
  const heat = figurePage(unitsHeatmapFigure(rec, { layer: 0 }), { height: 300 });

  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS], headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 400 } });
    /** Fraction of non-white pixels of a PNG, decoded by the browser itself. */
    const inked = async (png: Buffer): Promise<number> =>
      page.evaluate(async (b64: string) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, img.width, img.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245) n++;
        return n / (d.length / 4);
      }, png.toString('base64'));

    await page.setContent(activation);
    const act = await page.evaluate(() => {
      const spans = [...document.querySelectorAll('pre > span')] as HTMLElement[];
      const lines = new Set(spans.map((s) => Math.round(s.getBoundingClientRect().top)));
      return { spans: spans.length, colours: new Set(spans.map((s) => getComputedStyle(s).backgroundColor)).size, lines: lines.size };
    });
    assert.equal(act.spans, rec.length, 'one rendered span per byte');
    assert.ok(act.colours > 10, `${act.colours} distinct background colours`);
    assert.ok(act.lines >= 3, `text laid out on ${act.lines} lines`);

    await page.setContent(predictions);
    const pred = await page.evaluate(() => {
      const cols = [...document.querySelectorAll('.pred-col')] as HTMLElement[];
      return { cols: cols.length, rows: new Set(cols.map((c) => Math.round(c.getBoundingClientRect().top))).size, h: cols[0].getBoundingClientRect().height };
    });
    assert.equal(pred.cols, rec.length);
    assert.ok(pred.rows >= 3, `columns wrap into ${pred.rows} rows (three newlines)`);
    assert.ok(pred.h > 5 * 12, `a column is ${pred.h}px tall: byte + 5 guesses`);

    await page.setContent(htmlPage(svg));
    const dia = await page.evaluate(() => {
      const s = document.querySelector('svg')!.getBoundingClientRect();
      return { nodes: document.querySelectorAll('g.node').length, w: s.width, h: s.height };
    });
    assert.equal(dia.nodes, 2 * 4 + 2 * 4);
    assert.ok(dia.w > 200 && dia.h > 150, `diagram ${dia.w}×${dia.h}`);

    await page.setContent(heat, { waitUntil: 'load' });
    await page.waitForSelector('.main-svg', { timeout: 30_000 });
    const hm = await page.evaluate(() => ({
      images: document.querySelectorAll('g.heatmaplayer image').length,
      ticks: document.querySelectorAll('g.xtick').length,
      yticks: [...document.querySelectorAll('g.ytick text')].map((t) => t.textContent),
    }));
    assert.equal(hm.images, 1, 'plotly drew the heatmap');
    assert.ok(hm.ticks > 20, `${hm.ticks} byte labels`);
    const units = Math.min(rec.hiddenSize, 64);
    assert.deepEqual(hm.yticks, Array.from({ length: units }, (_, u) => `h[${u}]`), 'every unit row is labelled');

    for (const [name, html] of [['activation', activation], ['predictions', predictions], ['diagram', svg]] as const) {
      const ink = await inked(await screenshotHtml(html, { width: 700, height: 100 }));
      assert.ok(ink > 0.02 && ink < 0.95, `${name} screenshot: ${(100 * ink).toFixed(1)}% non-white`);
    }
    assert.ok((await inked(await screenshotHtml(htmlPage(''), { width: 300, height: 100 }))) < 0.001, 'a blank page reads as blank');
  } finally {
    await browser.close();
  }
  model.dispose();
});
