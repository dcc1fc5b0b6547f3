/**
 * Notebook runtime end to end: every notebooks/*.ipynb executes on the project-local tslab
 * kernel in smoke mode (scripts/run-notebooks.py), the runner reports failures honestly, and
 * the plots really render: the executed 00-setup-check notebook is converted with nbconvert
 * and opened in headless Chromium, where plotly must have drawn SVG charts with data traces.
 *
 * Needs Jupyter (Debian: jupyter-notebook python3-nbclient python3-nbconvert) and Chromium
 * (/usr/bin/chromium or $CHROMIUM_PATH). Missing tools FAIL these tests with a message; they
 * are not skipped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CHROMIUM_ARGS, chromiumPath } from '../lib/notebook';

const ROOT = path.resolve(__dirname, '..');
const PY = process.env.PYTHON || '/usr/bin/python3';
const NOTEBOOKS = fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();
const SETUP_NB = '00-setup-check';

interface Run {
  status: number | null;
  /** stdout alone (the runner's status lines and summary). */
  stdout: string;
  /** stdout and stderr together. */
  out: string;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 600_000): Run {
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

let outDir = '';

before(() => {
  const missing: string[] = [];
  if (!fs.existsSync(PY)) {
    missing.push(`${PY} does not exist (set PYTHON to a python3 that has Jupyter)`);
  } else {
    const r = run(PY, ['-c', 'import nbclient, nbconvert, nbformat, notebook, jupyter_client']);
    if (r.status !== 0) missing.push(`${PY} cannot import nbclient/nbconvert/notebook:\n${r.out.trim()}`);
  }
  if (!fs.existsSync(chromiumPath())) missing.push(`no Chromium at ${chromiumPath()} (set CHROMIUM_PATH)`);
  if (missing.length) {
    throw new Error(
      `notebook tests need Jupyter and Chromium:\n  - ${missing.join('\n  - ')}\n` +
        `Install on Debian/Ubuntu: sudo apt-get install jupyter-notebook python3-nbclient python3-nbconvert chromium`,
    );
  }
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'unreasonable-nb-'));
});

// Executed notebooks + HTML are ~5 MB each (plotly.js is inlined); KEEP_NB_OUT=1 keeps them.
after(() => {
  if (!outDir) return;
  if (process.env.KEEP_NB_OUT) console.log(`executed notebooks and HTML kept in ${outDir}`);
  else fs.rmSync(outDir, { recursive: true, force: true });
});

test('committed notebooks have no outputs and use the tslab kernel', () => {
  assert.ok(NOTEBOOKS.includes(`${SETUP_NB}.ipynb`), `notebooks/${SETUP_NB}.ipynb is missing`);
  const r = run(PY, ['scripts/mknb.py', 'check', ...NOTEBOOKS.map((n) => `notebooks/${n}`)]);
  assert.equal(r.status, 0, r.out);
});

test('notebooks/lib is the symlink through which notebooks import the library', () => {
  const link = path.join(ROOT, 'notebooks', 'lib');
  assert.ok(fs.lstatSync(link).isSymbolicLink(), 'notebooks/lib must be a symlink to ../lib');
  assert.equal(fs.realpathSync(link), fs.realpathSync(path.join(ROOT, 'lib')));
});

test('every notebook executes in smoke mode', { timeout: 900_000 }, () => {
  const r = run(PY, ['scripts/run-notebooks.py', '--out', outDir, '--html'], { NB_SMOKE: '1' });
  const summary = lastLine(r.stdout);
  assert.equal(summary, `${NOTEBOOKS.length} passed, 0 failed`, `runner output:\n${r.out}`);
  assert.equal(r.status, 0, r.out);
  for (const nb of NOTEBOOKS) {
    assert.ok(fs.existsSync(path.join(outDir, nb)), `executed ${nb} not written`);
    assert.ok(fs.existsSync(path.join(outDir, nb.replace(/\.ipynb$/, '.html'))), `HTML for ${nb} not written`);
  }
});

