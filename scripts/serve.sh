#!/usr/bin/env bash
# Installs what is missing, builds the release site and serves it at http://127.0.0.1:8080
# (PORT=... to change). The page opens on the single-server preset.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$ROOT/scripts/build.sh"
port="${PORT:-8080}"
say "serving dist/ at http://127.0.0.1:$port/ (Ctrl-C to stop)"
# The same plain static serving the end-to-end tests and GitHub Pages use.
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory dist
