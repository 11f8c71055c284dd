"""Install and uninstall the addon in a fresh database, as an administrator would from Apps."""
import pytest

from odoo_cli import odoo, template_copy

SHELL_CHECK = """
module = env["ir.module.module"].search([("name", "=", "account_online_synchronization")])
print("STATE", module.state)
print("SOURCES", [key for key, _label in env["account.journal"]._fields["bank_statements_source"]._description_selection(env)])
print("CRON", bool(env.ref("account_online_synchronization.ir_cron_fetch_online_transactions", raise_if_not_found=False)))
if module.state == "installed":
    module.button_immediate_uninstall()
    env.cr.commit()
env.cr.execute("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('online_link', 'online_account')")
print("TABLES", env.cr.fetchone()[0])
env.cr.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'account_journal' AND column_name = 'online_account_id'")
print("COLUMNS", env.cr.fetchone()[0])
"""


@pytest.fixture
def fresh_db():
    with template_copy("install") as name:
        yield name


def test_auto_installed_with_accounting_then_uninstall_and_install(fresh_db):
    # The base database was made by installing Accounting alone, with this addon on the addons path.
    output = odoo("shell", "-d", fresh_db, "--no-http", stdin=SHELL_CHECK)
    assert "STATE installed" in output, "installed automatically with Accounting"
    assert "'online_sync'" in output
    assert "CRON True" in output
    assert "TABLES 0" in output, "uninstall drops the addon's tables"
    assert "COLUMNS 0" in output, "uninstall removes the journal columns"
    odoo("-d", fresh_db, "-i", "account_online_synchronization", "--stop-after-init")
    output = odoo("shell", "-d", fresh_db, "--no-http", stdin=SHELL_CHECK)
    assert "STATE installed" in output, "installable again from Apps after an uninstall"
