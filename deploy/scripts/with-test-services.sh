#!/usr/bin/env bash
# Runs a command with the test services up: starts PostgreSQL, Redis and the ClickHouse endpoint
# (test-services.sh), exports the variables of their env file (FLOWFORGE_TEST_PG_URL, ...), runs
# the command, and stops the services afterwards, also when the command fails or is interrupted.
# Exits with the command's status.
#
#   with-test-services.sh CMD [ARG...]
#
# The services live in FLOWFORGE_TEST_SERVICES_DIR when set (loaded data is then reused by the
# next run), else in a new temporary folder removed at the end, so runs never share services.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
services="$here/test-services.sh"
[ "$#" -gt 0 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

state="${FLOWFORGE_TEST_SERVICES_DIR:-}"
temporary=0
if [ -z "$state" ]; then
    state="$(mktemp -d "${TMPDIR:-/tmp}/flowforge-services.XXXXXX")"
    # PostgreSQL runs as the postgres user when this runs as root; it must reach its folder.
    chmod 755 "$state"
    temporary=1
fi

cleanup() {
    bash "$services" stop "$state" || true
    if [ "$temporary" -eq 1 ]; then rm -rf "$state"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$services" start "$state" || exit $?
set -a
# shellcheck disable=SC1091
. "$state/env"
set +a

"$@"
