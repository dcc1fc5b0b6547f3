/**
 * lib/'s layout is its architecture: every file sits in a folder named for its layer, and imports
 * point down the layer list only (or stay in their folder). The entries at the top of lib/
 * (index, toolkit, notebook) may import anything.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const LIB = path.resolve(__dirname, '..', 'lib');

/** Bottom up: a folder may import from itself and from folders before it. */
const LAYERS = ['util', 'io', 'data', 'nn', 'generate', 'train', 'experiments', 'pretrained', 'interop', 'backend', 'notebook', 'toolkit', 'cli'];
const ENTRIES = ['index.ts', 'notebook.ts', 'toolkit.ts'];

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Relative specifiers of `import … from`, `export … from`, `import()` and `require()`. */
export function relativeImports(source: string): string[] {
  const out: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, ''); // comments mention paths too
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]*)\1/gm;
  for (let m = re.exec(code); m; m = re.exec(code)) out.push(m[2]);
  return out;
}

function layerOf(file: string): string {
  return path.relative(LIB, file).split(path.sep)[0];
}

test('lib/ holds only the entry files and one folder per layer', () => {
  const top = fs.readdirSync(LIB, { withFileTypes: true });
  const files = top.filter((e) => e.isFile()).map((e) => e.name).sort();
  assert.deepEqual(files, [...ENTRIES].sort());
  const folders = top.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  assert.deepEqual(folders, [...LAYERS].sort());
});

test('imports point down the layers (or stay in their folder), and every one resolves', () => {
  const bad: string[] = [];
  let checked = 0;
  for (const file of filesUnder(LIB).filter((f) => /\.(ts|js)$/.test(f))) {
    const from = layerOf(file);
    for (const spec of relativeImports(fs.readFileSync(file, 'utf8'))) {
      const target = path.resolve(path.dirname(file), spec);
      const resolved = [target, `${target}.ts`, `${target}.js`, path.join(target, 'index.ts')].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
      assert.ok(resolved, `${path.relative(LIB, file)}: '${spec}' does not resolve`);
      checked++;
      if (ENTRIES.includes(path.relative(LIB, file))) continue;
      assert.ok(!ENTRIES.includes(path.relative(LIB, resolved)), `${path.relative(LIB, file)} imports the entry ${spec}: import the file itself`);
      const to = layerOf(resolved);
      if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) bad.push(`${path.relative(LIB, file)} (${from}) imports ${path.relative(LIB, resolved)} (${to})`);
    }
  }
  assert.ok(checked > 100, `only ${checked} imports found: the scanner is broken`);
  assert.deepEqual(bad, [], 'imports that point up the layers');
});

test('the import scanner finds every kind of relative import', () => {
  const src = "/** see `import { x } from './lib/x'` */\n// from './y'\nimport { a } from './a';\nexport * from '../b';\nconst c = require('./c');\nconst d = await import(\"../d/e\");\nimport './side';\nimport * as fs from 'fs';";
  assert.deepEqual(relativeImports(src), ['./a', '../b', './c', '../d/e', './side']);
});
