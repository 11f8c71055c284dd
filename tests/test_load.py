"""Two cron workers, two real processes, synchronize many connections at once.

The workers are `odoo shell` processes running the scheduled action the way
`scripts/load.sh` does (its `worker` role): through Odoo's cron machinery when
the job is free, directly when the other worker holds it, so both compete for
the same connections. Like tests/test_concurrency.py, this cannot run inside
the rolled-back test transaction: it commits a company of its own and removes
what it created at the end.
"""
import json
import os
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.tests.common import get_db_name
from odoo.tools import SQL

from odoo.addons.account_online_synchronization.models.online_link import LOCK_NAMESPACE
from committed_data import create_company, remove_links
from odoo_cli import odoo_command
from online_sync_case import bank_posted_ids

CRON = "account_online_synchronization.ir_cron_fetch_online_transactions"
LOAD_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "load.py"
LINKS = 40
#: Small batches, so that the scheduled action must run again and again while it reports work remaining.
BATCH = 4
FIRST_SYNC_DATE = date.today() - timedelta(days=5)
#: Transactions a day of the first connection: long enough to synchronize for the user to click meanwhile.
SLOW_VOLUME = 30


@pytest.fixture
def committed_links(registry):
    """LINKS sandbox connections of a company of their own, due for the scheduled action, committed."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = create_company(env, "Load")
        env = env(context={"allowed_company_ids": company.ids})
        links = env["online.link"].create([{
            "name": f"Load Bank {index:02d}", "company_id": company.id,
            "provider": "sandbox", "institution_identifier": "sandbox_bank",
        } for index in range(LINKS)])
        provider = links[:1]._get_provider()
        for link in links:
            volume = SLOW_VOLUME if link == links[0] else 1
            link._set_tokens(provider.complete_connection("sandbox_bank", {"daily_volume": volume}))
            link._fetch_accounts().filtered(lambda a: a.name == "Current Account")._link_to_journal(
                None, FIRST_SYNC_DATE)
        cron = env.ref(CRON)
        saved_cron = {"nextcall": cron.nextcall, "lastcall": cron.lastcall, "code": cron.code}
        cron.write({
            "nextcall": fields.Datetime.now(),
            "code": f"model._cron_fetch_online_transactions(batch_size={BATCH})",
        })
        cr.execute("SELECT coalesce(max(id), 0) FROM ir_cron_progress")
        last_progress_id = cr.fetchone()[0]
        link_ids = links.ids
    yield link_ids, last_progress_id
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env.ref(CRON).write(saved_cron)
        env["ir.cron.progress"].search([("id", ">", last_progress_id)]).unlink()
        remove_links(env["online.link"].browse(link_ids))


def start_worker():
    with LOAD_SCRIPT.open() as script:
        return subprocess.Popen(
            odoo_command("shell", "-d", get_db_name(), "--no-http"), stdin=script,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, LOAD_ROLE="worker", LOAD_DEADLINE="120"),
        )


def worker_figures(worker):
    """Wait for ``worker``; return the figures it printed."""
    stdout, stderr = worker.communicate(timeout=180)
    assert worker.returncode == 0, stderr[-3000:]
    return json.loads(next(line for line in stdout.splitlines() if line.startswith("LOAD-STATS "))[11:])


def click_fetch_while_a_worker_holds(registry, link_id):
    """Click Fetch Transactions on the connection as soon as a worker synchronizes it; return the refusal."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with registry.cursor() as cr:
            cr.execute(SQL(
                """SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s
                      AND objsubid = 2 AND pid != pg_backend_pid()""",
                LOCK_NAMESPACE, link_id,
            ))
            if cr.fetchone():
                with pytest.raises(UserError) as refusal:
                    api.Environment(cr, SUPERUSER_ID, {})["online.link"].browse(link_id).action_fetch_transactions()
                return str(refusal.value)
        time.sleep(0.05)
    pytest.fail("no worker synchronized the connection within a minute")


def test_two_cron_workers_synchronize_every_connection_once(registry, committed_links):
    link_ids, last_progress_id = committed_links
    workers = [start_worker(), start_worker()]
    try:
        refusal = click_fetch_while_a_worker_holds(registry, link_ids[0])
        figures = [worker_figures(worker) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    assert refusal == "Load Bank 00 is being synchronized right now. Try again in a few minutes."

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        links = env["online.link"].browse(link_ids)
        assert not links.filtered(lambda link: not link.last_refresh or link.state != "connected"), \
            "every connection was synchronized"
        imported = {}
        for link in links:
            account = link.account_ids.filtered("journal_ids")
            cr.execute(SQL(
                "SELECT online_transaction_identifier FROM account_bank_statement_line WHERE online_account_id = %s",
                account.id,
            ))
            identifiers = imported[link.id] = [row[0] for row in cr.fetchall()]
            assert len(identifiers) == len(set(identifiers)), f"{link.name}: a transaction was imported twice"
            assert set(identifiers) == bank_posted_ids(link, account, FIRST_SYNC_DATE), \
                f"{link.name}: the journal holds exactly the bank's posted transactions"
        assert len(imported[link_ids[0]]) > SLOW_VOLUME, "the connection the user clicked on was synchronized"

        # The scheduled action reported its progress: Odoo ran it again while connections remained,
        # then rescheduled it once everything was done instead of looping.
        cron = env.ref(CRON)
        direct_ids = {i for worker in figures for i in worker["direct_progress_ids"]}
        by_job = env["ir.cron.progress"].search([("cron_id", "=", cron.id), ("id", ">", last_progress_id),
                                                 ("id", "not in", list(direct_ids))])
        assert sum(worker["job_runs"] for worker in figures) >= 1
        assert len(by_job) >= 2 and by_job.filtered("remaining"), "the job ran again while work remained"
        assert cron.nextcall > fields.Datetime.now(), "the job finished and waits for its next run"
