/**
 * npm 12 readiness: every installed dependency that has an install-time script (preinstall,
 * install, postinstall, or an implicit `node-gyp rebuild` from a binding.gyp) is decided in
 * package.json's `allowScripts` (true = may run, false = denied), and the ones the project needs
 * (tslab's zeromq, esbuild, the optional tfjs-node packages) are allowed. The same check as
 * `npm install-scripts ls` (npm ≥ 11.16), without needing that npm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

function packagesWithInstallScripts(dir: string, out = new Map<string, string>()): Map<string, string> {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const full = path.join(dir, entry);
    if (entry.startsWith('@')) {
      packagesWithInstallScripts(full, out);
      continue;
    }
    const pj = path.join(full, 'package.json');
    if (!fs.existsSync(pj)) continue;
    const pkg = JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string; scripts?: Record<string, string> };
    const scripts = pkg.scripts ?? {};
    const which = ['preinstall', 'install', 'postinstall'].filter((s) => scripts[s]);
    if (!which.length && fs.existsSync(path.join(full, 'binding.gyp'))) which.push('install (node-gyp)');
    if (which.length && pkg.name) out.set(pkg.name, which.join(', '));
    packagesWithInstallScripts(path.join(full, 'node_modules'), out);
  }
  return out;
}

test('package.json allowScripts decides every installed dependency with an install script', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  const allow = pkg.allowScripts ?? {};
  for (const name of ['zeromq', 'esbuild', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    assert.equal(allow[name], true, `${name} must be allowed`);
  }
  assert.ok(Object.values(allow).every((v) => typeof v === 'boolean'));
  const found = packagesWithInstallScripts(path.join(ROOT, 'node_modules'));
  assert.ok(found.has('zeromq'), 'zeromq (tslab kernel) should be installed and have its install script');
  const undecided = [...found].filter(([name]) => !(name in allow)).map(([n, s]) => `${n} (${s})`);
  assert.deepEqual(undecided, [], 'add these to allowScripts in package.json (true or false)');
});
