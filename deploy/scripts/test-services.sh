#!/usr/bin/env bash
# The backends the test suite runs against, as throwaway processes on loopback and free ports:
# PostgreSQL (initdb + pg_ctl), Redis, and a ClickHouse HTTP endpoint over the real ClickHouse
# engine of PyPI `chdb` (clickhouse_http.py). PostgreSQL and ClickHouse hold the same sample data
# as the embedded engine: `flowforge seed` writes it as Parquet and load_sample_data.py loads
# every table into PostgreSQL schema `market` and ClickHouse database `market`.
#
#   test-services.sh install          install what the services need (Debian 12; idempotent)
#   test-services.sh start STATE_DIR  (re)start all three; writes STATE_DIR/env
#   test-services.sh stop STATE_DIR   stop exactly the processes start recorded
#   test-services.sh env STATE_DIR    print STATE_DIR/env
#
# STATE_DIR/env holds, one KEY=value a line (safe to `source`):
#   FLOWFORGE_TEST_PG_URL          postgres://flowforge_reader:...@127.0.0.1:PORT/flowforge
#                                  (read-only: SELECT on schema market)
#   FLOWFORGE_TEST_CATALOG_PG_URL  postgres://flowforge_catalog:...@127.0.0.1:PORT/flowforge_catalog
#                                  (owns the database, emptied at every start; may CREATE DATABASE)
#   FLOWFORGE_TEST_PG_ADMIN_URL    the superuser, for tests that break things on purpose
#   FLOWFORGE_TEST_REDIS_URL       redis://127.0.0.1:PORT (no persistence; latest quotes as quote:<SYMBOL> hashes)
#   FLOWFORGE_TEST_CLICKHOUSE_URL  http://127.0.0.1:PORT
#   FLOWFORGE_TEST_CLICKHOUSE_QUERY_LOG  JSON-lines log of every query the endpoint received
#   FLOWFORGE_TEST_SAMPLE_DIR      the Parquet files loaded into both databases
#   FLOWFORGE_TEST_PG_PID, FLOWFORGE_TEST_REDIS_PID, FLOWFORGE_TEST_CLICKHOUSE_PID
#
# Every start serves pristine data: PostgreSQL's flowforge is copied from a template database
# and ClickHouse's data folder from a loaded copy, both kept in STATE_DIR and reloaded only when
# the sample data or these scripts change, so a second start is quick. stop removes no data.
#
# Environment: FLOWFORGE_BIN (default $CARGO_TARGET_DIR/debug/flowforge, built beforehand),
# VENV (default ~/.cache/flowforge/venv), FLOWFORGE_SAMPLE_ANCHOR (default 2026-01-05, as the
# end-to-end tests use), FLOWFORGE_SERVICES_TIMEOUT (seconds to wait for each service, 60).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
VENV="${VENV:-$HOME/.cache/flowforge/venv}"
FLOWFORGE_BIN="${FLOWFORGE_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/flowforge}"
ANCHOR="${FLOWFORGE_SAMPLE_ANCHOR:-2026-01-05}"
TIMEOUT="${FLOWFORGE_SERVICES_TIMEOUT:-60}"
PY="$VENV/bin/python"
requirements="$here/../services-requirements.txt"

# Fixed credentials: the cluster listens on loopback only and lives as long as a test run.
PG_ADMIN=postgres
PG_ADMIN_PASSWORD=flowforge-admin
PG_READER=flowforge_reader
PG_READER_PASSWORD=flowforge-reader
PG_CATALOG=flowforge_catalog
PG_CATALOG_PASSWORD=flowforge-catalog

export TZ=UTC

die() {
    echo "test-services: $*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bindir() {
    local initdb
    initdb="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null \
        | sort -V | tail -n 1)"
    [ -n "$initdb" ] && dirname "$initdb"
}

install_deps() {
    local need=()
    [ -n "$(pg_bindir)" ] || need+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
    if [ ! -x "$PY" ] && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        need+=(python3-venv)
    fi
    if [ "${#need[@]}" -gt 0 ]; then
        echo "test-services: installing ${need[*]}" >&2
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
    fi
    [ -x "$PY" ] || python3 -m venv "$VENV"
    local stamp="$VENV/.flowforge-services-requirements"
    if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
        "$PY" -m pip install --quiet --upgrade pip >&2
        "$PY" -m pip install --quiet -r "$requirements" >&2
        cp "$requirements" "$stamp"
    fi
}

