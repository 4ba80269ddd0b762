#!/usr/bin/env bash
# Installs what the test suite needs on a Debian 12 machine: the psql client and a Python
# virtualenv with the real client drivers (psycopg 3, asyncpg). Idempotent and quick when
# everything is already there.
set -euo pipefail

VENV="${VENV:-$HOME/.cache/flowforge/venv}"

need_apt=()
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
stamp="$VENV/.flowforge-requirements"
requirements="$(dirname "$0")/../test-requirements.txt"
if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$requirements"
    cp "$requirements" "$stamp"
fi
echo "test dependencies ready (python: $VENV/bin/python, psql: $(command -v psql))"
