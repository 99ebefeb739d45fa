#!/usr/bin/env bash
# Installs and runs the local services OmniStream needs: FerretDB (MongoDB wire protocol on
# SQLite), redis-server and, when asked, MinIO. Everything lands in .services/ (git-ignored);
# a second run only starts what is already built.
#
#   scripts/services.sh install [--s3]      build/install what is missing
#   scripts/services.sh start DIR [--s3]    start on free loopback ports, data under DIR,
#                                           write DIR/env (export lines) and print it
#   scripts/services.sh stop DIR            stop what `start DIR` started
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.services/bin"
mkdir -p "$bin"

minio_version=v0.0.0-20260212201848-7aac2a2c5b7c

log() { echo "[services] $*" >&2; }

install_ferretdb() {
  [ -x "$bin/ferretdb" ] && [ "$bin/ferretdb" -nt "$root/scripts/ferretdb/main.go" ] && return
  command -v go >/dev/null || { log "Go is needed to build FerretDB"; exit 1; }
  log "building FerretDB v1.24.2 (first time ~1-2 min)"
  (cd "$root/scripts/ferretdb" && go build -o "$bin/ferretdb" .)
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
  [ -x "$bin/minio" ] && return
  command -v go >/dev/null || { log "Go is needed to build MinIO"; exit 1; }
  log "building MinIO (first time ~2-3 min)"
  GOBIN="$bin" go install "github.com/minio/minio@$minio_version"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_port() { # port name
  for _ in $(seq 1 300); do
    if node -e 'const c=require("net").connect(+process.argv[1],"127.0.0.1");c.on("connect",()=>process.exit(0));c.on("error",()=>process.exit(1))' "$1"; then return; fi
    sleep 0.1
  done
  log "$2 did not open port $1"; exit 1
}

cmd=${1:-}; shift || true
s3=0
args=()
for a in "$@"; do [ "$a" = --s3 ] && s3=1 || args+=("$a"); done

case "$cmd" in
  install)
    install_redis; install_ferretdb
    [ $s3 = 1 ] && install_minio
    ;;
  start)
    dir=${args[0]:?usage: services.sh start DIR [--s3]}
    install_redis; install_ferretdb
    [ $s3 = 1 ] && install_minio
    mkdir -p "$dir"
    mport=$(free_port); rport=$(free_port)
    "$bin/ferretdb" -listen "127.0.0.1:$mport" -data "$dir/ferretdb" >"$dir/ferretdb.log" 2>&1 &
    echo $! >"$dir/ferretdb.pid"
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
      >"$dir/redis.log" 2>&1 &
    echo $! >"$dir/redis.pid"
    {
      echo "export MONGODB_URI=mongodb://127.0.0.1:$mport/omnistream"
      echo "export REDIS_URL=redis://127.0.0.1:$rport"
    } >"$dir/env"
    if [ $s3 = 1 ]; then
      sport=$(free_port)
      MINIO_ROOT_USER=omnistream MINIO_ROOT_PASSWORD=omnistream-secret \
        "$bin/minio" server --quiet --address "127.0.0.1:$sport" --console-address "127.0.0.1:$(free_port)" \
        "$dir/minio" >"$dir/minio.log" 2>&1 &
      echo $! >"$dir/minio.pid"
      {
        echo "export TEST_S3_ENDPOINT=http://127.0.0.1:$sport"
        echo "export TEST_S3_ACCESS_KEY=omnistream"
        echo "export TEST_S3_SECRET_KEY=omnistream-secret"
      } >>"$dir/env"
      wait_port "$sport" minio
    fi
    wait_port "$mport" ferretdb; wait_port "$rport" redis
    cat "$dir/env"
    ;;
  stop)
    dir=${args[0]:?usage: services.sh stop DIR}
    for p in "$dir"/*.pid; do
      [ -f "$p" ] || continue
      kill "$(cat "$p")" 2>/dev/null || true
      rm -f "$p"
    done
    ;;
  *) echo "usage: services.sh install|start DIR|stop DIR [--s3]" >&2; exit 2 ;;
esac
