#!/usr/bin/env bash
# Builds the release site and prints what the first load of the page fetches, raw, gzip -9 and
# brotli -q 11, by kind (wasm, JS, CSS, HTML), against the budget: 128 KB brotli, what PGTune's
# first load weighs. The icon is left out (the browser fetches it apart, after the page).
#
#   scripts/size-budget.sh            build, then measure dist/
#   scripts/size-budget.sh --no-build measure the dist/ already there
#
# Exits 0 whether or not the page fits: this reports, it does not gate.
set -euo pipefail
source "$(dirname "$0")/env.sh"

BUDGET_KB=128
[ "${1:-}" = --no-build ] || "$ROOT/scripts/build.sh"
command -v brotli >/dev/null || { echo "brotli is missing: run scripts/setup.sh" >&2; exit 1; }
[ -f dist/index.html ] || { echo "no dist/index.html" >&2; exit 1; }

kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
declare -A raw gz br
for kind in wasm js css html; do raw[$kind]=0 gz[$kind]=0 br[$kind]=0; done
for file in dist/*; do
    case "$file" in
        *.wasm) kind=wasm ;; *.js) kind=js ;; *.css) kind=css ;; *.html) kind=html ;; *) continue ;;
    esac
    raw[$kind]=$((raw[$kind] + $(stat -c %s "$file")))
    gz[$kind]=$((gz[$kind] + $(gzip -9 -c "$file" | wc -c)))
    br[$kind]=$((br[$kind] + $(brotli -q 11 -c "$file" | wc -c)))
done

printf '%-22s %10s %10s %10s\n' "first load" raw gzip brotli
total_raw=0 total_gz=0 total_br=0
for kind in wasm js css html; do
    printf '%-22s %10s %10s %10s\n' "$kind" "$(kb "${raw[$kind]}")" "$(kb "${gz[$kind]}")" "$(kb "${br[$kind]}")"
    total_raw=$((total_raw + raw[$kind])) total_gz=$((total_gz + gz[$kind])) total_br=$((total_br + br[$kind]))
done
printf '%-22s %10s %10s %10s\n' total "$(kb $total_raw)" "$(kb $total_gz)" "$(kb $total_br)"
budget=$((BUDGET_KB * 1024))
if [ "$total_br" -le "$budget" ]; then
    echo "within the ${BUDGET_KB} KB brotli budget: $(kb $((budget - total_br))) to spare"
else
    echo "over the ${BUDGET_KB} KB brotli budget by $(kb $((total_br - budget))) ($(awk -v a="$total_br" -v b="$budget" 'BEGIN { printf "%.1fx", a / b }') the budget)"
fi
