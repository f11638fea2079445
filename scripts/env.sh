# Sourced by the other scripts: the repository root as working directory, and the tools
# setup.sh installs ahead of everything else on PATH.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Cargo's binaries (trunk, wasm-bindgen, wasm-bindgen-test-runner), then node's local ones:
# Trunk must find binaryen 132's wasm-opt there, before any other wasm-opt on the system.
export PATH="$ROOT/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

TRUNK_VERSION="0.21.14"

# The wasm-bindgen version Cargo.lock pins; the CLI must be exactly this one.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

say() { printf '==> %s\n' "$*" >&2; }
