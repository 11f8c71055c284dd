#!/usr/bin/env bash
# Run scripts/bench.py in an Odoo shell on a freshly created database.
#   scripts/bench.sh [N]
# Environment: BENCH_DB (default online_sync_bench).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

export BENCH_N="${1:-1000}"
DB="${BENCH_DB:-online_sync_bench}"

require_runtime

create_db "$DB" account_online_synchronization
odoo_run shell -d "$DB" --no-http --log-level=warn < scripts/bench.py
