#!/usr/bin/env bash
# Sets up what is missing, builds the release version and serves it on the embedded
# SQLite database under data/. Open the printed URL and register.
set -euo pipefail
cd "$(dirname "$0")/.."
# The tools the set-up installs come first: wasm-opt from npm (tools/), cargo-leptos and
# wasm-bindgen from crates.io.
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
./scripts/setup.sh --app-only
exec cargo leptos serve --release --precompress --split
