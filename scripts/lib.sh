# Shared helpers for the scripts in this folder. Source it, do not run it:
#   source "$(dirname "$0")/lib.sh"
#
# Environment:
#   PGHOST, PGPORT, PGUSER   PostgreSQL connection (host defaults to 127.0.0.1)
#   ODOO_ADDONS_PATH         Odoo addons dirs to use instead of the ones shipped
#                            next to the `odoo` package (comma-separated)
#   ODOO_DATA_DIR            Odoo data dir (filestore, sessions)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_DATA_DIR="${ODOO_DATA_DIR:-${TMPDIR:-/tmp}/online_sync_odoo_data}"
PG_HOST="${PGHOST:-127.0.0.1}"

die() {
    echo "error: $*" >&2
    exit 2
}

# Fail unless Odoo 18.0 can be imported as `odoo` by python3.
require_odoo() {
    local version
    if ! version="$(python3 -c 'import odoo.release; print(odoo.release.version)' 2>/dev/null)"; then
        die "Odoo 18.0 is not importable as \`odoo\` from python3 ($(command -v python3 || echo 'python3 not found')); install Odoo 18.0 Community (see README, Prerequisites)"
    fi
    case "$version" in
        18.0*) ;;
        *) die "found Odoo $version, but Odoo 18.0 is required as \`odoo\` from python3; install Odoo 18.0 Community (see README, Prerequisites)" ;;
    esac
}

# What the demo, benchmark and load scripts need: Odoo, PostgreSQL and the runtime requirements.
require_runtime() {
    require_odoo
    require_postgres
    if ! python3 -c 'import requests, phonenumbers, cryptography' >/dev/null 2>&1; then
        python3 -m pip install -q -r "$REPO_ROOT/requirements.txt"
    fi
}

# Fail unless the PostgreSQL server answers.
require_postgres() {
    command -v psql >/dev/null 2>&1 \
        || die "psql not found; install the PostgreSQL client tools (see README, Prerequisites)"
    if ! psql -h "$PG_HOST" -d postgres -Atc 'select 1' >/dev/null 2>&1; then
        die "cannot connect to PostgreSQL at host $PG_HOST port ${PGPORT:-5432} as user ${PGUSER:-$(id -un)}; start PostgreSQL or set PGHOST/PGPORT/PGUSER (see README, Prerequisites)"
    fi
}

# Print the comma-separated Odoo addons path: this repository first.
addons_path() {
    if [ -n "${ODOO_ADDONS_PATH:-}" ]; then
        echo "$REPO_ROOT,$ODOO_ADDONS_PATH"
    else
        python3 - "$REPO_ROOT" <<'PY'
import os, sys
import odoo
pkg = os.path.dirname(os.path.abspath(odoo.__file__))
paths = [sys.argv[1]]
community = os.path.join(os.path.dirname(pkg), "addons")
if os.path.isdir(community):
    paths.append(community)
paths.append(os.path.join(pkg, "addons"))
print(",".join(paths))
PY
    fi
}

# Run the Odoo command line (same as odoo-bin) with this repository's addons.
odoo_run() {
    local args=("--addons-path=$(addons_path)" "--data-dir=$ODOO_DATA_DIR")
    [ -n "${PGHOST:-}" ] && args+=("--db_host=$PGHOST")
    [ -n "${PGPORT:-}" ] && args+=("--db_port=$PGPORT")
    [ -n "${PGUSER:-}" ] && args+=("--db_user=$PGUSER")
    # Sub-commands (shell, ...) must come first on the command line.
    local cmd=()
    case "${1:-}" in
        ""|-*) ;;
        *) cmd=("$1"); shift ;;
    esac
    python3 "$REPO_ROOT/scripts/odoo" "${cmd[@]}" "${args[@]}" "$@"
}

db_exists() {
    [ "$(psql -h "$PG_HOST" -d postgres -Atc "select 1 from pg_database where datname = '$1'")" = "1" ]
}

drop_db() {
    PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" dropdb -h "$PG_HOST" --if-exists "$1"
    rm -rf "$ODOO_DATA_DIR/filestore/$1"
}

# create_db NAME MODULES: (re)create database NAME with MODULES installed, no demo data.
create_db() {
    local name="$1" modules="$2"
    drop_db "$name"
    echo "Creating database $name with $modules ..." >&2
    odoo_run -d "$name" -i "$modules" --without-demo=all --stop-after-init --log-level=warn
}
