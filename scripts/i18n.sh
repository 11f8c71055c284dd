#!/usr/bin/env bash
# Regenerate each addon's translation template (i18n/<addon>.pot) with Odoo's own export,
# from a database where the addons of this working tree are installed, then merge it into
# the addon's .po files: new terms come in untranslated, removed terms are dropped.
#   scripts/i18n.sh
# Environment: I18N_DB (default online_sync_i18n), plus the ones described in lib.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

require_runtime

I18N_DB="${I18N_DB:-online_sync_i18n}"
ADDONS=(account_online_synchronization account_online_sync)
modules="$(IFS=,; echo "${ADDONS[*]}")"

if db_exists "$I18N_DB"; then
    echo "Updating $modules in $I18N_DB ..." >&2
    odoo_run -d "$I18N_DB" -u "$modules" --stop-after-init --log-level=warn
else
    create_db "$I18N_DB" "$modules"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for addon in "${ADDONS[@]}"; do
    mkdir -p "$addon/i18n"
    # Odoo logs a file it cannot read and goes on: such a file's terms would be missing.
    odoo_run -d "$I18N_DB" --i18n-export="$addon/i18n/$addon.pot" --modules="$addon" --log-level=warn 2>&1 | tee "$log"
    if grep -q " ERROR " "$log"; then
        die "Odoo could not extract every term of $addon (see above)"
    fi
    python3 scripts/i18n_merge.py "$addon/i18n/$addon.pot"
done