test('the runner fails on TypeScript errors and exceptions and prints the cell stderr', { timeout: 300_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unreasonable-nbfail-'));
  const make = (name: string, cells: string[]): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(
      file,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
        cells: cells.map((source, i) => ({
          cell_type: 'code', id: `c${i}`, metadata: {}, source, outputs: [], execution_count: null,
        })),
      }),
    );
    return file;
  };
  const typeErr = make('type-error.ipynb', ['console.log("fine");', 'const n: number = "not a number";']);
  const thrown = make('throws.ipynb', ['throw new Error("boom-4711");', 'console.log("never runs");']);
  const ok = make('ok.ipynb', ['console.log(6 * 7);']);
  const r = run(PY, ['scripts/run-notebooks.py', typeErr, thrown, ok]);
  assert.equal(r.status, 1, r.out);
  assert.equal(lastLine(r.stdout), '1 passed, 2 failed', r.out);
  assert.match(r.out, /type-error\.ipynb: FAILED/);
  assert.match(r.out, /not assignable to type 'number'/, 'TS diagnostic not shown');
  assert.match(r.out, /throws\.ipynb: FAILED/);
  assert.match(r.out, /boom-4711/, 'exception message not shown');
  assert.match(r.out, /ok\.ipynb: ok/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the runner starts a kernel that did not come up again (--startup-retries)', { timeout: 300_000 }, () => {
  // A stand-in kernel that dies at its first start (as tslab did once, in zeromq's bind, in a CI run
  // under load) and is the project's tslab kernel from then on.
  const spec = JSON.parse(fs.readFileSync(path.join(ROOT, '.jupyter/share/jupyter/kernels/tslab/kernel.json'), 'utf8')) as { argv: string[] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unreasonable-nbflaky-'));
  const marker = path.join(dir, 'started-once');
  const script = path.join(dir, 'flaky.sh');
  fs.writeFileSync(script, `if [ ! -e '${marker}' ]; then touch '${marker}'; echo 'flaky: dying at the first start' >&2; exit 1; fi\nexec ${spec.argv.map((a) => (a === '{connection_file}' ? '"$1"' : `'${a}'`)).join(' ')}\n`);
  const kernelDir = path.join(dir, 'kernels', 'flaky-tslab');
  fs.mkdirSync(kernelDir, { recursive: true });
  fs.writeFileSync(path.join(kernelDir, 'kernel.json'), JSON.stringify({ argv: ['sh', script, '{connection_file}'], display_name: 'flaky', language: 'typescript' }));
  const nb = path.join(dir, 'ok.ipynb');
  fs.writeFileSync(nb, JSON.stringify({
    nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'flaky-tslab', display_name: 'flaky', language: 'typescript' } },
    cells: [{ cell_type: 'code', id: 'c0', metadata: {}, source: 'console.log(6 * 7);', outputs: [], execution_count: null }],
  }));
  const env = { NB_KERNEL: 'flaky-tslab', JUPYTER_PATH: dir };
  const none = run(PY, ['scripts/run-notebooks.py', '--startup-timeout', '30', '--startup-retries', '0', nb], env);
  assert.equal(none.status, 1, none.out);
  assert.match(none.out, /ok\.ipynb: FAILED[^]*could not run the kernel/);
  fs.rmSync(marker);
  const again = run(PY, ['scripts/run-notebooks.py', '--startup-timeout', '30', nb], env);
  assert.equal(again.status, 0, again.out);
  assert.match(again.out, /ok\.ipynb: the kernel did not start \(could not run the kernel: [^)]*\); starting it again\n/);
  assert.equal(lastLine(again.stdout), '1 passed, 0 failed', again.out);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the executed notebook stores every chart as one bundle: plotly MIME type, HTML fallback, text', () => {
  const executed = path.join(outDir, `${SETUP_NB}.ipynb`);
  assert.ok(fs.existsSync(executed), 'the smoke run did not write the executed notebook');
  type Output = { output_type: string; data?: Record<string, unknown> };
  const nb = JSON.parse(fs.readFileSync(executed, 'utf8')) as { cells: { outputs?: Output[] }[] };
  const outputs = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'display_data');
  const PLOTLY = 'application/vnd.plotly.v1+json';
  const charts = outputs.filter((o) => o.data && PLOTLY in o.data);
  // 00-setup-check draws a line chart, a heatmap and the live training chart.
  assert.equal(charts.length, 3, JSON.stringify(outputs.map((o) => Object.keys(o.data ?? {}))));
  for (const o of charts) {
    const fig = o.data?.[PLOTLY] as { data?: unknown[]; layout?: unknown; config?: unknown };
    assert.equal(typeof fig, 'object', 'the plotly figure must be stored as a JSON object');
    assert.ok(Array.isArray(fig.data) && fig.data.length > 0, 'no traces');
    assert.equal(typeof fig.layout, 'object');
    assert.equal(typeof fig.config, 'object');
    const html = o.data?.['text/html'];
    const htmlText = Array.isArray(html) ? html.join('') : String(html);
    assert.match(htmlText, /Plotly\.newPlot/, 'HTML fallback missing');
    assert.match(htmlText, /plot not shown/, 'the fallback must carry a visible message for script-less viewers');
    assert.ok(o.data?.['text/plain'], 'text/plain missing');
  }
  // No chart is sent as HTML alone any more (every HTML output with newPlot is one of the bundles).
  const htmlOnly = outputs.filter((o) => o.data && !(PLOTLY in o.data) && /Plotly\.newPlot/.test(JSON.stringify(o.data['text/html'] ?? '')));
  assert.equal(htmlOnly.length, 0);
  // The live chart's last update (the final, finished state) is what was saved.
  const live = charts[2].data?.[PLOTLY] as { data: { name: string }[] };
  const names = live.data.map((t) => t.name);
  assert.equal(names.length, 3, JSON.stringify(names));
  assert.equal(names[0], 'train');
  assert.match(names[1], /^train \(EMA /);
  assert.equal(names[2], 'val');
});

