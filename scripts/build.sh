#!/usr/bin/env bash
# Builds the release site into dist/: the same command for the README, the tests and Pages.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$ROOT/scripts/setup.sh" build

say "trunk build --release"
# No download: every tool is on PATH at the version Trunk.toml and Cargo.lock ask for.
trunk build --release

# A wasm-opt that did not run, or an absolute URL that breaks under /REPO/ on Pages, both
# still give a "successful" build; catch them here.
if grep -Eq '(src|href)="/' dist/index.html; then
    echo "dist/index.html has an absolute URL; public_url must stay relative:" >&2
    grep -Eo '(src|href)="/[^"]*"' dist/index.html >&2
    exit 1
fi
# Trunk keeps wasm-bindgen's output; wasm-opt -Oz must have made dist's copy smaller.
bindgen_wasm="${CARGO_TARGET_DIR:-$ROOT/target}/wasm-bindgen/release/mastoplan_bg.wasm"
dist_wasm="$(ls dist/*.wasm)"
if [ ! -f "$bindgen_wasm" ] || [ "$(stat -c %s "$dist_wasm")" -ge "$(stat -c %s "$bindgen_wasm")" ]; then
    echo "wasm-opt did not shrink $dist_wasm (wasm-bindgen's output: $bindgen_wasm)" >&2
    exit 1
fi
say "built $(du -sh dist | cut -f1) in dist/: $(cd dist && ls | tr '\n' ' ')"
