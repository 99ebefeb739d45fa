#!/usr/bin/env bash
# The whole suite against a throwaway embedded database (secantusd-rs), Redis and MinIO.
set -euo pipefail
cd "$(dirname "$0")/.."
export WITH_S3=1 NODE_ENV=test
# With no arguments, every test file; otherwise only the files given.
[ $# -gt 0 ] || set -- 'test/**/*.test.ts'
# The browser tests (test/browser/) drive Debian's Chromium through the console in web/dist.
bash scripts/services.sh install --browser
bash scripts/build-web.sh
exec bash scripts/with-services.sh npx mocha "$@"
