#!/usr/bin/env bash
# Runs every test of the workspace and ends with one summary line over all test binaries
# ("tests: N passed, N failed"), since cargo prints a separate result per binary.
set -uo pipefail

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

cargo test --workspace --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

totals="$(grep -E '^test result:' "$log" | awk '{
    for (i = 1; i <= NF; i++) {
        if ($(i + 1) ~ /^passed/) passed += $i
        if ($(i + 1) ~ /^failed/) failed += $i
    }
} END { printf "%d %d", passed, failed }')"
read -r passed failed <<<"$totals"
echo
echo "tests: ${passed} passed, ${failed} failed"
if [ "$status" -eq 0 ] && [ "${passed}" -eq 0 ]; then
    echo "no test ran" >&2
    exit 1
fi
exit "$status"
