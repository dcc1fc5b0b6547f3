#!/bin/sh
# Keep notebook outputs out of git: registers the clean filter "nbstrip" (.gitattributes applies it
# to notebooks/*.ipynb), which hands git each notebook without outputs, execution counts and the
# metadata a run writes (scripts/mknb.py strip --stdin). Running a notebook, autosave included,
# then leaves `git status` clean, and outputs are never committed; the files on disk keep them.
#
# Run by `npm install` (package.json "prepare") and by scripts/setup-kernel.sh. Does nothing, and
# succeeds, outside a git checkout or without git. Env: PYTHON as for setup-kernel.sh.
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT" || exit 0
command -v git >/dev/null 2>&1 || exit 0
[ "$(git rev-parse --is-inside-work-tree 2>/dev/null)" = true ] || exit 0
[ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$ROOT" ] || exit 0  # an npm package inside another repo

# A linked worktree (git worktree add) shares its config with the main checkout: set it up there.
if [ "$(cd "$(git rev-parse --git-dir)" && pwd -P)" != "$(cd "$(git rev-parse --git-common-dir)" && pwd -P)" ]; then
  echo "setup-git-filter: a linked worktree; run scripts/setup-git-filter.sh in the main checkout to filter notebook outputs" >&2
  exit 0
fi

if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3
else PY=$(command -v python3 || true)
fi
if [ -z "$PY" ] || ! "$PY" -c "import nbformat" 2>/dev/null; then
  echo "setup-git-filter: no python3 with nbformat (Debian: python3-nbformat); notebook outputs are not filtered from git" >&2
  exit 0
fi
# Git runs filters in the top folder of the working tree, so the script path is relative.
git config filter.nbstrip.clean "\"$PY\" scripts/mknb.py strip --stdin" &&
git config filter.nbstrip.smudge cat &&
git config filter.nbstrip.required true &&
echo "setup-git-filter: notebooks/*.ipynb are committed without outputs (git filter nbstrip)"
exit 0
