#!/usr/bin/env bash
# Real-server acceptance tests of `mastoplan export`: every preset (and the small load plan
# beside this script) is exported with the CLI built from this workspace, and each generated
# file is handed to the server that reads it:
#   - Postgres really starts with the conf.d include (initdb in a temp dir, as the postgres user);
#   - PgBouncer, with the generated ini (only paths, ports and auth adapted), carries as many
#     clients as the plan sends it while the server side stays within its pools, and refuses
#     one client more than max_client_conn;
#   - redis-server loads each redis.conf and CONFIG GET shows what the plan asks for;
#   - `nginx -t` accepts the upstreams and the main-context snippet;
#   - `systemd-analyze verify --root` accepts every unit and drop-in, with empty stderr.
# Servers run as an unprivileged user, listen on 127.0.0.1 only, are stopped by PID on exit.
# A missing binary is a SKIP with the install command, and a failure when CI=true.
# Debian packages: postgresql postgresql-contrib pgbouncer redis-server nginx-light jq (systemd).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/mastoplan-servers.XXXXXX)
chmod 755 "$WORK"
PASSED=0
FAILED=0
SKIPPED=0
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
skip() {
    if [ "${CI:-}" = "true" ]; then
        fail "$1" "skipped, which CI does not accept: $2"
    else
        echo "SKIP $1: $2"
        SKIPPED=$((SKIPPED + 1))
    fi
}

# forget PID: drop a stopped process from the cleanup list.
forget() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# stop PID SIGNAL: signal a process we started and wait (10 s at most) for it to go.
stop() {
    kill "-$2" "$1" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget "$1"
}

# Servers never run as root: as root, drop to postgres (or nobody) with setpriv, which execs
# the server itself. AS_USER is an array, not a function, so that `"${AS_USER[@]}" server &`
# is a simple command and $! is the server's own PID.
if [ "$(id -u)" = 0 ]; then
    if id postgres >/dev/null 2>&1; then RUN_AS=postgres; else RUN_AS=nobody; fi
    AS_USER=(setpriv "--reuid=$RUN_AS" "--regid=$(id -g "$RUN_AS")" --clear-groups --)
    own() { chown -R "$RUN_AS:$(id -g "$RUN_AS")" "$@"; }
else
    RUN_AS=$(id -un)
    AS_USER=()
    own() { :; }
fi

