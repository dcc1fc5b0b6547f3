/**
 * The real Jupyter UI, as a person uses it: the classic Notebook server from the install (the
 * project-local tslab kernel, scripts/setup-kernel.sh) on a free localhost port with a token,
 * opened in headless Chromium (playwright-core); Kernel > Restart & Run All on 00 and 02 in smoke
 * mode (NB_SMOKE=1 in the server's environment). Asserts that every code cell ends with a number
 * prompt, that the kernel indicator is never idle for long while cells are still queued or
 * running (and is idle at the end), that no cell shows an error, and that every cell that prints
 * or plots has output. The notebooks run from a temporary copy under .out/ (autosave writes there), and the
 * server, its kernels and the browser are stopped in every case.
 *
 * Needs Jupyter (Debian: jupyter-notebook) and Chromium; missing, the test fails.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { CHROMIUM_ARGS, chromiumPath } from '../lib/notebook';

const ROOT = path.resolve(__dirname, '..');
const PY = process.env.PYTHON || '/usr/bin/python3';
const NOTEBOOKS = ['00-setup-check', '02-vanilla-rnn'];
/** Longest idle the indicator may show while cells are still queued (the idle→busy hand-over). */
const MAX_IDLE_WHILE_PENDING_MS = 1000;

// Minimal structural types for the playwright-core bits used here.
interface Page {
  goto(url: string, opts?: { timeout?: number; waitUntil?: string }): Promise<unknown>;
  waitForFunction(fn: string, arg?: unknown, opts?: { timeout?: number; polling?: number }): Promise<unknown>;
  evaluate<R>(fn: string): Promise<R>;
  click(selector: string, opts?: { timeout?: number }): Promise<void>;
  screenshot(opts: { path: string; fullPage?: boolean }): Promise<unknown>;
}
interface Browser {
  newPage(opts?: { viewport?: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}

let server: ChildProcess | undefined;
let browser: Browser | undefined;
let workDir = '';
let base = '';
let token = '';
let serverLog = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForServer(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (server?.exitCode !== null && server?.exitCode !== undefined) throw new Error(`the notebook server exited (${server.exitCode}):\n${serverLog}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the notebook server did not answer at ${url} within ${timeoutMs / 1000} s:\n${serverLog}`);
}

async function stopServer(): Promise<void> {
  const s = server;
  server = undefined;
  if (!s || s.exitCode !== null) return;
  // /api/shutdown stops the server, which shuts its kernels down; then the process group.
  try {
    await fetch(`${base}/api/shutdown?token=${token}`, { method: 'POST', signal: AbortSignal.timeout(3000) });
  } catch {
    /* already gone */
  }
  const exited = new Promise<void>((r) => s.once('exit', () => r()));
  const t = setTimeout(() => {
    try {
      process.kill(-s.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 15_000);
  await exited;
  clearTimeout(t);
}

before(async () => {
  if (!fs.existsSync(chromiumPath())) throw new Error(`no Chromium at ${chromiumPath()} (Debian: apt-get install chromium, or set CHROMIUM_PATH)`);
  const setup = spawnSync('sh', ['scripts/setup-kernel.sh'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(setup.status, 0, `scripts/setup-kernel.sh failed (Jupyter installed?):\n${setup.stdout}${setup.stderr}`);
  // Inside the checkout (git-ignored .out/): the kernel's TypeScript resolves the library's
  // imports (@tensorflow/tfjs, ...) from the notebook's folder upwards, to node_modules/.
  fs.mkdirSync(path.join(ROOT, '.out'), { recursive: true });
  workDir = fs.mkdtempSync(path.join(ROOT, '.out', 'ui-'));
  const nbDir = path.join(workDir, 'notebooks');
  fs.mkdirSync(nbDir);
  fs.symlinkSync(path.join(ROOT, 'lib'), path.join(nbDir, 'lib'));
  for (const n of NOTEBOOKS) fs.copyFileSync(path.join(ROOT, 'notebooks', `${n}.ipynb`), path.join(nbDir, `${n}.ipynb`));
  const port = await freePort();
  token = crypto.randomBytes(16).toString('hex');
  base = `http://127.0.0.1:${port}`;
  const jupyterDir = path.join(workDir, 'jupyter');
  const args = ['-m', 'notebook', '--no-browser', `--port=${port}`, '--port-retries=0', '--ip=127.0.0.1',
    `--NotebookApp.token=${token}`, `--notebook-dir=${nbDir}`, '--NotebookApp.open_browser=False'];
  if (process.getuid?.() === 0) args.push('--allow-root');
  server = spawn(PY, args, {
    cwd: ROOT,
    detached: true, // its own process group, stopped as one
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NB_SMOKE: '1',
      PYDEVD_DISABLE_FILE_VALIDATION: '1',
      JUPYTER_PATH: path.join(ROOT, '.jupyter', 'share', 'jupyter'),
      JUPYTER_CONFIG_DIR: path.join(jupyterDir, 'config'),
      JUPYTER_RUNTIME_DIR: path.join(jupyterDir, 'runtime'),
      JUPYTER_DATA_DIR: path.join(jupyterDir, 'data'),
    },
  });
  const keep = (b: Buffer) => {
    serverLog = (serverLog + b.toString()).slice(-20_000);
  };
  server.stdout!.on('data', keep);
  server.stderr!.on('data', keep);
  await waitForServer(`${base}/api/status?token=${token}`, 60_000);
  const { chromium } = require('playwright-core') as { chromium: { launch(o: unknown): Promise<Browser> } };
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS, '--headless', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await stopServer();
    if (workDir && !process.env.KEEP_UI_OUT) fs.rmSync(workDir, { recursive: true, force: true });
    else if (workDir) console.log(`UI test files kept in ${workDir}`);
  }
});

interface CellInfo {
  prompt: number | string | null;
  src: string;
  outputs: { type: string; name?: string; text?: string }[];
}
interface RunInfo {
  cells: CellInfo[];
  idleWhilePending: number[];
  icon: string;
}

// Runs in the page: a 25 ms sampler of the indicator and the prompts.
const RECORDER = `(() => {
  const w = window;
  w.__rec = { idleWhilePending: [], idleSince: null };
  setInterval(() => {
    const icon = document.querySelector('#kernel_indicator_icon')?.className || '';
    const pending = w.Jupyter.notebook.get_cells().some((c) => c.cell_type === 'code' && c.input_prompt_number === '*');
    const now = performance.now();
    if (icon.includes('idle') && pending) {
      if (w.__rec.idleSince === null) w.__rec.idleSince = now;
    } else if (w.__rec.idleSince !== null) {
      w.__rec.idleWhilePending.push(Math.round(now - w.__rec.idleSince));
      w.__rec.idleSince = null;
    }
  }, 25);
})()`;

const STATE = `(() => ({
  icon: document.querySelector('#kernel_indicator_icon')?.className || '',
  idleWhilePending: window.__rec.idleWhilePending.concat(window.__rec.idleSince === null ? [] : [Math.round(performance.now() - window.__rec.idleSince)]),
  cells: window.Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code').map((c) => ({
    prompt: c.input_prompt_number === undefined ? null : c.input_prompt_number,
    src: c.get_text(),
    outputs: c.output_area.outputs.map((o) => ({ type: o.output_type, name: o.name, text: typeof o.text === 'string' ? o.text.slice(0, 2000) : undefined })),
  })),
}))()`;

/** Does the cell's code print or display something (comments stripped)? */
function expectsOutput(src: string): boolean {
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return /console\.log\(|\bshow\w*\(|\b\w*[pP]lot\(|display\.|liveTraining\(|\bheatmap\(/.test(code);
}

for (const name of NOTEBOOKS) {
  test(`Restart & Run All in the Jupyter UI: ${name}`, { timeout: 240_000 }, async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/notebooks/${name}.ipynb?token=${token}`, { timeout: 60_000 });
    await page.waitForFunction('window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()', undefined, { timeout: 60_000 });
    await page.evaluate(RECORDER);
    await page.click('#kernellink');
    await page.click('#restart_run_all');
    await page.click('.modal-footer button.btn-danger'); // "Restart and Run All Cells"
    // Done: the kernel is idle, no prompt is '*' and every code cell has a number or an empty prompt.
    try {
      await page.waitForFunction(
        `(() => { const cs = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
          return document.querySelector('#kernel_indicator_icon').className.includes('idle') &&
            cs.every((c) => c.input_prompt_number !== '*') && cs.some((c) => typeof c.input_prompt_number === 'number') &&
            Jupyter.notebook.kernel.is_connected(); })()`,
        undefined, { timeout: 180_000, polling: 200 },
      );
    } catch (e) {
      // Say where it stood (a slow first kernel start, a cell that never finished, a dead kernel), not only "timeout".
      const at = await page.evaluate<RunInfo>(STATE).catch(() => undefined);
      const cells = at ? at.cells.map((c, i) => `cell ${i + 1}: prompt ${JSON.stringify(c.prompt)}, ${c.outputs.length} outputs`).join('; ') : 'page state unreadable';
      throw new Error(`${name} did not finish Restart & Run All in 180 s (indicator ${at?.icon ?? '?'}; ${cells})\n` +
        `server log (tail):\n${serverLog.slice(-3000)}\n${(e as Error).message.split('\n')[0]}`);
    }
    await new Promise((r) => setTimeout(r, 1000)); // late output, if any, would show now
    const run = await page.evaluate<RunInfo>(STATE);
    if (process.env.KEEP_UI_OUT) await page.screenshot({ path: path.join(workDir, `${name}.png`), fullPage: true });
    const where = (i: number) => `${name} code cell ${i + 1} (${run.cells[i].src.split('\n')[0].slice(0, 60)})`;
    run.cells.forEach((c, i) => {
      assert.equal(typeof c.prompt, 'number', `${where(i)} ends with prompt ${JSON.stringify(c.prompt)}, not a number`);
      const errs = c.outputs.filter((o) => o.type === 'error' || (o.type === 'stream' && o.name === 'stderr'));
      assert.deepEqual(errs, [], `${where(i)} shows an error`);
      if (expectsOutput(c.src)) assert.ok(c.outputs.length > 0, `${where(i)} prints or plots but has no output`);
    });
    const prompts = run.cells.map((c) => c.prompt as number);
    assert.deepEqual(prompts, prompts.map((_, i) => i + 1), 'prompts count up from 1 after the restart');
    assert.ok(run.icon.includes('idle'), `the indicator is idle at the end (${run.icon})`);
    const longIdle = run.idleWhilePending.filter((ms) => ms > MAX_IDLE_WHILE_PENDING_MS);
    assert.deepEqual(longIdle, [], `the indicator showed idle while cells were queued or running (ms: ${run.idleWhilePending})`);
    await (page as unknown as { close(): Promise<void> }).close();
  });
}
