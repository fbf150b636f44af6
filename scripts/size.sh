#!/usr/bin/env bash
# What a signed-in user's browser downloads before the dashboard is interactive, as the
# real release server sends it: the page, then every /pkg file it names (JS, WASM, CSS),
# each fetched with Accept-Encoding br, gzip and none. Prints bytes per file and totals.
# Needs a release build with precompressed files (`cargo leptos build --release --split
# --precompress`, as test.sh and run.sh do); starts the server on a free port with a
# fresh SQLite file and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x target/release/server ] || { echo "size: build first: cargo leptos build --release --precompress --split" >&2; exit 1; }
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LIVELEDGER_ADDR=127.0.0.1:$port DATA_DIR=$data LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
  JWT_SECRET=size-script-secret-size-script-secret-0123 target/release/server >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
base=http://127.0.0.1:$port
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
token=$(curl -fs -D - -o /dev/null "$base/api/auth/register" \
  --data-urlencode email=size@example.com --data-urlencode display_name=Size \
  --data-urlencode 'password=correct horse battery' | tr -d '\r' | awk -F': ' 'tolower($1)=="x-session-token"{print $2}')
ws=$(curl -fs -H "authorization: Bearer $token" -X POST "$base/api/workspaces/list" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
page="/w/$ws"
bytes() { # path, accept-encoding → bytes as sent
  curl -fs -o /dev/null -w '%{size_download}' -H "cookie: ll_session=$token" \
    ${2:+-H "accept-encoding: $2"} "$base$1"
}
files=$(curl -fs -H "cookie: ll_session=$token" "$base$page" | grep -o '/pkg/[^"'"'"' )]*' | sort -u)
printf '%-48s %10s %10s %10s\n' file raw gzip br
tr=0; tg=0; tb=0
for f in "$page" $files; do
  r=$(bytes "$f" ""); g=$(bytes "$f" gzip); b=$(bytes "$f" br)
  printf '%-48s %10d %10d %10d\n' "$f" "$r" "$g" "$b"
  tr=$((tr + r)); tg=$((tg + g)); tb=$((tb + b))
done
printf '%-48s %10d %10d %10d\n' total "$tr" "$tg" "$tb"
printf 'total as sent with br: %d KiB\n' $(( (tb + 1023) / 1024 ))
