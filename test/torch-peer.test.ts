/**
 * scripts/torch-peer.ts: the choice of the PyTorch speed peer (fake candidates), and a real probe
 * of whatever Pythons with torch this machine has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { candidates, choosePeer, describeChoice, MIN_GFLOPS, probeTorch, TorchProbe } from '../scripts/torch-peer';
import { tmpDir } from './helpers';

const fake = (python: string, matmulGflops: number, blas = 'mkl'): TorchProbe => ({ python, executable: python, pythonVersion: '3.11.7', torch: '2.x', blas, mkl: blas === 'mkl', threads: 2, matmulGflops });
const MKL = fake('python3', 95.5);
const DEBIAN = fake('/usr/bin/python3', 2.3, 'generic');
const NONE: TorchProbe = { python: '/usr/bin/python3', error: 'import torch failed: ModuleNotFoundError' };

test('candidates: python3 then /usr/bin/python3, or UNREASONABLE_PYTHON first', () => {
  assert.deepEqual(candidates({}), { forced: undefined, list: ['python3', '/usr/bin/python3'] });
  assert.deepEqual(candidates({ UNREASONABLE_PYTHON: '/opt/py/bin/python' }), { forced: '/opt/py/bin/python', list: ['/opt/py/bin/python', 'python3', '/usr/bin/python3'] });
  assert.deepEqual(candidates({ UNREASONABLE_PYTHON: '/usr/bin/python3' }).list, ['/usr/bin/python3', 'python3']);
  assert.equal(candidates({ UNREASONABLE_PYTHON: '  ' }).forced, undefined);
});

test('the fastest matmul wins, whatever the order', () => {
  for (const probes of [[MKL, DEBIAN], [DEBIAN, MKL]]) {
    const c = choosePeer(probes);
    assert.equal(c.peer, MKL);
    assert.equal(c.ratioOk, true);
    assert.deepEqual(c.why, []);
  }
  const c = choosePeer([NONE, fake('python3', 40)]);
  assert.equal(c.peer?.python, 'python3');
  assert.equal(c.ratioOk, true);
});

test('a forced slow PyTorch is used but no ratio is printed against it, with the reasons', () => {
  const c = choosePeer([DEBIAN, MKL], '/usr/bin/python3');
  assert.equal(c.peer, DEBIAN);
  assert.equal(c.ratioOk, false);
  assert.equal(c.why.length, 2);
  assert.match(c.why[0], /2\.3 GFLOP\/s, below 5 GFLOP\/s: a fallback BLAS kernel \(BLAS generic\)/);
  assert.match(c.why[1], /below 0\.25 × that of python3's PyTorch 2\.x \(95\.5 GFLOP\/s\)/);
  assert.ok(describeChoice(c).some((l) => /^ {2}no speed ratio against it: /.test(l)));
  // Above the floor but far behind the best: the fraction alone refuses it.
  const mid = fake('/opt/py', 20);
  const d = choosePeer([mid, MKL], '/opt/py');
  assert.equal(d.ratioOk, false);
  assert.equal(d.why.length, 1);
  // Forced and fast enough: fine.
  assert.equal(choosePeer([fake('/opt/py', 80), MKL], '/opt/py').ratioOk, true);
});

test('the only PyTorch being slow is refused by the floor alone', () => {
  const c = choosePeer([{ python: 'python3', error: 'not found' }, DEBIAN]);
  assert.equal(c.peer, DEBIAN);
  assert.equal(c.ratioOk, false);
  assert.deepEqual(c.why.length, 1);
  assert.ok(DEBIAN.matmulGflops! < MIN_GFLOPS);
});

test('no PyTorch anywhere, or a forced Python without it: no peer, and why', () => {
  const c = choosePeer([{ python: 'python3', error: 'not found' }, NONE]);
  assert.equal(c.peer, undefined);
  assert.match(c.why[0], /^no PyTorch found \(python3: not found; \/usr\/bin\/python3: import torch failed/);
  const d = choosePeer([{ python: '/x', error: 'not found' }, MKL], '/x');
  assert.equal(d.peer, undefined);
  assert.match(d.why[0], /^UNREASONABLE_PYTHON=\/x has no usable PyTorch/);
});

test('probe: a missing Python, and one without torch (the probe script exits 3 with its reason)', () => {
  assert.deepEqual(probeTorch('/nonexistent/python3', 1), { python: '/nonexistent/python3', error: 'not found' });
  const dir = tmpDir('unreasonable-peer-');
  const py = path.join(dir, 'python');
  fs.writeFileSync(py, `#!/bin/sh\necho '{"error": "import torch failed: ModuleNotFoundError: no torch here"}'\nexit 3\n`, { mode: 0o755 });
  assert.deepEqual(probeTorch(py, 1), { python: py, error: 'import torch failed: ModuleNotFoundError: no torch here' });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('real probe of each default candidate: a Python with torch gives its version, BLAS and a matmul speed on the threads asked; one without says why', () => {
  for (const python of candidates({}).list) {
    let version: string;
    try {
      version = execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      const p = probeTorch(python, 1);
      assert.ok(p.error, `${python} has no torch, so the probe must say why`);
      continue;
    }
    const p = probeTorch(python, 1);
    assert.equal(p.error, undefined);
    assert.equal(p.torch, version);
    assert.equal(p.threads, 1);
    assert.ok(p.matmulGflops! > 0.1 && p.matmulGflops! < 10_000, String(p.matmulGflops));
    assert.match(p.blas!, /^\w+$/);
    assert.ok(fs.existsSync(p.executable!));
  }
});
