#!/bin/sh
# Download tinyshakespeare into the download cache once (sha256-verified, written atomically), so
# that notebooks 06, 07 and 11 show the shipped Shakespeare model on the text it was trained on.
# `npm start` runs this in the background while Jupyter starts (NB_FETCH=0 there: don't).
# Already cached: silent. Offline: one line on stderr, exit 0 — the notebooks then use the
# offline corpora, and `npx unreasonable corpora fetch tinyshakespeare` tries again later.
# Env: UNREASONABLE_DATA_DIR (the cache), UNREASONABLE_TINYSHAKESPEARE_URL (a mirror).
set -u
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT"

if [ ! -f node_modules/tsx/package.json ]; then
  echo "fetch-corpora: run 'npm install' first" >&2
  exit 0
fi
node bin/unreasonable.js corpora | grep -q '^tinyshakespeare  *available' && exit 0
if msg=$(node bin/unreasonable.js corpora fetch tinyshakespeare 2>&1); then
  echo "fetch-corpora: downloaded ${msg}: notebooks 06, 07 and 11 use it from now on"
else
  echo "fetch-corpora: ${msg#error: } (until then notebooks 06, 07 and 11 use the offline corpora)" >&2
fi
exit 0
