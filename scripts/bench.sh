#!/usr/bin/env bash
# The live layer's benchmarks.
#
#   ./scripts/bench.sh socketio
#     LiveLedger against Socket.IO 4.8 in one run, same machine, same load client: the
#     team's shared harness sio-ab (`SIO_AB`, default ../shared/bench/sio-ab, copied to a
#     temporary directory, never into this repository) with its idle-memory, room
#     fan-out and broadcast scenarios. Prints the side-by-side table (ratio below 1:
#     LiveLedger needs less) and keeps it in target/sio-ab/<time>/compare.md. Measures
#     target/release/server as built (`cargo leptos build --release --split`). REPEAT (default 1)
#     runs each scenario that many times; both cores must be otherwise idle. About 4 min
#     per repeat. The server logs at its default level (LL_RUST_LOG overrides it).
#
#   ./scripts/bench.sh [ARGS]
#     server/benches/live.rs (DESIGN.md §6; the file says what it measures): builds the
#     release server and the bench, then runs the bench on CPU 1; the server it starts
#     runs on CPU 0. Arguments go to the bench, e.g.:
#       ./scripts/bench.sh --sockets 2000 --teams 20 --members 5 --broadcasts 100 --writes 50
#     and, to measure the write one at a time at given rates (sio-ab's quiet step is 200/s):
#       ./scripts/bench.sh --sockets 20 --teams 10 --members 5 --broadcasts 1 --writes 20 --paced 100,200,500,1000
#     LIVELEDGER_BENCH_SERVER=<path> measures another server binary instead (a copy of an
#     earlier build, for a before/after comparison); the other benches
#     (`cargo bench -p server --bench commits|storm|lists`) read it too.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = socketio ]; then
  src=${SIO_AB:-../shared/bench/sio-ab}
  [ -f "$src/run.sh" ] || { echo "bench: no sio-ab harness at $src (set SIO_AB)" >&2; exit 1; }
  [ -x target/release/server ] || { echo "bench: build first: cargo leptos build --release --split" >&2; exit 1; }
  ulimit -n "$(ulimit -Hn)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r "$src/." "$work/"
  rm -rf "$work/node_modules"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >&2)
  out=$PWD/target/sio-ab/$(date +%Y%m%dT%H%M%S)
  # The harness holds 10,000 sockets as 100 users from one address: lift the per-user
  # and per-address caps for the run (the server reads them from the environment).
  # The server logs at its own default level (issue 12 measures the write with it; the
  # harness alone would run it at warn): LL_RUST_LOG=warn for the harness's choice.
  LL_RUST_LOG=${LL_RUST_LOG:-info,sqlx=warn,tower_http=info} OUT=$out CLIENT=raw REPEAT=${REPEAT:-1} SCENARIOS=${SCENARIOS:-"memory fanout fanout-announce"} \
    SERVERS="sio=node --expose-gc server-sio.js;ll=./server-ll.sh" \
    LIVE_SOCKETS_PER_USER=1000 LIVE_SOCKETS_PER_ADDRESS=20000 \
    "$work/run.sh" >&2
  node "$work/compare.js" "$out" > "$out/compare.md"
  # This VM's speed moves every figure by up to 2x from day to day; Socket.IO's cost per
  # delivery at 10k/s in the same run is the yardstick. Issue 12 set "250 us per write"
  # in a run where that cost was $issue_sio us: the write at that speed is
  # write / (Socket.IO's us per delivery here) x $issue_sio.
  issue_sio=30.2
  node -e '
    const fs = require("fs"), [dir, issueSio] = [process.argv[1], Number(process.argv[2])];
    const runs = (who) => fs.readdirSync(dir).filter((f) => f.startsWith("fanout-" + who + "-") && f.endsWith(".json"))
      .map((f) => JSON.parse(fs.readFileSync(dir + "/" + f)).steps || []);
    const sio = runs("sio").map((st) => st.find((x) => Math.round(x.targetDeliveriesPerSec / 1000) === 10)).filter(Boolean).map((x) => x.server.cpuUsPerDelivery);
    const ll = runs("ll").map((st) => st.find((x) => x.targetDeliveriesPerSec === 0)).filter(Boolean).map((x) => x.server.cpuUsPerEvent);
    if (!sio.length || !ll.length) process.exit(0);
    const here = sio.reduce((x, y) => x + y, 0) / sio.length;
    console.log(`\nOne unwatched write at the speed of issue 12'"'"'s run (Socket.IO ${issueSio} us per delivery at 10k there, ${here.toFixed(2)} here): ` +
      ll.map((w) => (w / here * issueSio).toFixed(0) + " us").join(" / ") + " (target 250 us)");
  ' "$out" "$issue_sio" >> "$out/compare.md"
  cat "$out/compare.md"
  exit 0
fi
exe=$(cargo bench -p server --bench live --no-run 2>&1 | tee /dev/stderr \
  | grep -o 'target/release/deps/live-[0-9a-f]*' | tail -n 1)
[ -n "$exe" ] || { echo "bench: could not find the built bench" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  export LIVELEDGER_BENCH_SERVER_CPU=0
  exec taskset -c 1 "$exe" "$@"
fi
exec "$exe" "$@"