interface PageReport {
  plots: number;
  svgs: number;
  tracesPerPlot: number[];
  progress: string[];
  fallbacks: number;
  errors: string[];
}

async function inspectHtml(file: string): Promise<PageReport> {
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // file:// and offline: plotly.js is inlined in the notebook output, nothing is fetched.
    await page.goto(`file://${file}`, { waitUntil: 'load', timeout: 120_000 });
    await page.locator('svg.main-svg').first().waitFor({ timeout: 60_000 });
    const plots = page.locator('.js-plotly-plot');
    const n = await plots.count();
    const tracesPerPlot: number[] = [];
    for (let i = 0; i < n; i++) {
      tracesPerPlot.push(await plots.nth(i).locator('.scatterlayer .trace, .heatmaplayer .hm').count());
    }
    return {
      plots: n,
      svgs: await page.locator('svg.main-svg').count(),
      tracesPerPlot,
      progress: await page.locator('.unreasonable-progress').allTextContents(),
      fallbacks: await page.getByText('plot not shown').count(),
      errors,
    };
  } finally {
    await browser.close();
  }
}

function checkReport(r: PageReport, where: string): void {
  const info = `${where}: ${JSON.stringify(r)}`;
  assert.deepEqual(r.errors, [], info);
  assert.equal(r.fallbacks, 0, `a plot says plotly.js was not loaded; ${info}`);
  // 00-setup-check draws a line chart (2 traces), a heatmap (1) and the live chart (train, EMA, val).
  assert.equal(r.plots, 3, info);
  assert.ok(r.svgs >= 3, info);
  assert.ok(r.tracesPerPlot.every((t) => t > 0), `a chart has no data traces; ${info}`);
  assert.equal(r.tracesPerPlot[0], 2, info);
  assert.equal(r.tracesPerPlot[2], 3, `live chart should show train, EMA and val; ${info}`);
  assert.equal(r.progress.length, 1, info);
  assert.match(r.progress[0], /^✔ step (\d+)\/\1 \(100%\) · epoch \d+ · loss \d+\.\d+ · val \d+\.\d+ · .*B\/s · done in/, info);
}

test('plotly charts render in the nbconvert HTML of an executed notebook', { timeout: 300_000 }, async () => {
  const executed = path.join(outDir, `${SETUP_NB}.ipynb`);
  assert.ok(fs.existsSync(executed), 'the smoke run did not write the executed notebook');
  const htmlDir = path.join(outDir, 'cli');
  const r = run(PY, ['-m', 'nbconvert', '--to', 'html', '--output-dir', htmlDir, executed]);
  assert.equal(r.status, 0, r.out);
  const html = path.join(htmlDir, `${SETUP_NB}.html`);
  assert.ok(fs.existsSync(html), r.out);
  checkReport(await inspectHtml(html), 'nbconvert CLI HTML');
  // The runner's own --html export must render the same way.
  checkReport(await inspectHtml(path.join(outDir, `${SETUP_NB}.html`)), 'run-notebooks.py --html');
});
