#!/usr/bin/env bash
# How big the client's code is, quickly: builds the WASM module as the release does
# (profile wasm-release, wasm-bindgen, wasm-opt -Oz with the features of Cargo.toml),
# unsplit (the split functions' code counted in), in a target directory of its own
# (target/wasm-size, so the release's split build is left alone), and prints its bytes raw, with gzip -9 and with brotli at
# quality 11 (node's zlib). About a minute once warm. To learn what a part of the client
# costs, take it out, run this, and compare. An optional argument labels the line.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
dir=target/wasm-size
CARGO_TARGET_DIR=$dir cargo build -q -p frontend --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$dir/out" && mkdir -p "$dir/out"
wasm-bindgen --target web --no-typescript --out-dir "$dir/out" --out-name liveledger \
  "$dir/wasm32-unknown-unknown/wasm-release/frontend.wasm"
# The flags of `wasm-opt-features` in Cargo.toml.
features=$(awk '/^wasm-opt-features/,/^\]/' Cargo.toml | grep -o '"-[^"]*"' | tr -d '"' | tr '\n' ' ')
# shellcheck disable=SC2086
wasm-opt $features "$dir/out/liveledger_bg.wasm" -o "$dir/out/opt.wasm"
node -e '
const fs = require("fs"), zlib = require("zlib");
const b = fs.readFileSync(process.argv[1]);
const br = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const gz = zlib.gzipSync(b, { level: 9 }).length;
console.log(`wasm raw ${b.length} gzip ${gz} brotli ${br} ${process.argv[2] || ""}`);
' "$dir/out/opt.wasm" "${1:-}"
