#!/usr/bin/env bash
# Installs and runs the local services OmniStream needs: SecantusDB's `secantusd-rs` (MongoDB
# wire protocol over WiredTiger), redis-server and, when asked, MinIO. Built binaries live in a
# cache outside the clone ($OMNISTREAM_CACHE, default ~/.cache/omnistream), keyed by version, so
# a fresh clone on the same machine starts in seconds instead of rebuilding.
#
#   scripts/services.sh install [--s3] [--browser]
#                                           build/install what is missing (--browser: Debian's
#                                           Chromium, for the browser tests)
#   scripts/services.sh start DIR [--s3]    start on free loopback ports, data under DIR,
#                                           write DIR/env (export lines) and print it
#   scripts/services.sh stop DIR            stop what `start DIR` started
set -euo pipefail

cache=${OMNISTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omnistream}
mkdir -p "$cache"

# secantus-mdb asks for a newer Rust than Debian's machines carry; it builds with 1.95.
secantus_version=0.5.3-beta.196
secantus="$cache/secantus-$secantus_version/bin/secantusd-rs"
minio_version=v0.0.0-20260212201848-7aac2a2c5b7c
minio="$cache/minio-$minio_version/bin/minio"

log() { echo "[services] $*" >&2; }

install_secantus() {
  [ -x "$secantus" ] && return
  command -v cargo >/dev/null || { log "Rust's cargo is needed to build secantusd-rs"; exit 1; }
  log "building secantusd-rs $secantus_version from crates.io (first time ~6-8 min on 2 cores)"
  # The target dir is shared across versions, so an upgrade recompiles only what changed.
  CARGO_TARGET_DIR="$cache/cargo-target" cargo install secantus-mdb --version "$secantus_version" \
    --locked --ignore-rust-version --root "$cache/secantus-$secantus_version" >&2
}

install_redis() {
  command -v redis-server >/dev/null && return
  log "installing redis-server from Debian"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  # Debian starts a system-wide instance on 6379; we run our own on a free port instead.
  (systemctl disable --now redis-server >/dev/null 2>&1 || service redis-server stop >/dev/null 2>&1 || true)
}

install_minio() {
  [ -x "$minio" ] && return
  command -v go >/dev/null || { log "Go is needed to build MinIO"; exit 1; }
  log "building MinIO (first time ~2-3 min)"
  GOBIN="$(dirname "$minio")" go install "github.com/minio/minio@$minio_version"
}

# The browser tests drive Debian's Chromium (playwright-core cannot download its own builds here).
install_chromium() {
  command -v chromium >/dev/null && return
  log "installing chromium from Debian (for the browser tests)"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_port() { # port name pid
  for _ in $(seq 1 300); do
    if node -e 'const c=require("net").connect(+process.argv[1],"127.0.0.1");c.on("connect",()=>process.exit(0));c.on("error",()=>process.exit(1))' "$1"; then return; fi
    kill -0 "$3" 2>/dev/null || { log "$2 exited before opening port $1 (see its log)"; exit 1; }
    sleep 0.1
  done
  log "$2 did not open port $1"; exit 1
}

cmd=${1:-}; shift || true
s3=0 browser=0
args=()
for a in "$@"; do
  case "$a" in --s3) s3=1 ;; --browser) browser=1 ;; *) args+=("$a") ;; esac
done

case "$cmd" in
  install)
    install_redis; install_secantus
    [ $s3 = 1 ] && install_minio
    if [ $browser = 1 ]; then install_chromium; fi
    ;;
  start)
    dir=${args[0]:?usage: services.sh start DIR [--s3]}
    install_redis; install_secantus
    [ $s3 = 1 ] && install_minio
    mkdir -p "$dir/secantus"
    mport=$(free_port); rport=$(free_port)
    "$secantus" --host 127.0.0.1 --port "$mport" --storage-path "$dir/secantus" >"$dir/secantus.log" 2>&1 &
    echo $! >"$dir/secantus.pid"
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
      >"$dir/redis.log" 2>&1 &
    echo $! >"$dir/redis.pid"
    {
      echo "export MONGODB_URI=mongodb://127.0.0.1:$mport/omnistream"
      echo "export REDIS_URL=redis://127.0.0.1:$rport"
      # For the benchmark's CPU columns.
      echo "export OMNISTREAM_DATABASE_PID=$(cat "$dir/secantus.pid")"
      echo "export OMNISTREAM_REDIS_PID=$(cat "$dir/redis.pid")"
    } >"$dir/env"
    if [ $s3 = 1 ]; then
      sport=$(free_port)
      MINIO_ROOT_USER=omnistream MINIO_ROOT_PASSWORD=omnistream-secret \
        "$minio" server --quiet --address "127.0.0.1:$sport" --console-address "127.0.0.1:$(free_port)" \
        "$dir/minio" >"$dir/minio.log" 2>&1 &
      echo $! >"$dir/minio.pid"
      {
        echo "export TEST_S3_ENDPOINT=http://127.0.0.1:$sport"
        echo "export TEST_S3_ACCESS_KEY=omnistream"
        echo "export TEST_S3_SECRET_KEY=omnistream-secret"
      } >>"$dir/env"
      wait_port "$sport" minio "$(cat "$dir/minio.pid")"
    fi
    wait_port "$mport" secantusd-rs "$(cat "$dir/secantus.pid")"
    wait_port "$rport" redis "$(cat "$dir/redis.pid")"
    cat "$dir/env"
    ;;
  stop)
    dir=${args[0]:?usage: services.sh stop DIR}
    for p in "$dir"/*.pid; do
      [ -f "$p" ] || continue
      pid=$(cat "$p")
      # SIGTERM lets the database close WiredTiger cleanly; wait so a restart finds its files free.
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$p"
    done
    ;;
  *) echo "usage: services.sh install|start DIR|stop DIR [--s3]" >&2; exit 2 ;;
esac
