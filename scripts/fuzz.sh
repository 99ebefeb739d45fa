#!/usr/bin/env bash
# `npm run fuzz`: Schemathesis (from PyPI, in a virtualenv kept in the cache outside the clone)
# over the server's own /api/openapi.json, as a fresh tenant's admin, against throwaway services.
# FUZZ_SECONDS bounds the run (default 180); extra arguments go to `schemathesis run`.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${OMNISTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omnistream}
venv="$cache/schemathesis-4.32.5"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "[fuzz] installing schemathesis 4.32.5 into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis==4.32.5'
fi
export SCHEMATHESIS_BIN="$venv/bin/schemathesis"
# With MinIO, so POST /api/media/s3 is exercised rather than answering 503 (not configured).
WITH_S3=1 exec bash scripts/with-services.sh npx tsx scripts/fuzz.ts "$@"
