#!/usr/bin/env bash
# Run the test suite against a fresh database.
#   scripts/test.sh [pytest args...]
# Environment: TEST_DB (default aos_test), TESTS (the test files or folders to run, default tests),
# HTTP_PORT (the port of Odoo's server for the browser tests, default Odoo's), plus the ones described in lib.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

require_odoo
require_postgres

if ! python3 -c 'import pytest_odoo, phonenumbers, websocket' >/dev/null 2>&1; then
    echo "Installing test requirements ..." >&2
    python3 -m pip install -q -r requirements-test.txt
fi

TEST_DB="${TEST_DB:-aos_test}"
BASE_DB="${TEST_DB}_base"

# A clean template with only `account`; always rebuilt so tests start from a known state.
create_db "$BASE_DB" account

drop_db "$TEST_DB"
createdb -h "$PG_HOST" -T "$BASE_DB" "$TEST_DB"
if [ -d "$ODOO_DATA_DIR/filestore/$BASE_DB" ]; then
    mkdir -p "$ODOO_DATA_DIR/filestore"
    cp -a "$ODOO_DATA_DIR/filestore/$BASE_DB" "$ODOO_DATA_DIR/filestore/$TEST_DB"
fi
echo "Installing account_online_synchronization and account_online_sync into $TEST_DB ..." >&2
odoo_run -d "$TEST_DB" -i account_online_synchronization,account_online_sync --stop-after-init --log-level=warn

export AOS_TEST_BASE_DB="$BASE_DB"
export AOS_ADDONS_PATH="$(addons_path)"
export ODOO_DATA_DIR

read -ra tests <<< "${TESTS:-tests}"
pytest_args=(
    "${tests[@]}"
    --odoo-database="$TEST_DB"
    --odoo-addons-path="$AOS_ADDONS_PATH"
    --odoo-log-level=warn
    --odoo-http
    --odoo-extra "data-dir=$ODOO_DATA_DIR"
    --odoo-extra "log-handler=odoo.tests.common:CRITICAL"
    -p no:cacheprovider
)
[ -n "${HTTP_PORT:-}" ] && pytest_args+=(--odoo-extra "http-port=$HTTP_PORT")
[ -n "${PGHOST:-}" ] && pytest_args+=(--odoo-extra "db_host=$PGHOST")
[ -n "${PGPORT:-}" ] && pytest_args+=(--odoo-extra "db_port=$PGPORT")
[ -n "${PGUSER:-}" ] && pytest_args+=(--odoo-extra "db_user=$PGUSER")

status=0
python3 -m pytest "${pytest_args[@]}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no tests; the test run is broken" >&2
    exit 1
fi
exit "$status"
