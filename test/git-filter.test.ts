/**
 * The git clean filter "nbstrip" (scripts/setup-git-filter.sh, .gitattributes): in a fresh clone,
 * a notebook written back by a run (outputs, counts, the server's metadata) leaves `git status`
 * clean, and a commit of an edited, executed notebook stores the edit without its outputs. The
 * set-up is harmless outside a checkout and without git.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const PY = process.env.PYTHON || '/usr/bin/python3';
const NB = 'notebooks/00-setup-check.ipynb';
let tmp = '';
let clone = '';

const git = (...args: string[]) => execFileSync('git', args, { cwd: clone, encoding: 'utf8' });

/** Write NB in the clone as the notebook server does after a run (nbformat, indent 1). */
function runNotebook(edit = false): void {
  const code = `
import nbformat, sys
nb = nbformat.read(sys.argv[1], as_version=4)
for i, c in enumerate(c for c in nb.cells if c.cell_type == "code"):
    c.execution_count = i + 1
    c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran %d\\n" % i),
                 nbformat.v4.new_output("display_data", data={"text/html": "<b>x</b>" * 1000})]
    c.metadata["scrolled"] = True
nb.metadata["language_info"] = {"name": "typescript", "version": "3.7.2", "mimetype": "text/typescript", "file_extension": ".ts",
                                "codemirror_mode": {"mode": "typescript", "name": "javascript", "typescript": True}}
if sys.argv[2] == "1":
    nb.cells[0].source += "\\nEDITED"
nbformat.write(nb, sys.argv[1])
`;
  execFileSync(PY, ['-c', code, path.join(clone, NB), edit ? '1' : '0']);
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'unreasonable-gitfilter-'));
  clone = path.join(tmp, 'clone');
  execFileSync('git', ['clone', '-q', ROOT, clone]);
  git('config', 'user.email', 'test@example.invalid');
  git('config', 'user.name', 'test');
  const r = spawnSync('sh', ['scripts/setup-git-filter.sh'], { cwd: clone, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(git('config', '--get', 'filter.nbstrip.clean'), /mknb\.py strip --stdin/);
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('a notebook written back with outputs shows no change to git (diff empty; clean once re-added)', () => {
  runNotebook();
  const onDisk = fs.readFileSync(path.join(clone, NB), 'utf8');
  assert.match(onDisk, /"execution_count": 1/, 'the file on disk keeps its outputs');
  assert.equal(git('diff'), '');
  assert.equal(git('diff', '--stat'), '');
  // git status flags a file whose size changed without running the filter (git's stat shortcut);
  // `git add` refreshes the entry and stages nothing.
  git('add', '-A');
  assert.equal(git('status', '--porcelain'), '');
  assert.equal(git('diff', '--cached'), '');
});

test('committing an edited, executed notebook stores the edit without outputs', () => {
  runNotebook(true);
  assert.match(git('status', '--porcelain'), /M notebooks\/00-setup-check\.ipynb/);
  git('commit', '-qam', 'edit');
  const stored = git('show', `HEAD:${NB}`);
  assert.match(stored, /EDITED/);
  assert.doesNotMatch(stored, /ran 0|<b>x<\/b>|"execution_count": \d|"version": "3\.7\.2"|scrolled/);
  fs.writeFileSync(path.join(tmp, 'stored.ipynb'), stored);
  const check = spawnSync(PY, ['scripts/mknb.py', 'check', path.join(tmp, 'stored.ipynb')], { cwd: clone, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('the set-up does nothing and succeeds outside a git checkout, and without git', () => {
  const plain = path.join(tmp, 'plain');
  fs.mkdirSync(path.join(plain, 'scripts'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'scripts/setup-git-filter.sh'), path.join(plain, 'scripts/setup-git-filter.sh'));
  const outside = spawnSync('sh', ['scripts/setup-git-filter.sh'], { cwd: plain, encoding: 'utf8', env: { ...process.env, GIT_CEILING_DIRECTORIES: tmp } });
  assert.equal(outside.status, 0, outside.stderr);
  assert.equal(outside.stdout, '');
  const noGit = spawnSync('/bin/sh', ['scripts/setup-git-filter.sh'], { cwd: clone, encoding: 'utf8', env: { PATH: '/nonexistent' } });
  assert.equal(noGit.status, 0, noGit.stderr);
  assert.equal(noGit.stdout, '');
});