# Runs a PostgreSQL server program: as the postgres user when root (PostgreSQL refuses root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster's folder: STATE_DIR/pg, or, when root and the postgres user cannot reach
# STATE_DIR (a home folder of mode 700), a folder under /tmp tied to STATE_DIR by a hash, with
# STATE_DIR/pg linking to it.
pg_datadir() {
    if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$state"; then
        echo "$state/pg"
    else
        echo "${TMPDIR:-/tmp}/flowforge-pg-$(printf '%s' "$state" | sha256sum | cut -c1-16)"
    fi
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Running, and not a zombie: an exited service whose parent is gone waits for PID 1 to reap it.
alive() {
    [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null \
        && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# The process is still the one recorded: its command line names the expected program.
is_program() {
    local pid="$1" program="$2"
    alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$program"
}

record() {
    echo "$*" >>"$state/pids"
}

wait_until() {
    local what="$1" pid="$2"
    shift 2
    local deadline=$((SECONDS + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [ -n "$pid" ] && ! alive "$pid"; then
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            die "$what did not answer within ${TIMEOUT}s"
        fi
        sleep 0.1
    done
}

psql_admin() {
    local db="$1"
    shift
    PGPASSWORD="$PG_ADMIN_PASSWORD" "$bindir/psql" -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$pg_port" -U "$PG_ADMIN" -d "$db" "$@"
}

seed_sample_data() {
    [ -x "$FLOWFORGE_BIN" ] || die "no flowforge binary at $FLOWFORGE_BIN (run \`cargo build --bin flowforge\` or set FLOWFORGE_BIN)"
    "$FLOWFORGE_BIN" seed --data-dir "$state/sample" --anchor "$ANCHOR" --force >/dev/null
    # What the loaded data depends on; a change re-creates both databases.
    data_stamp="$(cat "$state"/sample/*.parquet "$here/load_sample_data.py" "$here/test-services.sh" \
        | sha256sum | cut -c1-32)"
}

start_postgres() {
    bindir="$(pg_bindir)"
    [ -n "$bindir" ] || die "PostgreSQL server programs not found under /usr/lib/postgresql"
    local pgdata
    pgdata="$(pg_datadir)"
    if [ "$pgdata" != "$state/pg" ]; then
        [ -d "$state/pg" ] && [ ! -L "$state/pg" ] && rm -rf "$state/pg"
        ln -sfn "$pgdata" "$state/pg"
    fi
    # A cluster of this folder left running without a record (start interrupted) stops first.
    if [ -f "$pgdata/postmaster.pid" ]; then
        as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop </dev/null >/dev/null 2>&1 || true
    fi
    local fresh=0
    if [ ! -f "$pgdata/PG_VERSION" ] || [ "$(cat "$pgdata/flowforge-stamp" 2>/dev/null)" != "$data_stamp" ]; then
        fresh=1
        rm -rf "$pgdata"
        mkdir -p "$pgdata"
        chmod 700 "$pgdata"
        local pwfile="$pgdata.pw"
        echo "$PG_ADMIN_PASSWORD" >"$pwfile"
        if [ "$(id -u)" -eq 0 ]; then chown postgres: "$pgdata" "$pwfile"; fi
        as_pg "$bindir/initdb" -D "$pgdata" -U "$PG_ADMIN" --pwfile="$pwfile" --auth-local=trust \
            --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync >"$state/pg-initdb.log" 2>&1 \
            || { rm -f "$pwfile"; die "initdb failed, see $state/pg-initdb.log"; }
        rm -f "$pwfile"
        # Throwaway cluster: loopback TCP only, no durability, C collation (byte order, as the
        # embedded engine sorts strings), UTC.
        as_pg tee -a "$pgdata/postgresql.conf" >/dev/null <<'EOF'
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
log_timezone = 'UTC'
max_connections = 200
EOF
    fi
    local attempt
    for attempt in 1 2 3 4 5; do
        pg_port="$(free_port)"
        if as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t "$TIMEOUT" \
            -o "-p $pg_port" start >/dev/null 2>&1; then
            break
        fi
        if [ "$attempt" -eq 5 ] || ! tail -n 20 "$pgdata/server.log" | grep -q "could not bind\|in use"; then
            tail -n 20 "$pgdata/server.log" >&2 || true
            die "PostgreSQL did not start (log: $pgdata/server.log)"
        fi
    done
    pg_pid="$(head -n 1 "$pgdata/postmaster.pid")"
    record postgres "$pg_pid" "$pgdata"
    wait_until "PostgreSQL" "$pg_pid" psql_admin postgres -c 'SELECT 1' \
        || die "PostgreSQL exited (log: $pgdata/server.log)"
    if [ "$fresh" -eq 1 ]; then
        # The sample data is loaded once into a template database nobody else connects to.
        psql_admin postgres <<EOF
CREATE ROLE $PG_READER LOGIN PASSWORD '$PG_READER_PASSWORD';
CREATE ROLE $PG_CATALOG LOGIN CREATEDB PASSWORD '$PG_CATALOG_PASSWORD';
CREATE DATABASE flowforge_template;
REVOKE CONNECT ON DATABASE flowforge_template FROM PUBLIC;
EOF
        "$PY" "$here/load_sample_data.py" --parquet-dir "$state/sample" \
            --pg-url "postgres://$PG_ADMIN:$PG_ADMIN_PASSWORD@127.0.0.1:$pg_port/flowforge_template" \
            --grant-select "$PG_READER" >&2
        echo "$data_stamp" >"$pgdata/flowforge-stamp"
    fi
    # Every start gets pristine databases: flowforge copied from the template, an empty
    # flowforge_catalog, and none of the databases catalog tests made.
    local db
    for db in $(psql_admin postgres -At -c \
        "SELECT datname FROM pg_database WHERE datdba = '$PG_CATALOG'::regrole"); do
        psql_admin postgres -c "DROP DATABASE \"$db\" WITH (FORCE)"
    done
    psql_admin postgres <<EOF
DROP DATABASE IF EXISTS flowforge WITH (FORCE);
CREATE DATABASE flowforge TEMPLATE flowforge_template STRATEGY FILE_COPY;
CREATE DATABASE flowforge_catalog OWNER $PG_CATALOG;
EOF
}

start_redis() {
    mkdir -p "$state/redis"
    local attempt
    for attempt in 1 2 3 4 5; do
        redis_port="$(free_port)"
        rm -f "$state/redis/redis.pid"
        : >"$state/redis/redis.log"
        setsid redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
            --dir "$state/redis" --pidfile "$state/redis/redis.pid" \
            --logfile "$state/redis/redis.log" --daemonize no </dev/null >/dev/null 2>&1 &
        redis_pid=$!
        if wait_until "Redis" "$redis_pid" redis_ping; then
            record redis "$redis_pid"
            "$PY" "$here/load_sample_data.py" --parquet-dir "$state/sample" \
                --redis-url "redis://127.0.0.1:$redis_port" --redis-quote-prefix "quote:" >&2
            return
        fi
        if [ "$attempt" -eq 5 ] || ! grep -q "in use" "$state/redis/redis.log"; then
            cat "$state/redis/redis.log" >&2
            die "Redis did not start (log: $state/redis/redis.log)"
        fi
    done
}

redis_ping() {
    [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = PONG ]
}

clickhouse_ping() {
    "$PY" -c 'import sys, urllib.request
sys.exit(urllib.request.urlopen(sys.argv[1], timeout=2).read() != b"Ok.\n")' "$1/ping"
}

# Loads the ClickHouse data (when it changed) into STATE_DIR/ch/loaded, in the background while
# PostgreSQL starts. Each start serves a fresh copy of it (STATE_DIR/ch/data).
load_clickhouse_begin() {
    local ch="$state/ch"
    mkdir -p "$ch"
    ch_loader_pid=""
    if [ ! -d "$ch/loaded" ] || [ "$(cat "$ch/stamp" 2>/dev/null)" != "$data_stamp" ]; then
        rm -rf "$ch/loaded" "$ch/stamp"
        "$PY" "$here/load_sample_data.py" --parquet-dir "$state/sample" --chdb-path "$ch/loaded" \
            >"$ch/load.log" 2>&1 &
        ch_loader_pid=$!
    fi
}

load_clickhouse_end() {
    local ch="$state/ch"
    if [ -n "$ch_loader_pid" ]; then
        if ! wait "$ch_loader_pid"; then
            cat "$ch/load.log" >&2
            die "loading the ClickHouse data failed"
        fi
        cat "$ch/load.log" >&2
        echo "$data_stamp" >"$ch/stamp"
    fi
}

start_clickhouse() {
    local ch="$state/ch"
    rm -rf "$ch/data"
    cp -a "$ch/loaded" "$ch/data"
    : >"$ch/query_log.jsonl"
    rm -f "$ch/port" "$ch/pid"
    setsid "$PY" "$here/clickhouse_http.py" --data-path "$ch/data" --query-log "$ch/query_log.jsonl" \
        --host 127.0.0.1 --port 0 --port-file "$ch/port" --pid-file "$ch/pid" \
        </dev/null >>"$ch/server.log" 2>&1 &
    clickhouse_pid=$!
    record clickhouse "$clickhouse_pid"
    wait_until "ClickHouse endpoint" "$clickhouse_pid" test -s "$ch/port" \
        || { tail -n 20 "$ch/server.log" >&2; die "ClickHouse endpoint exited (log: $ch/server.log)"; }
    clickhouse_url="http://127.0.0.1:$(cat "$ch/port")"
    wait_until "ClickHouse endpoint" "$clickhouse_pid" clickhouse_ping "$clickhouse_url" \
        || { tail -n 20 "$ch/server.log" >&2; die "ClickHouse endpoint exited (log: $ch/server.log)"; }
}

stop_services() {
    local file="$state/pids"
    [ -f "$file" ] || return 0
    local kind pid extra deadline
    while read -r kind pid extra; do
        case "$kind" in
            postgres)
                if is_program "$pid" postgres; then
                    if [ "$(head -n 1 "$extra/postmaster.pid" 2>/dev/null)" = "$pid" ]; then
                        as_pg "$(pg_bindir)/pg_ctl" -D "$extra" -m fast -w -t 30 stop \
                            </dev/null >/dev/null 2>&1 || true
                    fi
                    if alive "$pid"; then kill -INT "$pid" 2>/dev/null || true; fi
                fi
                ;;
            redis | clickhouse)
                local program=redis-server
                [ "$kind" = clickhouse ] && program=clickhouse_http.py
                if is_program "$pid" "$program"; then kill -TERM "$pid" 2>/dev/null || true; fi
                ;;
            *) continue ;;
        esac
        deadline=$((SECONDS + 30))
        while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        if alive "$pid"; then
            echo "test-services: $kind (pid $pid) ignored SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done <"$file"
    rm -f "$file" "$state/env"
}

# A start that fails half-way stops what it had started.
stop_if_failed() {
    local failed=$?
    if [ "$failed" -ne 0 ]; then
        if [ -n "$ch_loader_pid" ]; then kill "$ch_loader_pid" 2>/dev/null || true; fi
        stop_services
    fi
}

cmd="${1:-}"
case "$cmd" in
    install)
        install_deps
        exit 0
        ;;
    start | stop | env) ;;
    *) usage ;;
