/**
 * lib/notebook/display.ts in a real tslab kernel: charts go out as ONE display_data carrying the plotly
 * MIME type, the HTML fallback and text/plain, and in-place displays (live training) send
 * update_display_data with the same transient display_id. The messages are read off the
 * kernel's iopub channel by test/fixtures/kernel-messages.py (jupyter_client).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { figureBundle, lineFigure, PLOTLY_MIME } from '../lib/notebook';

const ROOT = path.resolve(__dirname, '..');
const PY = process.env.PYTHON || '/usr/bin/python3';

interface Msg {
  msg_type: string;
  content: { data?: Record<string, unknown>; transient?: { display_id?: string }; text?: string };
}

function runCells(cells: string[]): { status: string; messages: Msg[] }[] {
  if (!fs.existsSync(path.join(ROOT, '.jupyter/share/jupyter/kernels/tslab/kernel.json'))) {
    const s = spawnSync('sh', ['scripts/setup-kernel.sh'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(s.status, 0, `setup-kernel failed: ${s.stderr}`);
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'unreasonable-display-')), 'cells.json');
  fs.writeFileSync(file, JSON.stringify(cells));
  const outFile = path.join(path.dirname(file), 'messages.json');
  const r = spawnSync(PY, [path.join(ROOT, 'test/fixtures/kernel-messages.py'), file, outFile], {
    cwd: ROOT, encoding: 'utf8', timeout: 300_000, maxBuffer: 256 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `kernel-messages.py failed:\n${r.stderr}`);
  const text = fs.readFileSync(outFile, 'utf8');
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return (JSON.parse(text) as { cells: { status: string; messages: Msg[] }[] }).cells;
}

const displays = (msgs: Msg[]): Msg[] => msgs.filter((m) => m.msg_type === 'display_data' || m.msg_type === 'update_display_data');

test('figureBundle: plotly JSON {data, layout, config}, the HTML fallback and a text summary', () => {
  const b = figureBundle(lineFigure(new Float32Array([3, 2, 1]), { title: 'loss' }));
  const fig = b[PLOTLY_MIME] as { data: { x: number[]; y: number[] }[]; layout: Record<string, unknown>; config: Record<string, unknown> };
  assert.deepEqual(fig.data[0].y, [3, 2, 1], 'typed arrays must become JSON arrays');
  assert.deepEqual(fig.layout.title, { text: 'loss', x: 0, xref: 'paper', xanchor: 'left' }, 'titles are left-aligned, clear of the toolbar');
  assert.equal((fig.layout.yaxis as { automargin?: boolean }).automargin, true, 'axes grow the margin to fit their ticks');
  assert.equal(fig.config.displaylogo, false);
  assert.match(b['text/html'] as string, /Plotly\.newPlot/);
  assert.equal(b['text/plain'], '[plot "loss": scatter]');
});

test('in a tslab kernel, charts are one multi-MIME display_data and live charts update in place', { timeout: 300_000 }, () => {
  const cells = runCells([
    "import * as plot from './lib/notebook';\nimport { bundlesSupported } from './lib/notebook/display';\nconsole.log('bundles=' + bundlesSupported());",
    "plot.linePlot([1, 4, 9], { title: 'squares' });",
    "const live = plot.liveTraining({ intervalMs: 0, title: 'live' });\n" +
      "for (let s = 1; s <= 3; s++) { live({ step: s, totalSteps: 3, loss: 3 - s / 2, bytesPerSec: 100, etaSec: 3 - s }); await new Promise((r) => setTimeout(r, 5)); }\n" +
      'live.finish();',
  ]);
  assert.deepEqual(cells.map((c) => c.status), ['ok', 'ok', 'ok'], JSON.stringify(cells.map((c) => c.messages.filter((m) => m.msg_type === 'stream'))));
  assert.ok(cells[0].messages.some((m) => m.msg_type === 'stream' && m.content.text?.includes('bundles=true')), 'the bundle sender was not found in the kernel');

  // Cell 1: plotly.js embedded once (HTML + text), then the chart as ONE bundle.
  const shown = displays(cells[1].messages);
  assert.equal(shown.length, 2, JSON.stringify(shown.map((m) => Object.keys(m.content.data ?? {}))));
  assert.deepEqual(Object.keys(shown[0].content.data ?? {}).sort(), ['text/html', 'text/plain']);
  assert.ok((shown[0].content.data?.['text/html'] as string).length > 1_000_000, 'plotly.js is not embedded');
  const chart = shown[1];
  assert.equal(chart.msg_type, 'display_data');
  assert.deepEqual(Object.keys(chart.content.data ?? {}).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
  const fig = chart.content.data?.[PLOTLY_MIME] as { data: { y: number[] }[]; layout: { title: { text: string } } };
  assert.deepEqual(fig.data[0].y, [1, 4, 9]);
  assert.equal(fig.layout.title.text, 'squares');
  assert.match(chart.content.data?.['text/html'] as string, /newPlot/);

  // Cell 2: two in-place outputs (progress line, chart), each created once and then updated.
  const live = displays(cells[2].messages);
  const ids = [...new Set(live.map((m) => m.content.transient?.display_id))];
  assert.equal(ids.length, 2, JSON.stringify(live.map((m) => [m.msg_type, m.content.transient])));
  assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0));
  for (const id of ids) {
    const mine = live.filter((m) => m.content.transient?.display_id === id);
    assert.equal(mine[0].msg_type, 'display_data');
    assert.equal(mine.length, 4, '3 progress calls + finish() with intervalMs 0');
    assert.ok(mine.slice(1).every((m) => m.msg_type === 'update_display_data'));
  }
  const charts = live.filter((m) => m.content.data?.[PLOTLY_MIME]);
  assert.equal(charts.length, 4);
  assert.ok(charts.every((m) => typeof m.content.data?.['text/html'] === 'string' && typeof m.content.data?.['text/plain'] === 'string'));
  const lastChart = charts[3].content.data?.[PLOTLY_MIME] as { data: { y: number[] }[] };
  assert.deepEqual(lastChart.data[0].y, [2.5, 2, 1.5], 'the last update must carry every point');
  const progress = live.filter((m) => !m.content.data?.[PLOTLY_MIME]);
  assert.match(progress[3].content.data?.['text/plain'] as string, /^✔ step 3\/3 \(100%\)/);
});
