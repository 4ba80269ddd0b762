#!/usr/bin/env bash
# Installs what the test suite needs on a Debian 12 machine: the psql client, a Java runtime with
# the PostgreSQL JDBC driver, Node.js with npm, a Python virtualenv with the real client drivers
# (psycopg 3, asyncpg, SQLAlchemy, pandas) and schemathesis (HTTP API conformance), and
# node-postgres in a cache folder. Idempotent and quick when everything is already there.
set -euo pipefail

VENV="${VENV:-$HOME/.cache/flowforge/venv}"
NODE_DIR="${NODE_DIR:-$HOME/.cache/flowforge/node}"
JDBC_JAR="${FLOWFORGE_JDBC_JAR:-/usr/share/java/postgresql.jar}"
here="$(cd "$(dirname "$0")" && pwd)"
clients="$here/../../tests/e2e/clients"

need_apt=()
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
# The JDBC client runs as a single-file source program, which needs the compiler module.
command -v javac >/dev/null 2>&1 || need_apt+=(default-jdk-headless)
[ -f "$JDBC_JAR" ] || need_apt+=(libpostgresql-jdbc-java)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
stamp="$VENV/.flowforge-requirements"
requirements="$here/../test-requirements.txt"
if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$requirements"
    cp "$requirements" "$stamp"
fi

# node-postgres, pinned by the lock file next to the client script, outside the work tree.
if ! cmp -s "$clients/package-lock.json" "$NODE_DIR/.flowforge-lock" 2>/dev/null \
    || [ ! -d "$NODE_DIR/node_modules/pg" ]; then
    mkdir -p "$NODE_DIR"
    cp "$clients/package.json" "$clients/package-lock.json" "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --silent --no-audit --no-fund)
    cp "$clients/package-lock.json" "$NODE_DIR/.flowforge-lock"
fi

echo "test dependencies ready (python: $VENV/bin/python, psql: $(command -v psql)," \
    "java: $(command -v java), jdbc: $JDBC_JAR, node modules: $NODE_DIR/node_modules)"
