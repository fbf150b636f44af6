#!/usr/bin/env bash
# Starts LiveLedger as a cluster: N instances (default 3) of the release server on the
# local PostgreSQL, behind nginx (Debian's package, installed when missing) as the load
# balancer: round robin, no sticky sessions, WebSockets proxied, one shared JWT_SECRET.
# Open the URL it prints. Ctrl-C (or SIGTERM) stops everything and drops the database.
#
#   ./scripts/cluster.sh [N]
#
# Environment: CLUSTER_PORT (the balancer's port; default: a free one), JWT_SECRET
# (default: a random one for this run), RUST_LOG, SIGNUP_LIMIT_PER_ADDRESS and the other
# settings of the README, passed to every instance. The instances trust the balancer
# (TRUSTED_PROXIES=127.0.0.1) for the client's address.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-3}
[[ "$n" =~ ^[1-9][0-9]?$ ]] || { echo "cluster: N must be 1 to 99" >&2; exit 2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "cluster: installing nginx" >&2
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >&2
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x target/release/server ] || [ ! -d target/site/pkg ]; then
  echo "cluster: building the release (cargo leptos build --release --precompress --split)" >&2
  export PATH="$root/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
  cargo leptos build --release --precompress --split >&2
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

admin_url=$(./scripts/postgres.sh)
db="ll_cluster_$$_$(date +%s)"
database_url="${admin_url%/*}/$db"
psql "$admin_url" -qc "CREATE DATABASE \"$db\"" >/dev/null
dir=$(mktemp -d /tmp/liveledger-cluster.XXXXXX)
pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export DATABASE_URL=$database_url
export JWT_SECRET=${JWT_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export TRUSTED_PROXIES=127.0.0.1
export LEPTOS_SITE_ROOT=$root/target/site
export RUST_LOG=${RUST_LOG:-info,sqlx=warn}

upstreams=""
for i in $(seq 1 "$n"); do
  port=$(free_port)
  mkdir -p "$dir/instance-$i"
  LIVELEDGER_ADDR=127.0.0.1:$port DATA_DIR=$dir/instance-$i \
    target/release/server >"$dir/instance-$i.log" 2>&1 &
  pids+=($!)
  upstreams+="    server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
  # Each instance migrates the database on start: let the first finish before the next.
  for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$dir/instance-$i.log" >&2; exit 1; }
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "cluster: instance $i did not start" >&2; exit 1; }
  echo "cluster: instance $i on 127.0.0.1:$port (log: $dir/instance-$i.log)" >&2
done

lb_port=${CLUSTER_PORT:-$(free_port)}
mkdir -p "$dir/nginx"
# The template shared with the fault tests: the line @UPSTREAMS@ becomes the instances.
UPSTREAMS="$upstreams" awk '$0 == "@UPSTREAMS@" { printf "%s", ENVIRON["UPSTREAMS"]; next } { print }' \
  scripts/cluster-nginx.conf \
  | sed -e "s|@DIR@|$dir/nginx|g" -e "s|@LISTEN@|$lb_port|g" >"$dir/nginx.conf"
"$nginx_bin" -p "$dir/nginx" -c "$dir/nginx.conf" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$lb_port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$lb_port/healthz" >/dev/null || { cat "$dir/nginx/nginx-error.log" >&2; exit 1; }
echo "LiveLedger cluster ($n instances, nginx, PostgreSQL database $db) at http://127.0.0.1:$lb_port"
wait -n "${pids[@]}" || true
echo "cluster: a process stopped; stopping the others" >&2