USED_PORTS=" "
free_port() {
    local p
    for _ in $(seq 200); do
        # Below Linux's ephemeral range (32768 and up), so no client socket holds it.
        p=$((20000 + RANDOM % 12000))
        case "$USED_PORTS" in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            USED_PORTS="$USED_PORTS$p "
            echo "$p"
            return 0
        fi
    done
    return 1
}

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
    local n=$(($1 * 10))
    shift
    for _ in $(seq "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# No client waits long on a server that is not there.
export PGCONNECT_TIMEOUT=5

# ---------------------------------------------------------------- build and export
cd "$ROOT" || exit 1
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET" in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
if ! cargo build -q -p mastoplan-cli; then
    fail build "cargo build -p mastoplan-cli failed"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi
MASTOPLAN=$TARGET/debug/mastoplan

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PG_MAJOR=
if [ -n "$PGBIN" ] && [ -x "$PGBIN/postgres" ]; then
    PG_MAJOR=$(basename "$(dirname "$PGBIN")")
fi

mkdir -p "$WORK/plans" "$WORK/out"
PLANS=()
for name in $("$MASTOPLAN" presets | awk '{print $1}'); do
    "$MASTOPLAN" preset "$name" >"$WORK/plans/$name.json"
    PLANS+=("$name")
done
cp "$ROOT/tests/servers/load-plan.json" "$WORK/plans/load.json"
PLANS+=(load)

for name in "${PLANS[@]}"; do
    if "$MASTOPLAN" export "$WORK/plans/$name.json" --out "$WORK/out/$name" >"$WORK/out/$name.log" 2>&1; then
        pass "export $name"
    else
        fail "export $name" "$(tail -n 3 "$WORK/out/$name.log")"
    fi
done

# ---------------------------------------------------------------- Postgres
PGDATA_TEMPLATE=$WORK/pg/template
PG_READY=
pg_setup() {
    mkdir -p "$WORK/pg"
    own "$WORK/pg"
    "${AS_USER[@]}" "$PGBIN/initdb" -D "$PGDATA_TEMPLATE" -U postgres --auth=trust -E UTF8 --no-sync \
        >"$WORK/pg/initdb.log" 2>&1 && cp "$PGDATA_TEMPLATE/postgresql.conf" "$WORK/pg/postgresql.conf.orig"
}

PG_PID=
PG_PORT=
PG_LOG=
# pg_start INCLUDE [-c NAME=VALUE...]: start a Postgres whose postgresql.conf includes
# INCLUDE; the command line moves it to a free loopback port and a private socket folder.
pg_start() {
    local include=$1
    shift
    local data=$PGDATA_TEMPLATE
    cp "$WORK/pg/postgresql.conf.orig" "$data/postgresql.conf"
    echo "include '$include'" >>"$data/postgresql.conf"
    own "$data/postgresql.conf"
    PG_PORT=$(free_port)
    PG_LOG=$WORK/pg/postgres-$PG_PORT.log
    mkdir -p "$WORK/pg/sock"
    own "$WORK/pg/sock"
    touch "$PG_LOG"
    own "$PG_LOG"
    "${AS_USER[@]}" "$PGBIN/postgres" -D "$data" -c "port=$PG_PORT" -c listen_addresses=127.0.0.1 \
        -c "unix_socket_directories=$WORK/pg/sock" "$@" >"$PG_LOG" 2>&1 &
    PG_PID=$!
    PIDS+=("$PG_PID")
    for _ in $(seq 300); do
        "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres && return 0
        kill -0 "$PG_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

pg_stop() {
    [ -n "$PG_PID" ] && stop "$PG_PID" INT
    PG_PID=
}

# Errors in the Postgres log, less the refusals of our own readiness probes during startup.
pg_log_errors() { grep -E 'FATAL|PANIC' "$PG_LOG" | grep -v 'the database system is starting up' | head -n 3; }

psql_pg() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

# A plan for another Postgres major is exported again for the installed one: the installed
# server can only judge its own version's settings (reserved_connections is 16+).
plan_for_installed_pg() {
    local name=$1 version
    version=$(jq '.postgres.version' "$WORK/plans/$name.json")
    if [ "$version" = "$PG_MAJOR" ]; then
        echo "$WORK/out/$name"
        return
    fi
    jq ".postgres.version = $PG_MAJOR" "$WORK/plans/$name.json" >"$WORK/plans/$name-pg$PG_MAJOR.json"
    "$MASTOPLAN" export "$WORK/plans/$name-pg$PG_MAJOR.json" --out "$WORK/out/$name-pg$PG_MAJOR" >/dev/null 2>&1
    echo "$WORK/out/$name-pg$PG_MAJOR"
}

test_postgres() {
    local name out conf label names_file names_applied expected_mc mc
    for name in "${PLANS[@]}"; do
        out=$(plan_for_installed_pg "$name")
        for conf in "$out"/*/etc/postgresql/*/main/conf.d/mastoplan.conf; do
            [ -f "$conf" ] || continue
            label="postgres $name ${conf#"$out"/}"
            [ "$out" = "$WORK/out/$name" ] || label="$label (plan re-exported for the installed Postgres $PG_MAJOR)"
            local moved='listen_addresses'
            if ! pg_start "$conf"; then
                # The database host may have more memory than this machine: only then, start
                # again with a small shared_buffers and judge every other setting.
                if grep -q 'could not map anonymous shared memory' "$PG_LOG"; then
                    pg_stop
                    moved='listen_addresses|shared_buffers|huge_pages'
                    label="$label (shared_buffers lowered to 128MB: this machine has less memory than the host)"
                    pg_start "$conf" -c shared_buffers=128MB -c huge_pages=off
                fi
            fi
            if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres; then
                fail "$label" "did not start: $(tail -n 3 "$PG_LOG")"
                pg_stop
                continue
            fi
            # Every setting of the include must be in force from that file, except those the
            # test moves on the command line (listen_addresses to loopback).
            names_file=$(grep -E '^[a-z_]+ = ' "$conf" | awk '{print $1}' | grep -vE "^($moved)\$" | sort)
            names_applied=$(psql_pg -At -c "SELECT name FROM pg_settings WHERE sourcefile = '$conf' ORDER BY name" postgres | grep -vE "^($moved)\$" | sort)
            expected_mc=$(awk '$1 == "max_connections" {print $3}' "$conf")
            mc=$(psql_pg -At -c "SHOW max_connections" postgres)
            if [ "$names_file" != "$names_applied" ]; then
                fail "$label" "settings in force from the include: [$names_applied], in the file: [$names_file]"
            elif [ -n "$expected_mc" ] && [ "$mc" != "$expected_mc" ]; then
                fail "$label" "max_connections is $mc, the file says $expected_mc"
            elif [ -n "$(pg_log_errors)" ]; then
                fail "$label" "$(pg_log_errors)"
            else
                pass "$label"
            fi
            pg_stop
        done
    done
}

# ---------------------------------------------------------------- PgBouncer under load
# check_json PLAN FILTER: a value from `mastoplan check --format json`.
check_json() { "$MASTOPLAN" check --format json "$1" 2>/dev/null | jq -r "$2"; }

# pool_sum TABLE DATABASE COLUMN...: the sum of some columns of one database's SHOW POOLS rows,
# found by column name (the columns differ between PgBouncer versions).
pool_sum() {
    local table=$1 db=$2
    shift 2
    awk -F'|' -v db="$db" -v cols="$*" '
        NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
        $idx["database"] == db {
            n = split(cols, c, " "); s = 0
            for (j = 1; j <= n; j++) if (c[j] in idx) s += $idx[c[j]]
            total += s
        }
        END { print total + 0 }' <<<"$table"
}

test_pgbouncer() {
    local out conf ini tpl dir bport clients server_pool max_client pg_max
    out=$(plan_for_installed_pg load)
    conf=$(ls "$out"/*/etc/postgresql/*/main/conf.d/mastoplan.conf 2>/dev/null | head -n 1)
    ini=$(ls "$out"/*/etc/pgbouncer/pgbouncer.ini 2>/dev/null | head -n 1)
    tpl=$(ls "$out"/*/etc/pgbouncer/userlist.txt.template 2>/dev/null | head -n 1)
    if [ -z "$conf" ] || [ -z "$ini" ] || [ -z "$tpl" ]; then
        fail "pgbouncer load" "the load plan exported no Postgres include, pgbouncer.ini or userlist template"
        return
    fi
    clients=$(check_json "$WORK/plans/load.json" '.connections.bouncers[0].clients')
    server_pool=$(check_json "$WORK/plans/load.json" '.connections.bouncers[0].server_pool')
    max_client=$(check_json "$WORK/plans/load.json" '.connections.bouncers[0].max_client_conn')
    pg_max=$(check_json "$WORK/plans/load.json" '.connections.available')

    if ! pg_start "$conf"; then
        fail "pgbouncer load" "Postgres did not start: $(tail -n 3 "$PG_LOG")"
        pg_stop
        return
    fi
    # As for migrations: set up straight at Postgres, not through the bouncer.
    if ! { psql_pg -c "CREATE ROLE mastodon LOGIN" postgres &&
        psql_pg -c "CREATE DATABASE mastodon_production OWNER mastodon" postgres &&
        pgbench -i -q -s 1 -h 127.0.0.1 -p "$PG_PORT" -U mastodon mastodon_production; } >"$WORK/pg/setup.log" 2>&1; then
        fail "pgbouncer load" "database setup failed: $(tail -n 3 "$WORK/pg/setup.log")"
        pg_stop
        return
    fi

    dir=$WORK/pgbouncer
    mkdir -p "$dir"
    bport=$(free_port)
    # Adapt paths, ports and auth only; the pooling lines stay as generated.
    sed -e "s|^\(mastodon_production = host=\)[^ ]* port=[0-9]*|\1127.0.0.1 port=$PG_PORT|" \
        -e "s|^listen_addr = .*|listen_addr = 127.0.0.1|" \
        -e "s|^listen_port = .*|listen_port = $bport|" \
        -e "s|^unix_socket_dir = .*|unix_socket_dir = $dir|" \
        -e "s|^auth_file = .*|auth_file = $dir/userlist.txt|" \
        -e "s|^logfile = .*|logfile = $dir/pgbouncer.log|" \
        -e "s|^pidfile = .*|pidfile = $dir/pgbouncer.pid|" \
        "$ini" >"$dir/pgbouncer.ini"
    echo "stats_users = mastodon" >>"$dir/pgbouncer.ini"
    sed 's/REPLACE_WITH_SECRET_OF_mastodon/server-test-secret/' "$tpl" >"$dir/userlist.txt"
    local logic='^(pool_mode|max_client_conn|default_pool_size|reserve_pool_size|max_db_connections) = '
    if [ "$(grep -E "$logic" "$ini")" != "$(grep -E "$logic" "$dir/pgbouncer.ini")" ]; then
        fail "pgbouncer load" "the adapted ini changed a pooling line"
        pg_stop
        return
    fi
    touch "$dir/pgbouncer.log"
    own "$dir"
    "${AS_USER[@]}" pgbouncer "$dir/pgbouncer.ini" >"$dir/stdout.log" 2>&1 &
    local bpid=$!
    PIDS+=("$bpid")
    export PGPASSWORD=server-test-secret
    if ! wait_for 15 psql -X -h 127.0.0.1 -p "$bport" -U mastodon -Atc "SELECT 1" mastodon_production; then
        fail "pgbouncer load" "PgBouncer did not accept a client: $(tail -n 3 "$dir/pgbouncer.log" "$dir/stdout.log")"
        stop "$bpid" TERM
        pg_stop
        unset PGPASSWORD
        return
    fi

    # 1. As many clients as the plan sends, all at once, for 8 seconds, sampled twice a second.
    timeout 60 pgbench -n -S -c "$clients" -j 2 -T 8 -h 127.0.0.1 -p "$bport" -U mastodon mastodon_production \
        >"$dir/pgbench-load.log" 2>&1 &
    local loadpid=$! max_cl=0 max_sv=0 max_pg=0 t cl sv pgc
    PIDS+=("$loadpid")
    sleep 1
    for _ in $(seq 14); do
        t=$(psql -X -h 127.0.0.1 -p "$bport" -U mastodon -A -F'|' -P footer=off -c "SHOW POOLS" pgbouncer 2>/dev/null)
        cl=$(pool_sum "$t" mastodon_production cl_active cl_waiting cl_active_cancel_req cl_waiting_cancel_req)
        sv=$(pool_sum "$t" mastodon_production sv_active sv_idle sv_used sv_tested sv_login sv_active_cancel sv_being_canceled)
        pgc=$(psql_pg -At -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'mastodon_production' AND backend_type = 'client backend'" postgres 2>/dev/null || echo 0)
        [ "$cl" -gt "$max_cl" ] && max_cl=$cl
        [ "$sv" -gt "$max_sv" ] && max_sv=$sv
        [ "$pgc" -gt "$max_pg" ] && max_pg=$pgc
        sleep 0.5
    done
    wait "$loadpid"
    local load_rc=$?
    forget "$loadpid"
    local label="pgbouncer carries the plan's $clients clients on at most $server_pool server connections"
    if [ "$load_rc" != 0 ] || grep -qiE 'error|abort' "$dir/pgbench-load.log"; then
        fail "$label" "pgbench failed: $(grep -iE 'error|abort' "$dir/pgbench-load.log" | head -n 3)"
    elif [ "$max_cl" -lt "$clients" ]; then
        fail "$label" "SHOW POOLS saw at most $max_cl clients at once"
    elif [ "$max_sv" -gt "$server_pool" ] || [ "$max_pg" -gt "$server_pool" ]; then
        fail "$label" "server side reached $max_sv (SHOW POOLS) / $max_pg (pg_stat_activity)"
    elif [ "$max_pg" -gt "$pg_max" ] || [ -n "$(pg_log_errors)" ]; then
        fail "$label" "Postgres refused or overflowed: $(pg_log_errors)"
    elif [ "$max_sv" -lt 1 ]; then
        fail "$label" "no server connection seen: the load did not reach Postgres"
    else
        pass "$label (seen: $max_cl clients, $max_sv server connections, $max_pg in pg_stat_activity)"
    fi

    # 2. max_client_conn clients at once are carried; one more is refused.
    timeout 60 pgbench -n -S -c "$max_client" -j 2 -T 6 -P 1 -h 127.0.0.1 -p "$bport" -U mastodon mastodon_production \
        >"$dir/pgbench-full.log" 2>&1 &
    local fullpid=$!
    PIDS+=("$fullpid")
    label="pgbouncer refuses client $((max_client + 1)) of max_client_conn $max_client"
    if ! wait_for 20 grep -q '^progress:' "$dir/pgbench-full.log"; then
        fail "$label" "pgbench with $max_client clients did not get going: $(tail -n 3 "$dir/pgbench-full.log")"
    else
        sleep 1
        local extra
        extra=$(psql -X -h 127.0.0.1 -p "$bport" -U mastodon -Atc "SELECT 1" mastodon_production 2>&1)
        local extra_rc=$?
        wait "$fullpid"
        local full_rc=$?
        forget "$fullpid"
        if [ "$extra_rc" = 0 ]; then
            fail "$label" "client $((max_client + 1)) was let in"
        elif ! grep -q 'no more connections allowed' <<<"$extra"; then
            fail "$label" "refused, but not for max_client_conn: $extra"
        elif [ "$full_rc" != 0 ] || grep -qiE 'error|abort' "$dir/pgbench-full.log"; then
            fail "$label" "the $max_client clients were not all carried: $(grep -iE 'error|abort' "$dir/pgbench-full.log" | head -n 3)"
        else
            pass "$label ($max_client carried)"
        fi
    fi
    # Besides the refusal asked for, the log must hold no error: a broken auth_file, say, is
    # only logged and PgBouncer keeps running.
    local errors
    errors=$(grep -E ' (ERROR|FATAL|WARNING) ' "$dir/pgbouncer.log" | grep -v 'no more connections allowed' | head -n 3)
    if [ -n "$errors" ]; then
        fail "pgbouncer log is clean" "$errors"
    else
        pass "pgbouncer log is clean"
    fi
    unset PGPASSWORD
    stop "$bpid" TERM
    pg_stop
}

# ---------------------------------------------------------------- Redis
test_redis() {
    local name conf inst dir port pid role persistence mb policy want_save want_aof want_mem got label
    for name in "${PLANS[@]}"; do
        for conf in "$WORK/out/$name"/*/etc/redis/redis-*.conf; do
            [ -f "$conf" ] || continue
            inst=$(basename "$conf" .conf)
            inst=${inst#redis-}
            label="redis $name $inst"
            read -r role persistence mb policy < <(jq -r --arg n "$inst" \
                '.redis[] | select(.name == $n) | "\(.role) \(.persistence) \(.maxmemory_mb // 0) \(.eviction_policy // "noeviction")"' \
                "$WORK/plans/$name.json")
            case "$persistence" in
                rdb | aof-rdb) want_save="3600 1 300 100 60 10000" ;;
                *) want_save="" ;;
            esac
            case "$persistence" in aof | aof-rdb) want_aof=yes ;; *) want_aof=no ;; esac
            want_mem=$((mb * 1024 * 1024))
            dir=$WORK/redis/$name-$inst
            mkdir -p "$dir"
            port=$(free_port)
            # Only where it listens and writes is moved (redis changes to `dir` while it reads
            # the file, so that line is rewritten); the rest is the generated file.
            sed -e "s|^dir .*|dir $dir|" -e "s|^pidfile .*|pidfile $dir/redis.pid|" \
                -e "s|^logfile .*|logfile $dir/redis.log|" "$conf" >"$dir/redis.conf"
            own "$dir"
            "${AS_USER[@]}" redis-server "$dir/redis.conf" --port "$port" --bind 127.0.0.1 --daemonize no \
                >"$dir/stdout.log" 2>&1 &
            pid=$!
            PIDS+=("$pid")
            if ! wait_for 10 redis-cli -p "$port" ping; then
                fail "$label" "did not start: $(tail -n 3 "$dir/stdout.log" "$dir/redis.log" 2>/dev/null)"
                stop "$pid" TERM
                continue
            fi
            got="$(redis-cli -p "$port" config get maxmemory-policy | tail -n 1)|$(redis-cli -p "$port" config get maxmemory | tail -n 1)|$(redis-cli -p "$port" config get appendonly | tail -n 1)|$(redis-cli -p "$port" config get save | tail -n 1)"
            local want="$policy|$want_mem|$want_aof|$want_save"
            if [ "$got" = "$want" ]; then
                pass "$label ($role: $got)"
            else
                fail "$label" "CONFIG GET policy|maxmemory|appendonly|save is $got, the plan wants $want"
            fi
            redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
            stop "$pid" TERM
        done
    done
}

# ---------------------------------------------------------------- nginx
test_nginx() {
    local name up main prefix port label out
    for name in "${PLANS[@]}"; do
        up=$(ls "$WORK/out/$name"/*/etc/nginx/conf.d/mastodon-upstreams.conf 2>/dev/null | head -n 1)
        main=$(ls "$WORK/out/$name"/*/etc/nginx/mastoplan-main.conf 2>/dev/null | head -n 1)
        [ -n "$up" ] || continue
        label="nginx -t $name"
        prefix=$WORK/nginx/$name
        mkdir -p "$prefix/tmp"
        cp "$up" "$main" "$prefix/"
        port=$(free_port)
        {
            echo "pid $prefix/nginx.pid;"
            echo "error_log $prefix/error.log;"
            echo "include $prefix/mastoplan-main.conf;"
            echo "http {"
            echo "    access_log off;"
            for t in client_body proxy fastcgi uwsgi scgi; do echo "    ${t}_temp_path $prefix/tmp/$t;"; done
            echo "    include $prefix/mastodon-upstreams.conf;"
            echo "    server {"
            echo "        listen 127.0.0.1:$port;"
            grep -q '^upstream backend' "$up" && echo "        location / { proxy_pass http://backend; }"
            grep -q '^upstream streaming' "$up" && echo "        location /api/v1/streaming { proxy_pass http://streaming; }"
            echo "    }"
            echo "}"
        } >"$prefix/main.conf"
        own "$prefix"
        out=$("${AS_USER[@]}" nginx -t -q -p "$prefix/" -e "$prefix/error.log" -c "$prefix/main.conf" 2>&1)
        if [ $? = 0 ] && [ -z "$out" ]; then
            pass "$label"
        else
            fail "$label" "$out"
        fi
    done
}

# ---------------------------------------------------------------- systemd
test_systemd() {
    local name hostdir host root unit units exe err label
    mkdir -p "$WORK/systemd"
    cp -a /lib/systemd/system "$WORK/systemd/base"
    for name in "${PLANS[@]}"; do
        for hostdir in "$WORK/out/$name"/*/; do
            [ -d "$hostdir/etc/systemd/system" ] || continue
            host=$(basename "$hostdir")
            root=$WORK/systemd/$name-$host
            mkdir -p "$root/lib/systemd" "$root/etc/systemd"
            cp -al "$WORK/systemd/base" "$root/lib/systemd/system"
            cp -a "$hostdir/etc/systemd/system" "$root/etc/systemd/system"
            # A stub executable at every path a unit starts, generated or packaged.
            for exe in $(cat "$root"/etc/systemd/system/*.service "$root"/lib/systemd/system/pgbouncer.service 2>/dev/null |
                sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' | sort -u); do
                mkdir -p "$root$(dirname "$exe")"
                printf '#!/bin/sh\nexit 0\n' >"$root$exe"
                chmod +x "$root$exe"
            done
            units=()
            for unit in "$root"/etc/systemd/system/*; do
                unit=$(basename "$unit")
                case "$unit" in
                    mastodon-streaming@.service) units+=(mastodon-streaming@4000.service) ;;
                    *@.service) units+=("${unit%@.service}@1.service") ;;
                    *.service.d) units+=("${unit%.d}") ;;
                    *) units+=("$unit") ;;
                esac
            done
            for unit in "${units[@]}"; do
                label="systemd-analyze verify $name $host $unit"
                if [ ! -f "$root/lib/systemd/system/$unit" ] && [ ! -f "$root/etc/systemd/system/$unit" ] &&
                    [ ! -f "$root/etc/systemd/system/${unit%@*}@.service" ]; then
                    skip "$label" "no packaged $unit here: apt-get install -y ${unit%.service}"
                    continue
                fi
                err=$(systemd-analyze verify --man=no --root="$root" "$unit" 2>&1 >/dev/null)
                if [ $? = 0 ] && [ -z "$err" ]; then
                    pass "$label"
                else
                    fail "$label" "$err"
                fi
            done
        done
    done
}

# ---------------------------------------------------------------- run
if ! have jq; then
    skip "postgres, pgbouncer and redis tests" "jq is missing: apt-get install -y jq"
elif [ -z "$PG_MAJOR" ]; then
    skip "postgres and pgbouncer tests" "Postgres is missing: apt-get install -y postgresql postgresql-contrib"
elif ! pg_setup; then
    fail "postgres initdb" "$(tail -n 5 "$WORK/pg/initdb.log")"
else
    test_postgres
    if ! have pgbouncer; then
        skip "pgbouncer load" "pgbouncer is missing: apt-get install -y pgbouncer"
    elif ! have pgbench || ! have psql; then
        skip "pgbouncer load" "pgbench or psql is missing: apt-get install -y postgresql-contrib postgresql-client"
    else
        test_pgbouncer
    fi
fi

if ! have jq; then
    :
elif ! have redis-server || ! have redis-cli; then
    skip "redis" "redis-server is missing: apt-get install -y redis-server"
else
    test_redis
fi

if have nginx; then
    test_nginx
else
    skip "nginx" "nginx is missing: apt-get install -y nginx-light"
fi

if have systemd-analyze; then
    test_systemd
else
    skip "systemd" "systemd-analyze is missing: apt-get install -y systemd"
fi

if [ "$SKIPPED" -gt 0 ]; then
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
    echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" = 0 ]
