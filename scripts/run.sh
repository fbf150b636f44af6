#!/usr/bin/env bash
# Sets up what is missing, builds the release version and serves it on the embedded
# SQLite database under data/. Open the printed URL and register.
set -euo pipefail
cd "$(dirname "$0")/.."
# The cargo-installed tools (cargo-leptos, wasm-bindgen, wasm-opt) come first.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
./scripts/setup.sh --app-only
exec cargo leptos serve --release --precompress
