#!/usr/bin/env bash
# What one read of the dashboard's live panels costs the server (scripts/panel-cost.mjs):
# starts the release server (target/release/server, from `cargo leptos build --release`)
# on CPU 0 with a fresh SQLite database and a free port, runs the client on CPU 1, stops
# the server. Arguments: [rows] [requests] (default 60 and 400).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
LIVELEDGER_ADDR=127.0.0.1:$port DATA_DIR=$dir RUST_LOG=warn \
  JWT_SECRET=panel-cost-secret-panel-cost-secret-panel-cost \
  taskset -c 0 target/release/server &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do
  kill -0 $server 2>/dev/null || { echo "the server stopped" >&2; exit 1; }
  sleep 0.1
done
taskset -c 1 node scripts/panel-cost.mjs "http://127.0.0.1:$port" "$server" "$@"
