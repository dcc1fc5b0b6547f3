/**
 * Notebooks compile lib/ with tslab's own TypeScript (5.0.x, bundled as
 * @tslab/typescript-for-tslab), NOT with the project's tsc/tsconfig: non-strict, module ESNext,
 * Node10 resolution, target/lib ES2022, no DOM. Code that only newer TypeScript accepts (e.g.
 * `using`, `NoInfer`, inferred type predicates in `.filter(...)`) passes `npm run typecheck`
 * but breaks every notebook that imports it. This test compiles all of lib/ the way tslab does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

/** Every .ts file of lib/, in all its folders (relative paths). */
function libFiles(dir = path.join(ROOT, 'lib')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? libFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : [],
  );
}

test("lib/ compiles with tslab's TypeScript and compiler options", () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ts = require('@tslab/typescript-for-tslab') as typeof import('typescript');
  assert.match(ts.version, /^5\.0\./, `tslab's TypeScript is ${ts.version}; re-check this test's assumptions`);
  const files = libFiles();
  assert.ok(files.length > 50, `only ${files.length} lib/ files found`);
  // The options tslab 1.0.22 passes in dist/converter.js (createConverter), minus its watch/outDir
  // plumbing and noImplicitUseStrict (emit-only; TS 5.0 flags it as deprecated, tslab ignores that).
  const options: import('typescript').CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    declaration: true,
    experimentalDecorators: true,
    resolveJsonModule: true,
    jsx: ts.JsxEmit.React,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    rootDir: ROOT,
    noEmit: true,
    typeRoots: [path.join(ROOT, 'node_modules', '@types')],
  };
  const program = ts.createProgram(files, options);
  const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  const text = diags
    .map((d) => {
      const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return msg;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${path.relative(ROOT, d.file.fileName)}:${line + 1}:${character + 1} ${msg}`;
    })
    .join('\n');
  assert.equal(diags.length, 0, `lib/ does not compile under tslab (TypeScript ${ts.version}):\n${text}`);
});

test('lib/ files load as CommonJS after tslab\'s two-step emit (ESNext, then CommonJS)', () => {
  // tslab emits ESNext and converts that to CommonJS (dist/converter.js esModuleToCommonJSModule).
  // A file that is not valid inside Node's CommonJS wrapper — e.g. a top-level `let module` —
  // is then silently retried by Node as an ES module and fails with "exports is not defined".
  const ts = require('@tslab/typescript-for-tslab') as typeof import('typescript');
  for (const file of libFiles()) {
    const f = path.relative(path.join(ROOT, 'lib'), file);
    const src = fs.readFileSync(file, 'utf8');
    const esm = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    const cjs = ts.transpileModule(esm, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    assert.doesNotThrow(() => new Function('exports', 'require', 'module', '__filename', '__dirname', cjs), `lib/${f} is not valid CommonJS after tslab's emit`);
  }
});
