#!/usr/bin/env bash
# Prints the size of every file in dist/ raw, gzip -9 and brotli -q 11 (what a static host or
# CDN would send). Build first with scripts/build.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"

dir="${1:-dist}"
[ -f "$dir/index.html" ] || { echo "no $dir/index.html: run scripts/build.sh first" >&2; exit 1; }
command -v brotli >/dev/null || { echo "brotli is missing: run scripts/setup.sh" >&2; exit 1; }

kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
printf '%-44s %10s %10s %10s\n' file raw gzip brotli
total_raw=0 total_gz=0 total_br=0
for file in "$dir"/*; do
    [ -f "$file" ] || continue
    raw=$(stat -c %s "$file")
    gz=$(gzip -9 -c "$file" | wc -c)
    br=$(brotli -q 11 -c "$file" | wc -c)
    printf '%-44s %10s %10s %10s\n' "$(basename "$file")" "$(kb "$raw")" "$(kb "$gz")" "$(kb "$br")"
    total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
done
printf '%-44s %10s %10s %10s\n' total "$(kb $total_raw)" "$(kb $total_gz)" "$(kb $total_br)"
