#!/usr/bin/env bash
# Create (once) a demo database and run scripts/demo.py in an Odoo shell.
#   scripts/demo.sh [DB]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

DB="${1:-online_sync_demo}"

require_runtime

if ! db_exists "$DB"; then
    create_db "$DB" account_online_synchronization
fi

odoo_run shell -d "$DB" --no-http --log-level=warn < scripts/demo.py
