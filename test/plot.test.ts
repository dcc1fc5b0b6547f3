/**
 * lib/notebook/ (figure, charts, live, static, pages, mode) outside a notebook: pure helpers, the live-training callback's
 * throttling and cost, and static PNG/SVG export through headless Chromium.
 * (In-notebook rendering is covered by notebooks.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CHROMIUM_ARGS, chromiumPath, downsample, ema, figureHtml, formatDuration, formatRate, heatmapFigure, htmlPage, lineFigure, liveTraining, plotlyCdnUrl, progressLine, savePlot, scriptJson } from '../lib/notebook';
import { isNotebook, isSmoke, smoke } from '../lib/notebook/mode';

function withEnv(name: string, value: string | undefined, fn: () => void): void {
  const old = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    fn();
  } finally {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  }
}

test('smoke() follows NB_SMOKE', () => {
  withEnv('NB_SMOKE', '1', () => {
    assert.equal(isSmoke(), true);
    assert.equal(smoke(3, 3000), 3);
  });
  for (const off of [undefined, '', '0', 'false', 'no']) {
    withEnv('NB_SMOKE', off, () => {
      assert.equal(isSmoke(), false, `NB_SMOKE=${off}`);
      assert.equal(smoke(3, 3000), 3000);
    });
  }
  assert.equal(isNotebook(), false);
});

test('scriptJson cannot close the <script> it is embedded in and flattens typed arrays', () => {
  const s = scriptJson({ name: '</script><script>alert(1)</script>', y: new Float32Array([1, 2.5]) });
  assert.ok(!s.includes('</script'), s);
  assert.ok(!s.includes('<'), s);
  assert.deepEqual(JSON.parse(s), { name: '</script><script>alert(1)</script>', y: [1, 2.5] });
});

test('figureHtml: a div and a newPlot call for that div, with a fallback when plotly is absent', () => {
  const fig = lineFigure([{ y: [3, 2, 1], name: 'train' }], { title: 'loss', height: 250 });
  const html = figureHtml(fig);
  const id = /<div id="(plt-[0-9a-f]+)"/.exec(html)?.[1];
  assert.ok(id, html);
  assert.ok(html.includes(`document.getElementById("${id}")`), html);
  assert.match(html, /var fig = \{"data":\[\{"type":"scatter","mode":"lines","x":\[0,1,2\],"y":\[3,2,1\],"name":"train"\}\]/);
  assert.match(html, /window\.Plotly\.newPlot\(el, fig\.data, fig\.layout, fig\.config\)/);
  assert.match(html, /plot not shown/);
  assert.notEqual(/plt-[0-9a-f]+/.exec(figureHtml(fig))?.[0], id, 'ids must be unique');
});

test('lineFigure and heatmapFigure build plotly traces', () => {
  const f = lineFigure(new Float32Array([1, 4, 9]), { xTitle: 'step', yTitle: 'loss', logY: true });
  assert.deepEqual(f.data, [{ type: 'scatter', mode: 'lines', x: [0, 1, 2], y: [1, 4, 9] }]);
  assert.deepEqual((f.layout.yaxis as Record<string, unknown>).type, 'log');
  const h = heatmapFigure([[1, 2], [3, 4]], { x: ['a', 'b'], zmin: 0 });
  assert.deepEqual(h.data[0].z, [[1, 2], [3, 4]]);
  assert.equal(h.data[0].type, 'heatmap');
  assert.equal((h.layout.yaxis as Record<string, unknown>).autorange, 'reversed');
});

test('formatting and downsampling helpers', () => {
  assert.equal(formatRate(950), '950 B/s');
  assert.equal(formatRate(12_345), '12.3 kB/s');
  assert.equal(formatRate(2_500_000), '2.5 MB/s');
  assert.equal(formatDuration(42.4), '42s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(3720), '1h02m');
  assert.equal(formatDuration(Infinity), '?');
  const xs = Array.from({ length: 1000 }, (_, i) => i);
  const d = downsample(xs, xs.map((x) => 2 * x), 50);
  assert.equal(d.x.length, 50);
  assert.equal(d.x[49], 999);
  assert.ok(d.y.every((y, i) => Math.abs(y - 2 * d.x[i]) < 1e-9), 'bucket means of a line stay on it');
  assert.deepEqual(downsample([1, 2], [3, 4], 50), { x: [1, 2], y: [3, 4] });
  const e = ema([5, 5, 5, 1], 0.9);
  assert.ok(Math.abs(e[0] - 5) < 1e-12 && Math.abs(e[2] - 5) < 1e-12, 'bias-corrected EMA starts at the data');
  assert.ok(e[3] < 5 && e[3] > 1);
  assert.equal(
    progressLine({ step: 50, totalSteps: 200, loss: 2.5, valLoss: 2.75, bytesPerSec: 2048, etaSec: 90, epoch: 2 }, 30),
    'step 50/200 (25%) · epoch 2 · loss 2.5000 · val 2.7500 · 2.0 kB/s · ETA 1m30s · elapsed 30s',
  );
});

test('liveTraining outside a notebook: records every point, prints throttled lines', () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    const live = liveTraining({ intervalMs: 60_000 });
    for (let step = 1; step <= 100; step++) {
      live({ step, totalSteps: 100, loss: 5 - step / 50, valLoss: step % 25 === 0 ? 4 - step / 50 : undefined, bytesPerSec: 1e4, etaSec: 100 - step });
    }
    live.finish();
    assert.equal(live.steps.length, 100);
    assert.deepEqual(live.valSteps, [25, 50, 75, 100]);
    const st = live.stats();
    assert.equal(st.calls, 100);
    assert.equal(st.renders, 2, 'first call + finish only, the rest is throttled');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^step 1\/100 \(1%\) · loss 4\.9800 · 10\.0 kB\/s · ETA 1m39s/);
    assert.match(lines[1], /^step 100\/100 \(100%\) · loss 3\.0000 · val 2\.0000 · 10\.0 kB\/s · done in/);
  } finally {
    console.log = log;
  }
});

test('liveTraining callback is cheap between redraws (< 10 µs per call)', () => {
  const live = liveTraining({ intervalMs: 3_600_000 });
  const log = console.log;
  console.log = () => undefined;
  try {
    const n = 200_000;
    const t0 = process.hrtime.bigint();
    for (let step = 1; step <= n; step++) {
      live({ step, totalSteps: n, loss: 1 / step, bytesPerSec: 1, etaSec: 1 });
    }
    const usPerCall = Number(process.hrtime.bigint() - t0) / 1e3 / n;
    assert.ok(usPerCall < 10, `${usPerCall.toFixed(2)} µs per call`);
  } finally {
    console.log = log;
  }
});

function pngSize(buf: Buffer): { width: number; height: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

test('savePlot writes a PNG and an SVG rendered by Chromium', { timeout: 120_000 }, async () => {
  assert.ok(fs.existsSync(chromiumPath()), `no Chromium at ${chromiumPath()} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unreasonable-plot-'));
  const fig = lineFigure(
    [
      { y: [5.5, 3, 2, 1.6, 1.4], name: 'train' },
      { y: [5.5, 3.2, 2.3, 1.9, 1.8], name: 'val' },
    ],
    { title: 'static export', width: 640, height: 360 },
  );
  const files = await savePlot(fig, path.join(dir, 'sub', 'loss'), { scale: 2 });
  assert.equal(files.png, path.join(dir, 'sub', 'loss.png'));
  const size = pngSize(fs.readFileSync(files.png!));
  assert.deepEqual(size, { width: 1280, height: 720 });
  const svg = fs.readFileSync(files.svg!, 'utf8');
  assert.match(svg, /^<svg[^>]*class="main-svg"/);
  assert.equal((svg.match(/class="trace scatter/g) ?? []).length, 2, 'two line traces in the SVG');
  assert.match(svg, /static export/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a chart on a page without plotly.js fetches it, or else shows how to fix it (Chromium)', { timeout: 120_000 }, async () => {
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const fig = lineFigure([{ y: [3, 2, 1], name: 'train' }], { title: 'loss' });
  // Two charts, no plotly.js embedded: as after a reload, or a lazily rendered notebook.
  const page = htmlPage(figureHtml(fig) + figureHtml(fig));
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] });
  try {
    // 1. The CDN answers (served here from node_modules, the machine is offline): both charts draw,
    //    and plotly.js is fetched once.
    let fetched = 0;
    const ctx = await browser.newContext();
    await ctx.route('**/*', async (route) => {
      if (route.request().url() === plotlyCdnUrl()) {
        fetched++;
        await route.fulfill({ status: 200, contentType: 'text/javascript', path: require.resolve('plotly.js-dist-min') });
      } else await route.abort();
    });
    const p1 = await ctx.newPage();
    await p1.setContent(page);
    await p1.locator('.unreasonable-plot svg.main-svg').nth(1).waitFor({ timeout: 60_000 });
    assert.equal(await p1.locator('.js-plotly-plot').count(), 2);
    assert.equal(await p1.getByText('plot not shown').count(), 0);
    assert.equal(fetched, 1, 'plotly.js must be fetched once per page');
    await ctx.close();
    // 2. Offline: the message stays, visible, naming the fixes.
    const ctx2 = await browser.newContext();
    await ctx2.route('**/*', (route) => route.abort());
    const p2 = await ctx2.newPage();
    await p2.setContent(page);
    // It first says it is loading, then (the fetch failed) shows the message again.
    await p2.getByText('plot not shown').nth(1).waitFor({ timeout: 30_000 });
    await p2.waitForTimeout(300);
    assert.equal(await p2.getByText('loading plotly.js').count(), 0);
    assert.equal(await p2.locator('svg.main-svg').count(), 0);
    const msg = p2.locator('.unreasonable-plot-msg').first();
    assert.ok(await msg.isVisible());
    assert.match((await msg.textContent()) ?? '', /Trust Notebook.*Restart & Run All.*pip install plotly/);
    await ctx2.close();
  } finally {
    await browser.close();
  }
});
