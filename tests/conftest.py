"""Fixtures of the tests working on committed data (see committed_data.py); browser tests may not be skipped."""
from datetime import date, timedelta

import pytest

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests import common
from odoo.tests.common import get_db_name

from committed_data import create_company, remove_links

# Chromium may take more than Odoo's 10 s to open its debugging port on a busy machine: wait up to 60 s.
common.CHECK_BROWSER_ITERATIONS = 600
common.BROWSER_WAIT = common.CHECK_BROWSER_SLEEP * common.CHECK_BROWSER_ITERATIONS


@pytest.fixture
def registry():
    return odoo.modules.registry.Registry(get_db_name())


@pytest.fixture
def committed_link(registry):
    """A sandbox link of a company of its own, committed so that other connections see it."""
    # Imported here: the addons are importable only once pytest-odoo has loaded Odoo's configuration.
    from online_sync_case import TEST_PHONE, choose_bank

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = create_company(env, "Concurrency")
        env = env(context={"allowed_company_ids": company.ids})
        wizard = env["online.link.connect"].create({"phone": TEST_PHONE, "company_id": company.id})
        choose_bank(wizard, "sandbox_bank").action_connect()
        link = wizard.link_id
        link._set_tokens(dict(link._get_tokens(), daily_volume=4))
        link._fetch_accounts()  # the balances of the busier bank
        account = link.account_ids.filtered(lambda a: a.name == "Current Account")
        account._link_to_journal(None, date.today() - timedelta(days=60))
        ids = (company.id, link.id, account.id)
    yield ids
    with registry.cursor() as cr:
        remove_links(api.Environment(cr, SUPERUSER_ID, {})["online.link"].browse(ids[1]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A browser test that Odoo skips because Chromium is missing or unreachable fails instead."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and call.excinfo is not None and "chrome" in str(call.excinfo.value).lower():
        report.outcome = "failed"
        report.longrepr = f"the browser test could not run: {call.excinfo.value}"
