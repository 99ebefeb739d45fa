#!/usr/bin/env bash
# Builds the agent console (web/) into web/dist, which the server serves at /app. Skips the
# build when web/dist is newer than every source file of web/ and the lock file (a fresh clone
# has no web/dist, so it always builds there). `--force` builds anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=web/dist/.built
if [ "${1:-}" != --force ] && [ -f "$stamp" ] && [ -z "$(find web package-lock.json -path web/dist -prune -o -type f -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
echo "[build-web] building the agent console into web/dist" >&2
npx tsc -p web/tsconfig.json
npx vite build --config web/vite.config.ts --logLevel warn
touch "$stamp"
