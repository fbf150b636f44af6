#!/usr/bin/env bash
# Installs what LiveLedger needs to build (and, unless --app-only, to test), skipping
# everything that is already in place. Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

app_only=false
[ "${1:-}" = "--app-only" ] && app_only=true

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"

apt_packages=()
# The server links jemalloc, built from its C sources by tikv-jemalloc-sys with make.
command -v make >/dev/null || apt_packages+=(make)
if ! $app_only; then
  [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
  # The load balancer of scripts/cluster.sh, which part of the end-to-end suite runs on.
  [ -x /usr/sbin/nginx ] || apt_packages+=(nginx-light)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${apt_packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

# The build tools are compiled without optimisation (no LTO, many codegen units) except
# for the crates that do their heavy work: compression, WASM parsing and writing.
# cargo-leptos builds in under 6 min this way instead of 15-17 (its own profile asks for
# fat LTO and one codegen unit), and what it does at build time stays fast.
unoptimised=(--config profile.release.opt-level=0 --config profile.release.lto=false
  --config profile.release.codegen-units=256)
optimise() { for crate in "$@"; do printf -- '--config\nprofile.release.package.%s.opt-level=3\n' "$crate"; done; }
mapfile -t wasm_crates < <(optimise wasmparser wasm-encoder walrus gimli)

# cargo-leptos 0.3.11 needs a newer rustc than this toolchain; 0.3.10 builds.
if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  echo "setup: installing cargo-leptos 0.3.10 (about 6 min, once)"
  mapfile -t compression < <(optimise brotli brotli-decompressor libflate libflate_lz77 wasm_split_cli_support)
  cargo install cargo-leptos@0.3.10 --locked "${unoptimised[@]}" "${compression[@]}" "${wasm_crates[@]}"
fi

# cargo-leptos uses whatever wasm-bindgen is on PATH: it must match Cargo.lock exactly.
wb_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wb_version"; then
  echo "setup: installing wasm-bindgen-cli $wb_version"
  # --locked can fail when a locked dependency was yanked from the registry; then resolve afresh.
  mapfile -t bindgen_crates < <(optimise wasm-bindgen-cli-support wasm-bindgen-wasm-interpreter)
  cargo install wasm-bindgen-cli --version "$wb_version" --locked "${unoptimised[@]}" "${wasm_crates[@]}" "${bindgen_crates[@]}" \
    || cargo install wasm-bindgen-cli --version "$wb_version" "${unoptimised[@]}" "${wasm_crates[@]}" "${bindgen_crates[@]}"
fi

# wasm-opt for release builds: binaryen 132 from npm (tools/package.json), which installs
# in seconds; building binaryen from crates.io took 9-15 minutes. Debian's binaryen (108)
# mis-numbers the table export that wasm-bindgen's externref table needs ("WebAssembly.
# Table.set(): Argument 1 is invalid" at start-up); 132 does not (the e2e suite runs on
# its output). cargo-leptos takes the first wasm-opt on PATH: the scripts put
# tools/node_modules/.bin first.
if [ ! -f tools/node_modules/.package-lock.json ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  echo "setup: installing binaryen (wasm-opt) from npm"
  (cd tools && npm ci --no-audit --no-fund)
fi

if ! $app_only; then
  # Playwright from npm; its own browser download is skipped (Debian's Chromium is used).
  if [ ! -f end2end/node_modules/.package-lock.json ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
echo "setup: ready"
