#!/usr/bin/env bash
# Memory of a large import: N sandbox transactions imported into one account through the scheduler's
# path, the peak RSS as the import goes, then the time of a re-synchronization; see scripts/memory.py.
#   scripts/memory.sh [N ...]
# Environment: MEMORY_DB (database name prefix, default online_sync_memory), MEMORY_DAYS (default 365),
# MEMORY_TRACEMALLOC=1 (also the Python allocations that grow, slow),
# MEMORY_REUSE_TEMPLATE=1 (keep the template database of an earlier run).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

SIZES=("${@:-10000}")
DB="${MEMORY_DB:-online_sync_memory}"

require_runtime

if [ "${MEMORY_REUSE_TEMPLATE:-}" != 1 ] || ! db_exists "${DB}_tpl"; then
    create_db "${DB}_tpl" account_online_synchronization
fi
for n in "${SIZES[@]}"; do
    drop_db "$DB"
    createdb -h "$PG_HOST" -T "${DB}_tpl" "$DB"
    MEMORY_N="$n" odoo_run shell -d "$DB" --no-http --log-level=warn < scripts/memory.py
    drop_db "$DB"
done
