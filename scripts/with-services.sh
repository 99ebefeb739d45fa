#!/usr/bin/env bash
# Runs a command with MongoDB and Redis available: the ones named by MONGODB_URI and
# REDIS_URL when both are set, otherwise throwaway local services that stop with the command.
# With WITH_S3=1 a local MinIO is started too (its address in TEST_S3_*). With SERVICES_DIR
# set, data lives there and survives the run (npm run local); otherwise it is thrown away.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ -n "${MONGODB_URI:-}" ] && [ -n "${REDIS_URL:-}" ] && [ "${WITH_S3:-0}" != 1 ]; then
  exec "$@"
fi

if [ -n "${SERVICES_DIR:-}" ]; then
  dir=$SERVICES_DIR
  cleanup() { bash "$root/scripts/services.sh" stop "$dir"; }
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/omnistream-services.XXXXXX")
  cleanup() { bash "$root/scripts/services.sh" stop "$dir"; rm -rf "$dir"; }
fi
trap cleanup EXIT
trap 'exit 130' INT TERM

extra=()
[ "${WITH_S3:-0}" = 1 ] && extra+=(--s3)
bash "$root/scripts/services.sh" start "$dir" "${extra[@]}" >/dev/null
mongodb_uri=${MONGODB_URI:-}; redis_url=${REDIS_URL:-}
# shellcheck disable=SC1091
source "$dir/env"
[ -n "$mongodb_uri" ] && export MONGODB_URI=$mongodb_uri
[ -n "$redis_url" ] && export REDIS_URL=$redis_url
"$@"