esac
[ -n "${2:-}" ] || usage
if [ "$cmd" = start ]; then mkdir -p "$2"; fi
if [ ! -d "$2" ]; then
    [ "$cmd" = stop ] && exit 0
    die "no services running for $2 (run: $0 start $2)"
fi
state="$(cd "$2" && pwd)"

case "$cmd" in
    env)
        [ -f "$state/env" ] || die "no services running for $state (run: $0 start $state)"
        cat "$state/env"
        ;;
    stop)
        stop_services
        ;;
    start)
        started=$SECONDS
        stop_services
        install_deps
        ch_loader_pid=""
        trap stop_if_failed EXIT
        seed_sample_data
        load_clickhouse_begin
        start_postgres
        start_redis
        load_clickhouse_end
        start_clickhouse
        cat >"$state/env.tmp" <<EOF
FLOWFORGE_TEST_PG_URL=postgres://$PG_READER:$PG_READER_PASSWORD@127.0.0.1:$pg_port/flowforge
FLOWFORGE_TEST_CATALOG_PG_URL=postgres://$PG_CATALOG:$PG_CATALOG_PASSWORD@127.0.0.1:$pg_port/flowforge_catalog
FLOWFORGE_TEST_PG_ADMIN_URL=postgres://$PG_ADMIN:$PG_ADMIN_PASSWORD@127.0.0.1:$pg_port/postgres
FLOWFORGE_TEST_REDIS_URL=redis://127.0.0.1:$redis_port
FLOWFORGE_TEST_CLICKHOUSE_URL=$clickhouse_url
FLOWFORGE_TEST_CLICKHOUSE_QUERY_LOG=$state/ch/query_log.jsonl
FLOWFORGE_TEST_SAMPLE_DIR=$state/sample
FLOWFORGE_TEST_PG_PID=$pg_pid
FLOWFORGE_TEST_REDIS_PID=$redis_pid
FLOWFORGE_TEST_CLICKHOUSE_PID=$clickhouse_pid
EOF
        mv "$state/env.tmp" "$state/env"
        echo "test services ready in $((SECONDS - started))s (env: $state/env)" >&2
        ;;
esac
