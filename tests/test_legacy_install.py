"""The former addon installed with data, then the new one: in either order, then upgraded and uninstalled.

Each step is a separate Odoo process on a copy of the template database, as an
administrator installs, upgrades and uninstalls modules.
"""
import json
import os

import pytest

from odoo_cli import odoo, odoo_shell, template_copy

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))

PRELUDE = f"""
import json, sys
sys.path.insert(0, {TESTS_DIR!r})
from legacy_data import create_legacy_data, statements_fingerprint
"""

STATE = PRELUDE + """
def state():
    links = env["online.link"].search([("is_legacy", "=", True)])
    notes = {link.name: len([b for b in link.message_ids.mapped("body") if "before December 2020" in b])
             for link in links}
    menu = env.ref("account_online_sync.menu_account_online_provider", raise_if_not_found=False)
    providers = env["account.online.provider"].search([]) if "account.online.provider" in env else []
    return {
        "fingerprint": list(statements_fingerprint(env)),
        "links": sorted((link.name, link.state, link.company_id.name, len(link.account_ids)) for link in links),
        "notes": notes,
        "statuses": sorted(set(p.status for p in providers)),
        "attached": env["account.journal"].search_count([("account_online_journal_id", "!=", False)])
                    if "account_online_journal_id" in env["account.journal"]._fields else 0,
        "menu_to_new": bool(menu) and menu.action == env.ref("account_online_synchronization.action_online_link"),
    }
"""


def shell_json(database, script):
    """Run ``script`` (which prints one ``RESULT <json>`` line) and return the decoded value."""
    output = odoo_shell(database, script)
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def state(database, extra=""):
    return shell_json(database, STATE + extra + '\nprint("RESULT", json.dumps(state()))\n')


EXPECTED_LINKS = [
    ["Belfius", "disconnected", "My Company", 2],
    ["Chase", "disconnected", "My Company", 1],
    ["HSBC", "disconnected", "Legacy Subsidiary", 1],
]


@pytest.fixture(scope="module")
def legacy_first():
    """The former addon with its data, then the new addon installed on top of it."""
    with template_copy("legacy") as database:
        odoo_shell(database, """
env["ir.module.module"].search([("name", "=", "account_online_synchronization")]).button_immediate_uninstall()
env.cr.commit()
""")
        odoo("-d", database, "-i", "account_online_sync", "--stop-after-init")
        before = shell_json(database, PRELUDE + """
create_legacy_data(env)
env.cr.commit()
print("RESULT", json.dumps(list(statements_fingerprint(env))))
""")
        odoo("-d", database, "-i", "account_online_synchronization", "--stop-after-init")
        yield database, before


def test_installing_the_new_addon_disconnects_every_legacy_connection(legacy_first):
    database, before = legacy_first
    after = state(database)
    assert after["fingerprint"] == before, "no statement or line lost or changed"
    assert after["links"] == EXPECTED_LINKS
    assert after["notes"] == {"Belfius": 1, "Chase": 1, "HSBC": 1}
    assert after["statuses"] == ["disconnected"]
    assert after["attached"] == 0
    assert after["menu_to_new"]


def test_running_the_hook_twice_and_upgrading_change_nothing(legacy_first):
    database, before = legacy_first
    first = state(database)
    again = state(database, extra="""
env["online.link"]._migrate_legacy_connections()
env["online.link"]._migrate_legacy_connections()
env.cr.commit()
""")
    assert again == first
    odoo("-d", database, "-u", "account_online_synchronization,account_online_sync", "--stop-after-init")
    assert state(database) == first


def test_upgrade_from_the_version_before_the_migration(legacy_first):
    database, before = legacy_first
    # A connection the previous version of the addon never saw, in a database that had that version.
    odoo_shell(database, """
env.cr.execute(\"\"\"
    INSERT INTO account_online_provider (name, provider_type, status, company_id, create_date, write_date)
    VALUES ('KBC', 'ponto', 'connected', %s, now(), now())
\"\"\", [env.ref("base.main_company").id])
env.cr.execute("UPDATE ir_module_module SET latest_version = '18.0.1.0.0' WHERE name = 'account_online_synchronization'")
env.cr.commit()
""")
    odoo("-d", database, "-u", "account_online_synchronization", "--stop-after-init")
    after = state(database)
    assert ["KBC", "disconnected", "My Company", 0] in after["links"]
    assert after["notes"]["KBC"] == 1 and after["notes"]["Belfius"] == 1
    assert after["statuses"] == ["disconnected"]
    assert after["fingerprint"] == before


def test_uninstalling_the_legacy_addon_afterwards_loses_nothing(legacy_first):
    database, before = legacy_first
    links = state(database)["links"]
    odoo_shell(database, """
env["ir.module.module"].search([("name", "=", "account_online_sync")]).button_immediate_uninstall()
env.cr.commit()
""")
    after = shell_json(database, PRELUDE + """
links = env["online.link"].search([("is_legacy", "=", True)])
print("RESULT", json.dumps({
    "fingerprint": list(statements_fingerprint(env)),
    "links": sorted((l.name, l.state, l.company_id.name, len(l.account_ids)) for l in links),
    "legacy_model": "account.online.provider" in env,
}))
""")
    assert after["fingerprint"] == before
    assert after["links"] == links
    assert not after["legacy_model"]


def test_legacy_addon_installed_after_the_new_one():
    with template_copy("legacy_after") as database:
        odoo("-d", database, "-i", "account_online_sync", "--stop-after-init")
        after = state(database, extra="""
create_legacy_data(env)
env.cr.commit()
""")
    assert after["links"] == EXPECTED_LINKS
    assert after["notes"] == {"Belfius": 1, "Chase": 1, "HSBC": 1}
    assert after["statuses"] == ["disconnected"]
    assert after["attached"] == 0
    assert after["menu_to_new"]
