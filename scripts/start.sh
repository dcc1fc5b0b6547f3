#!/bin/sh
# `npm start`: register the project-local tslab kernel, then serve notebooks/ with the classic
# Jupyter Notebook. Extra arguments go to Jupyter, e.g. `npm start -- --port 9000`.
# Env: NB_PORT (default 8888), NB_IP (default localhost), NB_BROWSER=0/1 to force not/opening
# a browser (default: open one only when a display is available), PYTHON as for setup-kernel.sh.
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT"
sh scripts/setup-kernel.sh

if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3
else PY=$(command -v python3)
fi

export JUPYTER_PATH="$ROOT/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export PYDEVD_DISABLE_FILE_VALIDATION=1

browser=${NB_BROWSER:-}
if [ -z "$browser" ]; then
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname -s)" = Darwin ]; then browser=1; else browser=0; fi
fi
if [ "$browser" = 1 ]; then open_flag=--NotebookApp.open_browser=True; else open_flag=--no-browser; fi

# Defaults only for what the caller did not pass (Jupyter rejects a repeated --port).
port_flag="--port=${NB_PORT:-8888}"; ip_flag="--ip=${NB_IP:-localhost}"
for a in "$@"; do
  case $a in
    --port|--port=*|--NotebookApp.port*) port_flag= ;;
    --ip|--ip=*|--NotebookApp.ip*) ip_flag= ;;
    --browser*|--no-browser|--NotebookApp.open_browser*) open_flag= ;;
  esac
done

root_flag=
if [ "$(id -u)" = 0 ]; then
  root_flag=--allow-root
  echo "start: running as root (container?): passing --allow-root to Jupyter" >&2
fi

echo "Starting Jupyter Notebook on notebooks/ (stop with Ctrl-C, twice)."
echo "Open the http://...?token=... URL it prints below."
exec "$PY" -m notebook --notebook-dir="$ROOT/notebooks" $ip_flag $port_flag $open_flag $root_flag "$@"
