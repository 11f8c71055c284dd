"""Publish the chosen screens saved by the browser tests, compressed, for the Apps page and the README.

    python3 scripts/screenshots.py CAPTURES_DIR

Each screen is kept at the browser's size (text stays sharp) and reduced to a palette of
``COLORS`` colours, which the flat colours of Odoo's web client survive unchanged.
"""
import os
import sys

from PIL import Image

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS = os.path.join(REPO_ROOT, "account_online_synchronization", "static", "description")
README = os.path.join(REPO_ROOT, "docs", "screenshots")
COLORS = 128
#: The whole published set stays below this size.
BUDGET = 1_500_000

#: Published name: (screen saved by a test, the folders it goes to).
SCREENS = {
    "connect_search": ("add_bank_account_search", (APPS, README)),
    "connect_accounts": ("link_accounts_step", (APPS, README)),
    "import_summary": ("connection_import_summary", (APPS, README)),
    "dashboard_synchronize_now": ("accountant_dashboard_synchronized", (APPS, README)),
    "bank_transactions": ("accountant_bank_transactions_list", (APPS, README)),
    "bank_transaction_data": ("accountant_bank_transaction_form", (README,)),
    "error_in_chatter": ("accountant_connection_consent_ended", (APPS, README)),
    "bank_down_will_retry": ("accountant_dashboard_bank_down", (README,)),
    "find_missing": ("missing_found", (README,)),
    "aggregator_settings": ("admin_aggregator_settings_tested", (APPS, README)),
    "accounting_settings": ("admin_accounting_settings", (APPS, README)),
}


def publish(captures):
    missing = [capture for capture, _folders in SCREENS.values()
               if not os.path.exists(os.path.join(captures, f"{capture}.png"))]
    if missing:
        sys.exit(f"error: no screenshot was saved for {', '.join(missing)}: did its test run and pass?")
    total = 0
    for name, (capture, folders) in SCREENS.items():
        with Image.open(os.path.join(captures, f"{capture}.png")) as image:
            compressed = image.convert("RGB").quantize(
                colors=COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        for folder in folders:
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f"{name}.png")
            compressed.save(path, optimize=True)
            total += os.path.getsize(path)
            print(f"{os.path.relpath(path, REPO_ROOT)}: {os.path.getsize(path) / 1000:.0f} kB")
    print(f"{len(SCREENS)} screens, {total / 1000:.0f} kB in all")
    if total > BUDGET:
        sys.exit(f"error: the screenshots weigh {total / 1000:.0f} kB, over {BUDGET / 1000:.0f} kB")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    publish(sys.argv[1])
