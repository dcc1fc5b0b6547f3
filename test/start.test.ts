/**
 * scripts/start.sh (`npm start`): which Jupyter app it picks (JupyterLab > Notebook 7 > classic),
 * NB_APP / --app overrides, the first lines saying which, and the server flags for each app.
 * The choice is driven through fake `python3` executables that answer start.sh's probe with
 * canned package versions (NB_DRY_RUN=1 prints the command instead of running it); the classic
 * Notebook, the one installed here, is also really started and asked for its API status. And
 * scripts/fetch-corpora.sh, which `npm start` runs in the background: tinyshakespeare downloaded
 * once from a loopback server, offline a one-line note, cached nothing at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { tmpDir } from './helpers';

const ROOT = path.resolve(__dirname, '..');

function fakePython(dir: string, versions: Record<string, string>): string {
  const file = path.join(dir, `python3-${Object.values(versions).join('-') || 'none'}`);
  const lines = ['lab', 'notebook', 'nbclassic', 'plotly'].map((k) => `${k}=${versions[k] ?? ''}`).join('\\n');
  fs.writeFileSync(file, `#!/bin/sh\ncat >/dev/null\nprintf '${lines}\\n'\n`, { mode: 0o755 });
  return file;
}

function start(py: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync('sh', ['scripts/start.sh', ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, NB_APP: '', PYTHON: py, NB_DRY_RUN: '1', NB_BROWSER: '0', ...env },
  });
  return { status: r.status, lines: r.stdout.trim().split('\n'), stderr: r.stderr };
}

test('npm start picks JupyterLab, then Notebook 7, then the classic Notebook, and says which first', () => {
  const dir = tmpDir();
  const all = fakePython(dir, { lab: '4.2.5', notebook: '7.2.1', plotly: '6.0.1' });
  const nb7 = fakePython(dir, { notebook: '7.2.1' });
  const nb6 = fakePython(dir, { notebook: '6.4.12' });
  const nbc = fakePython(dir, { notebook: '7.2.1', nbclassic: '1.1.0' });
  const none = fakePython(dir, {});

  let r = start(all);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.lines[0], /^start: using JupyterLab 4\.2\.5 \(auto: /);
  assert.match(r.lines[1], /plotly's own renderer \(plotly 6\.0\.1/);
  assert.match(r.lines[2], / -m jupyterlab --ServerApp\.root_dir=\S+\/notebooks --ip=localhost --port=8888 --no-browser/);

  r = start(nb7, ['--port', '9001']);
  assert.match(r.lines[0], /^start: using Jupyter Notebook 7\.2\.1 \(auto: /);
  assert.match(r.lines[1], /pip install plotly/);
  assert.match(r.lines[2], / -m notebook --port 9001 --ServerApp\.root_dir=\S+ --ip=localhost +--no-browser/, 'a given --port replaces the default');

  r = start(nb6);
  assert.match(r.lines[0], /^start: using classic Jupyter Notebook 6\.4\.12 \(auto: /);
  assert.match(r.lines[1], /Trust Notebook/);
  assert.match(r.lines[2], / -m notebook --notebook-dir=\S+\/notebooks --ip=localhost --port=8888 --no-browser/);

  // Choosing: NB_APP, and --app (which wins and is not passed on to Jupyter).
  r = start(all, [], { NB_APP: 'notebook7' });
  assert.match(r.lines[0], /^start: using Jupyter Notebook 7\.2\.1 \(chosen with NB_APP\/--app/);
  r = start(all, ['--app=lab', '--foo'], { NB_APP: 'notebook7' });
  assert.match(r.lines[0], /^start: using JupyterLab/);
  assert.match(r.lines[2], / -m jupyterlab --foo /);
  assert.doesNotMatch(r.lines[2], /--app/);
  r = start(nbc, ['--app', 'classic']);
  assert.match(r.lines[0], /^start: using classic Jupyter Notebook \(nbclassic 1\.1\.0\)/);
  assert.match(r.lines[2], / -m nbclassic --ServerApp\.root_dir=/);

  // Missing or unknown apps: a clear message and a non-zero exit.
  r = start(nb7, ['--app=classic']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /start: the classic Notebook is not installed for .*no nbclassic/);
  r = start(none);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /start: no Jupyter app found .*\n\s+Install one/);
  r = start(all, ['--app=jupyterlite']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /start: unknown app 'jupyterlite'/);
});

test('npm start really serves the notebooks with the classic Notebook installed here', { timeout: 120_000 }, async () => {
  const port = String(18000 + (process.pid % 1000));
  // No tinyshakespeare in its cache and no network: start.sh still serves, and says so in one line.
  const child = spawn('sh', ['scripts/start.sh', `--NotebookApp.token=t${port}`], {
    cwd: ROOT, detached: true,
    env: { ...process.env, NB_APP: '', NB_PORT: port, NB_IP: '127.0.0.1', NB_BROWSER: '0', UNREASONABLE_DATA_DIR: tmpDir(), UNREASONABLE_TINYSHAKESPEARE_URL: 'http://127.0.0.1:9/input.txt' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  try {
    assert.ok(child.pid);
    let status: { started?: string } | undefined;
    for (let i = 0; i < 100 && !status; i++) {
      await new Promise((r) => setTimeout(r, 500));
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/status?token=t${port}`);
        if (res.ok) status = (await res.json()) as { started?: string };
      } catch {
        // not up yet
      }
    }
    assert.ok(status?.started, `no server answered:\n${out}`);
    assert.match(out.split('\n')[0], /^start: using classic Jupyter Notebook 6\./);
    const nb = await fetch(`http://127.0.0.1:${port}/api/contents/00-setup-check.ipynb?token=t${port}&content=0`);
    assert.equal(nb.status, 200, 'notebooks/ is not the served folder');
    const specs = (await (await fetch(`http://127.0.0.1:${port}/api/kernelspecs?token=t${port}`)).json()) as { kernelspecs: Record<string, unknown> };
    assert.ok('tslab' in specs.kernelspecs, 'the project-local tslab kernel is not visible to the server');
    for (let i = 0; i < 40 && !/fetch-corpora:/.test(out); i++) await new Promise((r) => setTimeout(r, 250));
    assert.match(out, /^fetch-corpora: tinyshakespeare is not cached and could not be downloaded \(.*\): save http:\/\/127\.0\.0\.1:9\/input\.txt as .*tinyshakespeare\.txt \(until then notebooks 06, 07 and 11 use the offline corpora\)$/m);
  } finally {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

/** scripts/fetch-corpora.sh with `env` added (asynchronously: the test's own server must answer it). */
function fetchCorpora(env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['scripts/fetch-corpora.sh'], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('fetch-corpora.sh downloads tinyshakespeare once into the cache, verified; offline it says so and exits 0', async (t) => {
  const cached = path.join(ROOT, 'data/cache/tinyshakespeare.txt');
  if (!fs.existsSync(cached)) return t.skip('needs the real text to serve (CI copies it into data/cache/)');
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    if (req.url === '/input.txt') res.end(fs.readFileSync(cached));
    else res.writeHead(200).end('not shakespeare');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = (p: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${p}`;
  try {
    const cache = tmpDir();
    const file = path.join(cache, 'tinyshakespeare.txt');
    // Offline (a closed port): one line on stderr, nothing written, exit 0.
    let r = await fetchCorpora({ UNREASONABLE_DATA_DIR: cache, UNREASONABLE_TINYSHAKESPEARE_URL: 'http://127.0.0.1:9/input.txt' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^fetch-corpora: tinyshakespeare is not cached and could not be downloaded/);
    assert.equal(fs.existsSync(file), false);
    // The wrong bytes: refused, not saved.
    r = await fetchCorpora({ UNREASONABLE_DATA_DIR: cache, UNREASONABLE_TINYSHAKESPEARE_URL: url('/other.txt') });
    assert.equal(r.status, 0);
    assert.match(r.stderr, /^fetch-corpora: downloaded tinyshakespeare has the wrong sha256 .*: not saved/);
    assert.equal(fs.existsSync(file), false);
    // Online: downloaded, verified, in the cache, and said on stdout.
    r = await fetchCorpora({ UNREASONABLE_DATA_DIR: cache, UNREASONABLE_TINYSHAKESPEARE_URL: url('/input.txt') });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^fetch-corpora: downloaded tinyshakespeare: 1115394 bytes \(.*tinyshakespeare\.txt\): notebooks 06, 07 and 11 use it from now on\n$/);
    assert.ok(fs.readFileSync(file).equals(fs.readFileSync(cached)));
    assert.deepEqual(fs.readdirSync(cache), ['tinyshakespeare.txt'], 'no temporary file left');
    // Cached: silent, and no request.
    const before = served;
    r = await fetchCorpora({ UNREASONABLE_DATA_DIR: cache, UNREASONABLE_TINYSHAKESPEARE_URL: url('/input.txt') });
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', '']);
    assert.equal(served, before);
  } finally {
    server.close();
  }
});

test('npm start runs the download in the background once the kernel is registered, unless NB_FETCH=0', () => {
  const text = fs.readFileSync(path.join(ROOT, 'scripts/start.sh'), 'utf8');
  // The one line that starts it, after the kernel is registered and before Jupyter replaces the shell.
  const line = text.split('\n').findIndex((l) => l.includes('scripts/fetch-corpora.sh &'));
  assert.ok(line > text.split('\n').findIndex((l) => l.startsWith('sh scripts/setup-kernel.sh')), 'after setup-kernel');
  assert.ok(line < text.split('\n').findIndex((l) => l.startsWith('exec ')), 'before exec');
  assert.match(text.split('\n')[line], /^if \[ "\$\{NB_FETCH:-1\}" != 0 \]; then sh scripts\/fetch-corpora\.sh & fi$/);
});
