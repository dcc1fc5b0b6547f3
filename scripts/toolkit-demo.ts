/**
 * The hidden-state toolkit end to end, in a couple of minutes on a laptop CPU:
 *
 *   node --import tsx scripts/toolkit-demo.ts OUT_DIR [--seconds 30] [--hidden 128] [--layers 1] [--no-png]
 *
 * 1. Text: the paragraphs of Moby-Dick's first 200 kB that contain dialogue (a '"'), hard-wrapped
 *    at 64 columns at word boundaries (the npm corpus has one line per paragraph; wrapping gives a
 *    line position worth tracking, as in Karpathy's War and Peace with its fixed-width lines).
 * 2. Trains a small LSTM and, for the gradient picture, an RNN of the same size, `--seconds` each.
 * 3. Records the LSTM over held-out text (h, c, gates, top-5 predictions) and searches for the
 *    units that best track inQuotes, column and wordStart; prints them with |corr|.
 * 4. Writes every picture to OUT_DIR as HTML/SVG plus PNG screenshots (headless Chromium):
 *    quote-unit, column-unit (text coloured by the unit), predictions (top-5 columns),
 *    heatmap (top units × bytes), saturation (gate saturation scatter), gradient-depth
 *    (RNN vs LSTM), diagram / diagram-shortcut (the unrolled network), and index.html.
 */
import * as fs from 'fs';
import * as path from 'path';
import { describeBackend, initBackend } from '../lib/backend/select';
import { loadCorpus } from '../lib/data/corpus';
import { CharModel } from '../lib/nn/model';
import { figurePage, htmlPage, Figure, savePlot, saveHtml, screenshotHtml } from '../lib/notebook';
import { Trainer } from '../lib/train/trainer';
import { ByteVocab } from '../lib/data/vocab';
import { featureSeries, formatScore, gradientDepthFigure, gradientVsDepth, gateSaturation, predictionsHtml, record, saturationFigure, searchUnits, unitHtml, unitSeries, unitsHeatmapFigure, unrolledSvg, UnitScore } from '../lib/toolkit';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

/** Greedy word wrap at `width` columns (words longer than that get a line of their own). */
export function wrap(paragraph: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of paragraph.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}

