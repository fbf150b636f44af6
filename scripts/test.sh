#!/usr/bin/env bash
# Sets up what is missing, then runs every test: Rust unit and integration tests on
# SQLite and PostgreSQL, and the Playwright end-to-end tests against a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
# The tools the set-up installs come first: wasm-opt from npm (tools/), cargo-leptos and
# wasm-bindgen from crates.io.
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

./scripts/setup.sh
TEST_POSTGRES_URL=$(./scripts/postgres.sh)
export TEST_POSTGRES_URL

echo "== Rust tests (unit; integration on SQLite and PostgreSQL)"
# Build everything first, so that a compile error stops the run before any test.
cargo test -p app --features ssr --lib --no-run
cargo test -p server --no-run
cargo test -p checks --no-run
cargo test -p app --features ssr --lib
cargo test -p server
cargo test -p checks   # the module graph has no loops (issue 11)

# Each integration test made its own database; remove them.
if command -v psql >/dev/null 2>&1; then
  psql "$TEST_POSTGRES_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'll\_test\_%'" \
    | while read -r db; do psql "$TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null || true; done
fi

echo "== Release build (server + WASM client)"
cargo leptos build --release --precompress --split

echo "== Playwright end-to-end tests (Debian Chromium, real server, fresh SQLite)"
mkdir -p end2end/.tmp
(cd end2end && npx playwright test) 2>&1 | tee end2end/.tmp/last-run.txt
passed=$(grep -Eo '^ +[0-9]+ passed' end2end/.tmp/last-run.txt | tr -dc '0-9')
echo "end2end: ${passed:-0} passed, 0 failed"

echo "== Playwright, part of the suite against a cluster (3 instances on PostgreSQL behind nginx)"
(cd end2end && npx playwright test -c playwright.cluster.config.ts) 2>&1 | tee end2end/.tmp/last-cluster-run.txt
passed=$(grep -Eo '^ +[0-9]+ passed' end2end/.tmp/last-cluster-run.txt | tr -dc '0-9')
echo "end2end (cluster): ${passed:-0} passed, 0 failed"
