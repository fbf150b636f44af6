#!/usr/bin/env bash
# The live layer's benchmark (DESIGN.md §6; server/benches/live.rs says what it measures).
# Builds the release server and the bench, then runs the bench on CPU 1; the server it
# starts runs on CPU 0. Arguments go to the bench, e.g.:
#   ./scripts/bench.sh --sockets 2000 --teams 20 --members 5 --broadcasts 100 --writes 50
set -euo pipefail
cd "$(dirname "$0")/.."
exe=$(cargo bench -p server --bench live --no-run 2>&1 | tee /dev/stderr \
  | grep -o 'target/release/deps/live-[0-9a-f]*' | tail -n 1)
[ -n "$exe" ] || { echo "bench: could not find the built bench" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  export LIVELEDGER_BENCH_SERVER_CPU=0
  exec taskset -c 1 "$exe" "$@"
fi
exec "$exe" "$@"
