#!/bin/sh
# `npm start`: register the project-local tslab kernel, then serve notebooks/ with the best
# Jupyter app installed for $PY: JupyterLab, else Notebook 7, else the classic Notebook.
# Extra arguments go to Jupyter, e.g. `npm start -- --port 9000`.
#
# Choose the app:  NB_APP=auto|lab|notebook7|classic  (default auto), or `npm start -- --app=lab`.
#   lab        JupyterLab               ($PY -m jupyterlab)
#   notebook7  Notebook 7               ($PY -m notebook, notebook >= 7)
#   classic    the classic Notebook 6   ($PY -m notebook with notebook < 7, else $PY -m nbclassic)
# Env: NB_PORT (default 8888), NB_IP (default localhost), NB_BROWSER=0/1 to force not/opening
# a browser (default: open one only when a display is available), PYTHON as for setup-kernel.sh,
# NB_DRY_RUN=1 to print the choice and the command without registering or starting anything,
# NB_FETCH=0 not to download tinyshakespeare into the cache (scripts/fetch-corpora.sh) when it is missing.
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT"

if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3
else PY=$(command -v python3 || echo python3)
fi

# --app=NAME / --app NAME are ours; everything else goes to Jupyter.
app=${NB_APP:-auto}
n=$#
want_app_value=0
while [ "$n" -gt 0 ]; do
  a=$1; shift; n=$((n - 1))
  if [ "$want_app_value" = 1 ]; then app=$a; want_app_value=0; continue; fi
  case $a in
    --app=*) app=${a#--app=} ;;
    --app) want_app_value=1 ;;
    *) set -- "$@" "$a" ;;
  esac
done

# What is installed (versions; empty when missing).
probe=$("$PY" - 2>/dev/null <<'PYEOF' || true
def ver(name):
    try:
        mod = __import__(name)
    except Exception:
        return ""
    return str(getattr(mod, "__version__", "0"))
for name, mod in (("lab", "jupyterlab"), ("notebook", "notebook"), ("nbclassic", "nbclassic"), ("plotly", "plotly")):
    print(f"{name}={ver(mod)}")
PYEOF
)
field() { printf '%s\n' "$probe" | sed -n "s/^$1=//p" | head -n 1; }
lab_v=$(field lab); nb_v=$(field notebook); nbc_v=$(field nbclassic); plotly_v=$(field plotly)
nb_major=${nb_v%%.*}
case $nb_major in ''|*[!0-9]*) nb_major=0 ;; esac

have_lab() { [ -n "$lab_v" ]; }
have_nb7() { [ -n "$nb_v" ] && [ "$nb_major" -ge 7 ]; }
have_classic() { { [ -n "$nb_v" ] && [ "$nb_major" -lt 7 ]; } || [ -n "$nbc_v" ]; }

fail() {
  echo "start: $1" >&2
  cat >&2 <<MSG
  Install one for $PY:
    JupyterLab:          python3 -m pip install jupyterlab nbclient nbconvert
    Notebook 7:          python3 -m pip install notebook nbclient nbconvert
    classic Notebook 6:  sudo apt-get install jupyter-notebook python3-nbclient python3-nbconvert
  (set PYTHON=/path/to/python3 if it is not /usr/bin/python3)
MSG
  exit 1
}

case $app in
  auto)
    if have_lab; then app=lab
    elif have_nb7; then app=notebook7
    elif have_classic; then app=classic
    else fail "no Jupyter app found for $PY (looked for JupyterLab, Notebook 7, the classic Notebook)"
    fi
    how="auto: the first installed of JupyterLab, Notebook 7, classic Notebook" ;;
  lab|notebook7|classic) how="chosen with NB_APP/--app" ;;
  *) echo "start: unknown app '$app' (NB_APP or --app): use auto, lab, notebook7 or classic" >&2; exit 2 ;;
esac

case $app in
  lab)
    have_lab || fail "JupyterLab is not installed for $PY"
    name="JupyterLab $lab_v"; set -- -m jupyterlab "$@"; server=ServerApp ;;
  notebook7)
    have_nb7 || fail "Notebook 7 is not installed for $PY (notebook ${nb_v:-missing})"
    name="Jupyter Notebook $nb_v"; set -- -m notebook "$@"; server=ServerApp ;;
  classic)
    if [ -n "$nb_v" ] && [ "$nb_major" -lt 7 ]; then name="classic Jupyter Notebook $nb_v"; set -- -m notebook "$@"; server=NotebookApp
    elif [ -n "$nbc_v" ]; then name="classic Jupyter Notebook (nbclassic $nbc_v)"; set -- -m nbclassic "$@"; server=ServerApp
    else fail "the classic Notebook is not installed for $PY (notebook ${nb_v:-missing}, no nbclassic)"
    fi ;;
esac

echo "start: using $name ($how; choose with NB_APP=lab|notebook7|classic or --app=...)"
if [ "$app" = classic ]; then
  echo "start: charts draw as HTML; a reopened notebook shows them once trusted (File > Trust Notebook)."
elif [ -n "$plotly_v" ]; then
  echo "start: charts draw with plotly's own renderer (plotly $plotly_v for $PY), trusted or not."
else
  echo "start: charts draw as HTML in trusted notebooks; for plotly's renderer (also untrusted): $PY -m pip install plotly"
fi

export JUPYTER_PATH="$ROOT/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export PYDEVD_DISABLE_FILE_VALIDATION=1

browser=${NB_BROWSER:-}
if [ -z "$browser" ]; then
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname -s)" = Darwin ]; then browser=1; else browser=0; fi
fi
if [ "$browser" = 1 ]; then open_flag=--$server.open_browser=True; else open_flag=--no-browser; fi

# Defaults only for what the caller did not pass (Jupyter rejects a repeated --port).
port_flag="--port=${NB_PORT:-8888}"; ip_flag="--ip=${NB_IP:-localhost}"
for a in "$@"; do
  case $a in
    --port|--port=*|--NotebookApp.port*|--ServerApp.port*) port_flag= ;;
    --ip|--ip=*|--NotebookApp.ip*|--ServerApp.ip*) ip_flag= ;;
    --browser*|--no-browser|--NotebookApp.open_browser*|--ServerApp.open_browser*) open_flag= ;;
  esac
done

root_flag=
if [ "$(id -u)" = 0 ]; then
  root_flag=--allow-root
  echo "start: running as root (container?): passing --allow-root to Jupyter" >&2
fi

if [ "$server" = ServerApp ]; then dir_flag=--ServerApp.root_dir="$ROOT/notebooks"; else dir_flag=--notebook-dir="$ROOT/notebooks"; fi

if [ "${NB_DRY_RUN:-0}" = 1 ]; then
  echo "start: dry run, would register the kernel and run: $PY $* $dir_flag $ip_flag $port_flag $open_flag $root_flag"
  exit 0
fi

sh scripts/setup-kernel.sh
# The shipped Shakespeare model's notebooks want its text: downloaded once, in the background.
if [ "${NB_FETCH:-1}" != 0 ]; then sh scripts/fetch-corpora.sh & fi
echo "Starting $name on notebooks/ (stop with Ctrl-C, twice)."
echo "Open the http://...?token=... URL it prints below."
exec "$PY" "$@" "$dir_flag" $ip_flag $port_flag $open_flag $root_flag
