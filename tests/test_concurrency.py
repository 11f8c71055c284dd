"""Two synchronizations of one link at once, on real concurrent database connections.

They work on a committed link of a company of its own (``committed_link`` in conftest.py).
"""
import threading

import psycopg2
import pytest

import odoo
from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError

from committed_data import line_identifiers


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
    # Once released, a sync goes through: this first import in the background job.
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["online.link"].browse(link_id).action_fetch_transactions()
        assert env["online.link"].browse(link_id).import_state == "queued"
        env["online.link"]._cron_import_queued()
    assert line_identifiers(registry, account_id)


def test_a_database_error_during_a_sync_does_not_leave_the_link_locked(registry, committed_link):
    _company_id, link_id, _account_id = committed_link
    with registry.cursor() as cr_cron:
        link_cron = api.Environment(cr_cron, SUPERUSER_ID, {})["online.link"].browse(link_id)
        with pytest.raises(psycopg2.errors.DivisionByZero), link_cron._sync_lock() as locked:
            assert locked
            cr_cron.execute("SELECT 1 / 0")  # e.g. a write conflict with another worker
        # The worker's connection goes back to the pool and lives on: it must not keep the lock.
        with registry.cursor() as cr_user:
            link_user = api.Environment(cr_user, SUPERUSER_ID, {})["online.link"].browse(link_id)
            with link_user._sync_lock() as locked_by_user:
                assert locked_by_user, "the next synchronization of the link can run"


def test_two_workers_activating_the_same_currency_both_go_on(registry, committed_link, monkeypatch):
    _company_id, _link_id, account_id = committed_link
    # The workers commit as in production (committed data of a company of its own).
    monkeypatch.setitem(odoo.tools.config.options, "test_enable", False)
    with registry.cursor() as cr:
        currency = api.Environment(cr, SUPERUSER_ID, {}).ref("base.NOK")
        was_active = currency.active
        currency.active = False
    try:
        with registry.cursor() as cr_first, registry.cursor() as cr_second:
            second = api.Environment(cr_second, SUPERUSER_ID, {})["online.account"].browse(account_id)
            second.read(["name"])  # the second worker's snapshot predates the first one's commit
            first = api.Environment(cr_first, SUPERUSER_ID, {})["online.account"].browse(account_id)
            first._get_currencies({"NOK"})
            cr_first.commit()
            assert second._get_currencies({"NOK"})["NOK"].active, "the second worker sees it active and goes on"
        with registry.cursor() as cr:
            assert api.Environment(cr, SUPERUSER_ID, {}).ref("base.NOK").active
    finally:
        with registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {}).ref("base.NOK").active = was_active


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
