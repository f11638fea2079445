#!/usr/bin/env bash
# Installs what building (and, by default, testing) mastoplan needs, skipping every tool that is
# already there at the right version, so a second run takes a few seconds.
#
#   scripts/setup.sh          everything: build tools, Chromium, chromedriver, the real servers
#   scripts/setup.sh build    only what `trunk build --release` needs (used by serve and Pages)
set -euo pipefail
source "$(dirname "$0")/env.sh"

profile="${1:-all}"
case "$profile" in
    all | build) ;;
    *) echo "usage: $0 [all|build]" >&2; exit 2 ;;
esac

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages -------------------------------------------------------------------------
# Commands the build needs, with the package that provides each; only missing ones install.
apt_wanted=()
need_command() { command -v "$1" >/dev/null 2>&1 || apt_wanted+=("$2"); }
need_command cc build-essential
need_command curl curl
need_command pkg-config pkg-config
need_command python3 python3
need_command node nodejs
need_command npm npm
if [ "$profile" = all ]; then
    # The browser tiers and the real servers later tests check exported configs against.
    # Debian's chromium, not a snap or a downloaded build: its chromedriver matches it.
    for pkg in chromium chromium-driver postgresql postgresql-contrib pgbouncer redis-server nginx-light brotli jq; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            apt_wanted+=("$pkg")
        fi
    done
fi
if [ ${#apt_wanted[@]} -gt 0 ]; then
    say "apt: installing ${apt_wanted[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
        --no-install-recommends ca-certificates "${apt_wanted[@]}"
fi

# --- Rust --------------------------------------------------------------------------------------
if ! command -v rustup >/dev/null 2>&1; then
    say "rustup: installing"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
fi
# rust-toolchain.toml names the channel, components and the wasm32 target; this installs
# whatever of it is missing and is a no-op otherwise.
channel="$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)"
if ! rustup toolchain list | grep -q "^$channel-"; then
    say "rustup: installing $channel"
    rustup toolchain install "$channel" --profile minimal --component rustfmt,clippy
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "rustup: adding wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

# Trunk 0.22 needs a newer rustc than stable had; 0.21.14 builds with its own lockfile.
if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    say "trunk $TRUNK_VERSION: cargo install (several minutes, once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# Exactly Cargo.lock's wasm-bindgen, or Trunk would try to download it and the test runner would
# refuse the test binaries. Without --locked: its own lockfile pins a webpki-roots the crates.io
# index no longer has.
wbg="$(wasm_bindgen_version)"
[ -n "$wbg" ] || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ] ||
    [ "$(wasm-bindgen-test-runner --version 2>/dev/null)" != "wasm-bindgen-test-runner $wbg" ]; then
    say "wasm-bindgen-cli $wbg: cargo install (a few minutes, once per version)"
    cargo install wasm-bindgen-cli --version "$wbg" --force
fi

# --- node packages ---------------------------------------------------------------------------
# binaryen 132 (wasm-opt for Trunk) and playwright-core, exactly as package-lock.json says.
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.setup-lock-sum 2>/dev/null)" != "$lock_sum" ] ||
    ! wasm-opt --version 2>/dev/null | grep -q 'version 132'; then
    say "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_sum" >node_modules/.setup-lock-sum
fi
case "$(command -v wasm-opt)" in
    "$ROOT/node_modules/.bin/wasm-opt") ;;
    *) echo "wasm-opt resolves to $(command -v wasm-opt), not binaryen 132 from node_modules" >&2; exit 1 ;;
esac

say "setup ($profile): trunk $TRUNK_VERSION, wasm-bindgen $wbg, $(wasm-opt --version)"
