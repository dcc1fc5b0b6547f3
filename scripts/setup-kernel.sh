#!/bin/sh
# Register the TypeScript Jupyter kernel (tslab) for THIS project only.
#
# The kernelspec lands in .jupyter/share/jupyter/kernels/tslab (git-ignored); nothing is
# installed globally. Jupyter finds it when started with
#     JUPYTER_PATH=$PWD/.jupyter/share/jupyter
# which `npm start` and scripts/run-notebooks.py set themselves.
#
# Usage: sh scripts/setup-kernel.sh        (from anywhere; needs `npm install` done first)
# Env:   PYTHON=/path/to/python3 to use a Python other than /usr/bin/python3.
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT"

if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3
else PY=$(command -v python3 || true)
fi

need_jupyter() {
  cat >&2 <<MSG
setup-kernel: Jupyter is not available${1:+ ($1)}.
  The notebooks need a Jupyter app (JupyterLab, Notebook 7 or the classic Notebook) plus nbclient/nbconvert for Python 3:
    Debian/Ubuntu:  sudo apt-get install jupyter-notebook python3-nbclient python3-nbconvert
    elsewhere:      python3 -m pip install notebook nbclient nbconvert
  then run this again (set PYTHON=/path/to/python3 if it is not /usr/bin/python3).
MSG
  exit 1
}

[ -n "$PY" ] && [ -x "$PY" ] || need_jupyter "no python3 at ${PY:-\$PATH}"
"$PY" -c "import jupyter_client" 2>/dev/null || need_jupyter "$PY cannot import jupyter_client"

if [ ! -x node_modules/.bin/tslab ]; then
  echo "setup-kernel: node_modules/.bin/tslab is missing; run 'npm install' first." >&2
  exit 1
fi

# Notebooks import the library as ./lib/... through this symlink (see notebooks/README.md).
if [ ! -e notebooks/lib ]; then
  ln -s ../lib notebooks/lib
  echo "setup-kernel: created symlink notebooks/lib -> ../lib"
elif [ ! -d notebooks/lib ]; then
  echo "setup-kernel: notebooks/lib exists but is not a directory/symlink to ../lib (a checkout without symlink support?)." >&2
  echo "  Replace it: rm notebooks/lib && ln -s ../lib notebooks/lib" >&2
  exit 1
fi

if [ ! -x "$ROOT/node_modules/.bin/tslab" ]; then
  echo "setup-kernel: node_modules/.bin/tslab is missing: run npm install first" >&2
  exit 1
fi
# The kernel's binary is bin/tslab-kernel.js: tslab with fixes to its messaging (no lost
# output or silent cell failures, an honest busy/idle status; see that file).
"$ROOT/node_modules/.bin/tslab" install --python="$PY" \
  --binary="$ROOT/bin/tslab-kernel.js" --prefix="$ROOT/.jupyter" >/dev/null

# Notebook outputs stay out of git (a clean filter; does nothing outside a git checkout).
sh "$ROOT/scripts/setup-git-filter.sh" || true

# Confirm that Jupyter resolves `tslab` to the project-local spec.
JUPYTER_PATH="$ROOT/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}" PYDEVD_DISABLE_FILE_VALIDATION=1 \
"$PY" - "$ROOT/.jupyter/share/jupyter/kernels/tslab" <<'PYEOF'
import os, sys
from jupyter_client.kernelspec import KernelSpecManager
want = os.path.realpath(sys.argv[1])
spec = KernelSpecManager().get_kernel_spec("tslab")
got = os.path.realpath(spec.resource_dir)
if got != want:
    sys.exit(f"setup-kernel: Jupyter resolves kernel 'tslab' to {got}, not {want}")
print(f"kernel 'tslab' registered: {got} -> {spec.argv[0]}")
PYEOF
