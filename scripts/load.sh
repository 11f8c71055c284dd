#!/usr/bin/env bash
# Load test of the scheduled synchronization on a freshly created database:
# N sandbox connections synchronized by two cron workers at once (two
# processes) while a user clicks Fetch Transactions; see scripts/load.py.
#   scripts/load.sh [N]
# Environment: LOAD_DB (default online_sync_load), LOAD_DAYS, LOAD_VOLUME, LOAD_BATCH.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

export LOAD_N="${1:-500}"
DB="${LOAD_DB:-online_sync_load}"

require_runtime

# run_role ROLE: run scripts/load.py in an Odoo shell on the database, as ROLE.
run_role() {
    LOAD_ROLE="$1" odoo_run shell -d "$DB" --no-http --log-level=warn < scripts/load.py
}

export LOAD_STATS_DIR="$(mktemp -d)"
trap 'rm -rf "$LOAD_STATS_DIR"' EXIT

create_db "$DB" account_online_synchronization
run_role setup
echo "Synchronizing with two cron workers and a user clicking Fetch Transactions ..."
pids=()
for role in worker worker manual; do
    run_role "$role" > "$LOAD_STATS_DIR/${role}_${#pids[@]}.out" &
    pids+=("$!")
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=$?
done
if [ "$status" -ne 0 ]; then
    grep -h -v '^LOAD-STATS ' "$LOAD_STATS_DIR"/*.out >&2 || true
    die "a worker or the user failed (exit $status)"
fi
run_role report
