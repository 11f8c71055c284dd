"""Two synchronizations of one link at once, on real concurrent database connections.

These tests cannot run inside the usual rolled-back test transaction: the
other connection would not see its data. They commit their own company and
remove it at the end.
"""
import threading
import uuid
from datetime import date, timedelta

import pytest

import odoo
from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests.common import get_db_name

from online_sync_case import TEST_PHONE, choose_bank


@pytest.fixture
def registry():
    return odoo.modules.registry.Registry(get_db_name())


@pytest.fixture
def committed_link(registry):
    """A sandbox link of a company of its own, committed so that other connections see it."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env["res.company"].create({
            "name": f"Concurrency {uuid.uuid4().hex[:8]}", "currency_id": env.company.currency_id.id,
        })
        env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        env = env(context={"allowed_company_ids": company.ids})
        wizard = env["online.link.connect"].create({"phone": TEST_PHONE, "company_id": company.id})
        choose_bank(wizard, "sandbox_bank").action_connect()
        link = wizard.link_id
        link._set_tokens(dict(link._get_tokens(), daily_volume=4))
        account = link.account_ids.filtered(lambda a: a.name == "Current Account")
        account._link_to_journal(None, date.today() - timedelta(days=60))
        ids = (company.id, link.id, account.id)
    yield ids
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company_id, link_id, account_id = ids
        lines = env["account.bank.statement.line"].search([("online_account_id", "=", account_id)])
        statements = lines.statement_id
        lines.unlink()
        statements.unlink()
        env["online.link"].browse(link_id).unlink()


def line_identifiers(registry, account_id):
    with registry.cursor() as cr:
        cr.execute(
            "SELECT online_transaction_identifier FROM account_bank_statement_line WHERE online_account_id = %s",
            (account_id,),
        )
        return [row[0] for row in cr.fetchall()]


def test_manual_sync_is_refused_while_another_sync_holds_the_link(registry, committed_link):
    _company_id, link_id, account_id = committed_link
    with registry.cursor() as cr_cron:
        link_cron = api.Environment(cr_cron, SUPERUSER_ID, {})["online.link"].browse(link_id)
        with link_cron._sync_lock() as locked:
            assert locked
            with registry.cursor() as cr_user:
                link_user = api.Environment(cr_user, SUPERUSER_ID, {})["online.link"].browse(link_id)
                with pytest.raises(UserError, match="being synchronized right now"):
                    link_user.action_fetch_transactions()
                assert link_user._fetch_transactions(unattended=True) == link_user.browse(), "the cron skips it"
                link_user._cron_fetch_online_transactions()
                assert not link_user.last_attempt, "the scheduler leaves it to the worker holding it"
            assert not line_identifiers(registry, account_id)
    # Once released, a sync goes through.
    with registry.cursor() as cr:
        api.Environment(cr, SUPERUSER_ID, {})["online.link"].browse(link_id).action_fetch_transactions()
    assert line_identifiers(registry, account_id)


def test_two_simultaneous_syncs_do_not_duplicate_lines(registry, committed_link):
    _company_id, link_id, account_id = committed_link
    barrier = threading.Barrier(2)
    errors = []

    def synchronize():
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                barrier.wait(timeout=30)
                env["online.link"].browse(link_id)._fetch_transactions(unattended=True)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=synchronize) for _i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    identifiers = line_identifiers(registry, account_id)
    assert identifiers, "one of the two runs imported the history"
    assert len(identifiers) == len(set(identifiers)), "no transaction imported twice"
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["online.link"].browse(link_id)._fetch_transactions(unattended=False)
    assert sorted(line_identifiers(registry, account_id)) == sorted(identifiers), "a later run adds nothing"
