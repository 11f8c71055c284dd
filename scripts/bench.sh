#!/usr/bin/env bash
# Compare, in one run, the first import and the re-import of the same N bank
# transactions into one journal by this addon, by OCA's
# account_statement_import_online 18.0 (installed from PyPI into a directory
# outside the repository) and by Odoo's plain batched create.
#   scripts/bench.sh [N ...]
# Environment: BENCH_DB (database name prefix, default online_sync_bench),
# BENCH_ROUNDS (runs of each contender per N, interleaved; default 1),
# BENCH_CONTENDERS (which of project, oca, naive to run; default all three),
# BENCH_OCA_DIR (where the OCA modules are installed), BENCH_RESULTS (results file),
# BENCH_REUSE_TEMPLATES=1 (keep the template databases of an earlier run with the same modules).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

SIZES=("${@:-1000}")
DB="${BENCH_DB:-online_sync_bench}"
ROUNDS="${BENCH_ROUNDS:-1}"
OCA_DIR="${BENCH_OCA_DIR:-${TMPDIR:-/tmp}/online_sync_bench_oca}"
RESULTS="${BENCH_RESULTS:-${TMPDIR:-/tmp}/online_sync_bench_results.jsonl}"
read -r -a CONTENDERS <<< "${BENCH_CONTENDERS:-project oca naive}"
OCA_PACKAGES=(
    "odoo-addon-account_statement_import_online==18.0.*"
    "odoo-addon-account_statement_import_base==18.0.*"
    "odoo-addon-account_statement_base==18.0.*"
)

require_runtime

if [ ! -d "$OCA_DIR/odoo/addons/account_statement_import_online" ]; then
    echo "Installing ${OCA_PACKAGES[*]} into $OCA_DIR ..." >&2
    python3 -m pip install -q --no-deps --target "$OCA_DIR" "${OCA_PACKAGES[@]}"
fi
OCA_VERSION="$(python3 -c "import ast, sys; print(ast.literal_eval(open(sys.argv[1]).read())['version'])" \
    "$OCA_DIR/odoo/addons/account_statement_import_online/__manifest__.py")"
STANDARD_PATH="$(ODOO_ADDONS_PATH= addons_path)"
STANDARD_PATH="${STANDARD_PATH#"$REPO_ROOT",}"

contender_modules() {
    case "$1" in
        project) echo account_online_synchronization ;;
        oca) echo account_statement_import_online ;;
        naive) echo account ;;
    esac
}

with_addons() {
    if [ "$1" = oca ]; then
        ODOO_ADDONS_PATH="$STANDARD_PATH,$OCA_DIR/odoo/addons" "${@:2}"
    else
        ODOO_ADDONS_PATH="$STANDARD_PATH" "${@:2}"
    fi
}

# One template database per contender; each run gets a fresh copy and a fresh process.
for contender in "${CONTENDERS[@]}"; do
    if [ "${BENCH_REUSE_TEMPLATES:-}" = 1 ] && db_exists "${DB}_tpl_$contender"; then
        continue
    fi
    with_addons "$contender" create_db "${DB}_tpl_$contender" "$(contender_modules "$contender")"
done

: > "$RESULTS"
RUN_LOG="$(mktemp)"
trap 'rm -f "$RUN_LOG"' EXIT
failed=0
for n in "${SIZES[@]}"; do
    for round in $(seq "$ROUNDS"); do
        for contender in "${CONTENDERS[@]}"; do
            run_db="${DB}_$contender"
            drop_db "$run_db"
            createdb -h "$PG_HOST" -T "${DB}_tpl_$contender" "$run_db"
            echo "N=$n round $round: $contender ..." >&2
            BENCH_N="$n" BENCH_CONTENDER="$contender" with_addons "$contender" \
                odoo_run shell -d "$run_db" --no-http --log-level=warn < scripts/bench.py > "$RUN_LOG" 2>&1 || true
            grep -v "^RESULT " "$RUN_LOG" >&2 || true
            if grep -q "^RESULT " "$RUN_LOG"; then
                sed -n 's/^RESULT //p' "$RUN_LOG" >> "$RESULTS"
            else
                failed=1
            fi
            drop_db "$run_db"
        done
    done
done

python3 scripts/bench_report.py "$RESULTS" "$OCA_VERSION"
[ "$failed" = 0 ] || die "some runs failed: see their output above"
