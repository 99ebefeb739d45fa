#!/usr/bin/env bash
# `npm run local`: local services (unless MONGODB_URI and REDIS_URL are set), a demo tenant,
# and the server on $PORT (default 3000) until Ctrl-C. Data survives in .data/services.
set -euo pipefail
cd "$(dirname "$0")/.."
export SERVICES_DIR=${SERVICES_DIR:-$PWD/.data/services}
# A local mail catcher (or fake SMTP server) on this machine may be an account's SMTP host;
# production allows no private network unless OUTBOUND_ALLOWED_NETWORKS says so.
export OUTBOUND_ALLOWED_NETWORKS=${OUTBOUND_ALLOWED_NETWORKS-127.0.0.1/32,::1/128}
# The agent console the server serves at /app (skipped when web/dist is up to date).
bash scripts/build-web.sh
exec bash scripts/with-services.sh npx tsx scripts/local.ts
