#!/usr/bin/env bash
# `npm run local`: local services (unless MONGODB_URI and REDIS_URL are set), a demo tenant,
# and the server on $PORT (default 3000) until Ctrl-C. Data survives in .data/services.
set -euo pipefail
cd "$(dirname "$0")/.."
export SERVICES_DIR=${SERVICES_DIR:-$PWD/.data/services}
exec bash scripts/with-services.sh npx tsx scripts/local.ts
