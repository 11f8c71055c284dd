#!/usr/bin/env bash
# Refresh the product screenshots: run the browser tests (Odoo tours in Chromium) saving their screens into a
# temporary folder, then publish the chosen ones (scripts/screenshots.py) into
# account_online_synchronization/static/description/ (the Apps page) and docs/screenshots/ (the README).
#   scripts/screenshots.sh
# Environment: as scripts/test.sh (TEST_DB, HTTP_PORT, and the ones described in lib.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

captures="$(mktemp -d)"
trap 'rm -rf "$captures"' EXIT

# Every tour, and the connection form receiving the summary of its background import.
ONLINE_SYNC_SCREENSHOTS="$captures" \
TESTS="$(echo tests/test_*tours*.py) tests/test_background.py::TestImportSummaryInBrowser::test_the_summary_reaches_the_user_once" \
    bash scripts/test.sh -q
python3 scripts/screenshots.py "$captures"