async function train(model: CharModel, vocab: ByteVocab, ids: Int32Array, seconds: number, label: string): Promise<void> {
  const t0 = Date.now();
  const trainer = new Trainer(model, vocab, { train: ids }, {
    batchSize: 32,
    seqLength: 64,
    steps: 1_000_000,
    optimizer: 'adam',
    learningRate: 5e-3,
    shouldStop: () => Date.now() - t0 > seconds * 1000,
  });
  const r = await trainer.run();
  const last = trainer.history.loss.slice(-20).reduce((a, b) => a + b, 0) / Math.min(20, trainer.history.loss.length);
  console.log(`${label}: ${r.steps} steps in ${r.seconds.toFixed(1)} s, train loss (last 20) ${last.toFixed(3)} nats/byte`);
}

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out || out.startsWith('--')) {
    console.error('usage: node --import tsx scripts/toolkit-demo.ts OUT_DIR [--seconds 30] [--hidden 128] [--layers 1] [--no-png]');
    process.exitCode = 2;
    return;
  }
  // One layer learns fastest in a short run on the wasm backend (two stay near the unigram
  // loss for the first few hundred steps).
  const seconds = arg('seconds', 30);
  const hidden = arg('hidden', 128);
  const layers = arg('layers', 1);
  const png = !process.argv.includes('--no-png');
  fs.mkdirSync(out, { recursive: true });
  console.log(describeBackend(await initBackend()));

  const corpus = await loadCorpus('moby-dick');
  const raw = corpus.data.subarray(0, 200_000).toString('utf8');
  const paragraphs = raw.split(/\n\s*\n/).filter((p) => p.includes('"'));
  const text = paragraphs.map((p) => wrap(p, 64)).join('\n\n') + '\n';
  const bytes = Buffer.from(text, 'utf8');
  const vocab = ByteVocab.fromData(bytes);
  const cut = Math.floor(bytes.length * 0.9);
  const trainIds = vocab.encode(bytes.subarray(0, cut));
  const held = bytes.subarray(cut);
  console.log(`text: ${paragraphs.length} paragraphs with dialogue, ${bytes.length} bytes (${(text.match(/"/g) ?? []).length} quotes), vocabulary ${vocab.size}; training on ${cut}, recording ${held.length}`);

  const lstm = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: hidden, numLayers: layers, dropout: 0 }, 1);
  const rnn = new CharModel({ modelType: 'rnn', vocabSize: vocab.size, hiddenSize: hidden, numLayers: layers, dropout: 0 }, 1);
  await train(lstm, vocab, trainIds, seconds, `LSTM ${layers}×${hidden}`);
  await train(rnn, vocab, trainIds, seconds, `RNN  ${layers}×${hidden}`);

  const t0 = Date.now();
  const rec = record(lstm, vocab, held, { gates: true, topK: 5 });
  console.log(`recorded ${rec.length} bytes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const found: Record<string, UnitScore[]> = {};
  for (const f of ['inQuotes', 'column', 'wordStart']) {
    found[f] = searchUnits(rec, f, { k: 3, from: 50 });
    const base = featureSeries(f, rec.bytes);
    const mean = base.reduce((a, b) => a + b, 0) / base.length;
    console.log(`${f.padEnd(10)} (mean ${mean.toFixed(2)}): ${found[f].map((s) => `${formatScore(s)} |corr|=${Math.abs(s.corr).toFixed(3)}`).join('; ')}`);
  }

  const files: { name: string; what: string }[] = [];
  const shot = async (name: string, html: string, width = 1000) => {
    if (png) fs.writeFileSync(path.join(out, `${name}.png`), await screenshotHtml(html, { width, height: 100 }));
  };
  const page = async (name: string, body: string, what: string, width?: number) => {
    const html = htmlPage(body, { title: what });
    saveHtml(html, path.join(out, `${name}.html`));
    await shot(name, html, width);
    files.push({ name: `${name}.html`, what });
  };
  const chart = async (name: string, fig: Figure, what: string) => {
    saveHtml(figurePage(fig), path.join(out, `${name}.html`));
    if (png) await savePlot(fig, path.join(out, name), { width: 1000, height: (fig.layout.height as number) ?? 450 });
    files.push({ name: `${name}.html`, what });
  };

  // Where the quotes are: show a stretch of held-out text around the first dialogue.
  const firstQuote = Math.max(0, rec.bytes.indexOf(0x22) - 100);
  const span = { from: firstQuote, to: Math.min(rec.length, firstQuote + 1500) };
  const q = found.inQuotes[0];
  await page('quote-unit', unitHtml(rec, q.layer, q.kind, q.unit, { ...span, title: `best inQuotes unit: ${formatScore(q)}` }), 'unit tracking quotes');
  const c = found.column[0];
  await page('column-unit', unitHtml(rec, c.layer, c.kind, c.unit, { ...span, title: `best column unit: ${formatScore(c)}` }), 'unit tracking the line position');
  // The quote unit's deviation from its mean, scaled to ±1, colours the input row.
  const qSeries = unitSeries(rec, q.layer, q.kind, q.unit);
  const qMean = qSeries.reduce((a, b) => a + b, 0) / qSeries.length;
  const qMax = qSeries.reduce((m, v) => Math.max(m, Math.abs(v - qMean)), 1e-9);
  qSeries.forEach((v, t) => (qSeries[t] = (v - qMean) / qMax));
  await page('predictions', predictionsHtml(rec, { from: firstQuote, to: firstQuote + 160, values: qSeries }), 'top-5 next-byte predictions (input row coloured by the quote unit)', 1200);

  const top = [...new Map([...found.inQuotes, ...found.column, ...found.wordStart].map((s) => [`${s.layer}/${s.unit}`, s])).values()];
  const heatLayer = q.layer;
  const units = [...new Set([...top.filter((s) => s.layer === heatLayer).map((s) => s.unit), ...Array.from({ length: Math.min(24, hidden) }, (_, u) => u)])].slice(0, 24);
  await chart('heatmap', unitsHeatmapFigure(rec, { layer: heatLayer, kind: 'h', units, from: firstQuote, to: firstQuote + 120 }), 'heatmap of units × bytes');
  await chart('saturation', saturationFigure(gateSaturation(rec)), 'gate saturation scatter');

  const gt = Date.now();
  const gradText = held.subarray(0, Math.min(held.length, 4000));
  const gl = gradientVsDepth(lstm, vocab, gradText, { depth: 60, windows: 4 });
  const gr = gradientVsDepth(rnn, vocab, gradText, { depth: 60, windows: 4 });
  const ratio = (n: Float64Array) => (n[40] / n[1]).toExponential(2);
  console.log(`gradient vs depth (${((Date.now() - gt) / 1000).toFixed(1)} s): ‖g_40‖/‖g_1‖, top layer: LSTM ${ratio(gl.norms[layers - 1])}, RNN ${ratio(gr.norms[layers - 1])}`);
  await chart('gradient-depth', gradientDepthFigure([{ name: 'LSTM', result: gl }, { name: 'RNN', result: gr }]), 'gradient size vs backprop depth');

  // The trained model, and a 3-layer LSTM of the same width in both styles.
  const deep = { ...lstm.config, numLayers: 3 };
  for (const [name, config, style] of [
    ['diagram', lstm.config, 'passthrough'],
    ['diagram-3-layers', deep, 'passthrough'],
    ['diagram-3-layers-shortcut', deep, 'shortcut'],
  ] as const) {
    const svg = await unrolledSvg(config, { steps: 5, style, text: 'Call me' });
    fs.writeFileSync(path.join(out, `${name}.svg`), svg);
    await shot(name, svg, 900);
    files.push({ name: `${name}.svg`, what: `unrolled ${config.numLayers}-layer ${config.modelType} (${style})` });
  }

  const index = files.map((f) => `<li><a href="${f.name}">${f.name}</a>: ${f.what}</li>`).join('\n');
  saveHtml(htmlPage(`<h2>hidden-state toolkit demo</h2><ul>${index}</ul>`, { title: 'toolkit demo' }), path.join(out, 'index.html'));
  console.log(`wrote ${files.length} pictures${png ? ' (+ PNG screenshots)' : ''} to ${out}/ (open index.html)`);
  lstm.dispose();
  rnn.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
