#!/usr/bin/env bash
# Runs every test of mastoplan, in three tiers, and ends with a summary whose last line is
# "N passed, N failed" over all of them.
#
#   native   cargo test -p mastoplan-core -p mastoplan-cli
#   browser  cargo test -p mastoplan --target wasm32-unknown-unknown (wasm-bindgen-test in
#            headless Chromium via chromedriver)
#   e2e      the release dist/ (scripts/build.sh) served on 127.0.0.1 and driven in headless
#            Chromium with playwright-core (node --test tests/e2e/)
#   servers  every preset's exported files given to the real servers: Postgres, PgBouncer
#            (with a load test), Redis, nginx -t, systemd-analyze verify (tests/servers/run.sh)
#   bench    smoke run of the benchmarks, which asserts nothing about speed: the criterion
#            benchmarks once each (cargo bench -- --test) and tests/perf/measure.mjs --smoke on
#            the release dist/ (built if missing); one test per script
#
# Arguments name tiers to run (default: all). A tier that fails to run at all (say, a compile
# error) counts as one failed test. With CI=true, a tier not run or a test skipped or ignored
# counts as failed too: nothing passes by not running.
set -uo pipefail
source "$(dirname "$0")/env.sh"

all_tiers=(native browser e2e servers bench)
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=("${all_tiers[@]}")
for tier in "${tiers[@]}"; do
    case " ${all_tiers[*]} " in *" $tier "*) ;; *) echo "unknown tier: $tier (${all_tiers[*]})" >&2; exit 2 ;; esac
done
ci=false
[ "${CI:-}" = true ] && ci=true

"$ROOT/scripts/setup.sh" all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

declare -A passed failed skipped status seconds

# Sums the "test result: ... N passed; N failed; N ignored" lines of cargo and
# wasm-bindgen-test-runner.
count_cargo() {
    awk '/^test result:/ {
            for (i = 1; i <= NF; i++) {
                n = $(i - 1) + 0
                if ($i ~ /^passed/) p += n; else if ($i ~ /^failed/) f += n; else if ($i ~ /^ignored/) s += n
            }
        }
        END { printf "%d %d %d\n", p, f, s }' "$1"
}

# Reads the "# pass N" / "# fail N" / ... totals of node's TAP reporter.
count_tap() {
    [ -f "$1" ] || { echo "0 0 0"; return; }
    awk '/^# (pass|fail|cancelled|skipped|todo) [0-9]+$/ { v[$2] = $3 }
        END { printf "%d %d %d\n", v["pass"], v["fail"] + v["cancelled"], v["skipped"] + v["todo"] }' "$1"
}

# Reads the last "N passed, N failed[, N skipped]" line of a script of ours.
count_plain() {
    awk '/^[0-9]+ passed, [0-9]+ failed/ { p = $1; f = $3; s = ($5 == "" ? 0 : $5) }
        END { printf "%d %d %d\n", p, f, s }' "$1"
}

run_tier() {
    local tier="$1" log="$logs/$1.log" start rc p f s
    start=$(date +%s)
    printf '\n==== %s ====\n' "$tier"
    case "$tier" in
        native)
            cargo test -p mastoplan-core -p mastoplan-cli 2>&1 | tee "$log"
            rc=${PIPESTATUS[0]}
            read -r p f s < <(count_cargo "$log")
            ;;
        browser)
            # chromedriver (Debian's, on PATH) starts Debian's chromium headless.
            cargo test -p mastoplan --target wasm32-unknown-unknown 2>&1 | tee "$log"
            rc=${PIPESTATUS[0]}
            read -r p f s < <(count_cargo "$log")
            ;;
        e2e)
            if "$ROOT/scripts/build.sh" 2>&1 | tee "$log"; then
                node --test \
                    --test-reporter=spec --test-reporter-destination=stdout \
                    --test-reporter=tap --test-reporter-destination="$logs/e2e.tap" \
                    tests/e2e/*.test.mjs 2>&1 | tee -a "$log"
                rc=${PIPESTATUS[0]}
                read -r p f s < <(count_tap "$logs/e2e.tap")
            else
                echo "the release build failed; no end-to-end test ran"
                rc=1 p=0 f=0 s=0
            fi
            ;;
        servers)
            bash "$ROOT/tests/servers/run.sh" 2>&1 | tee "$log"
            rc=${PIPESTATUS[0]}
            read -r p f s < <(count_plain "$log")
            ;;
        bench)
            # Each script counts as one test: it ran to the end, or it did not (pipefail makes a
            # pipe into tee fail when the command fails).
            p=0 f=0 s=0 rc=0
            if cargo bench -p mastoplan-core --bench engine -- --test 2>&1 | tee "$log"; then
                p=$((p + 1))
            else
                echo "!! the criterion benchmarks did not run"
                f=$((f + 1))
            fi
            if { [ -f dist/index.html ] || "$ROOT/scripts/build.sh"; } 2>&1 | tee -a "$log" &&
                node tests/perf/measure.mjs --smoke 2>&1 | tee -a "$log"; then
                p=$((p + 1))
            else
                echo "!! tests/perf/measure.mjs --smoke did not run"
                f=$((f + 1))
            fi
            ;;
    esac
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "!! $tier exited with $rc without a failing test: counted as one failure"
        f=1
    fi
    if [ "$ci" = true ] && [ "$s" -gt 0 ]; then
        echo "!! $tier skipped or ignored $s test(s), which CI counts as failures"
        f=$((f + s))
    fi
    passed[$tier]=$p failed[$tier]=$f skipped[$tier]=$s seconds[$tier]=$(($(date +%s) - start))
    if [ "$f" -eq 0 ]; then status[$tier]=ok; else status[$tier]=FAILED; fi
}

for tier in "${all_tiers[@]}"; do
    case " ${tiers[*]} " in
        *" $tier "*) run_tier "$tier" ;;
        *)
            passed[$tier]=0 skipped[$tier]=0 seconds[$tier]=0
            if [ "$ci" = true ]; then
                failed[$tier]=1 status[$tier]="FAILED (not run, CI=true)"
            else
                failed[$tier]=0 status[$tier]="not run"
            fi
            ;;
    esac
done

total_passed=0 total_failed=0
printf '\n==== summary ====\n'
for tier in "${all_tiers[@]}"; do
    printf '%-8s %-26s %4d passed, %d failed, %d skipped  (%ds)\n' "$tier" "${status[$tier]}" \
        "${passed[$tier]}" "${failed[$tier]}" "${skipped[$tier]}" "${seconds[$tier]}"
    total_passed=$((total_passed + passed[$tier]))
    total_failed=$((total_failed + failed[$tier]))
done
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
