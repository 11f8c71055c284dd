# Load test of the scheduled synchronization: many sandbox connections
# synchronized by two cron workers at once while a user clicks Fetch
# Transactions, then a check that nothing was imported twice or missed.
#
# scripts/load.sh runs this file in Odoo shells, which provide `env`; LOAD_ROLE
# chooses what the shell does:
#   setup    create LOAD_N sandbox connections (3 accounts each; every Current
#            Account, every 2nd Savings Account and every 5th USD account linked
#            to a journal, synchronized from LOAD_DAYS days ago at LOAD_VOLUME
#            transactions a day on average) and make the scheduled action due;
#            LOAD_BATCH sets the scheduled action's batch size
#   worker   one cron worker, until no connection is due: it takes the scheduled
#            action through Odoo's cron machinery when it is free (the job runs
#            again while it reports connections remaining); when the other worker
#            holds it, it runs the scheduled action directly, as "Run Manually"
#            does, so that both compete for the same connections; it prints its
#            figures on a line starting with LOAD-STATS
#   manual   a user clicking Fetch Transactions on the connections the workers
#            are synchronizing (and on one they have not reached yet, one click
#            in five), until the workers are done
#   report   read the LOAD-STATS lines of the files in LOAD_STATS_DIR, print the
#            figures and check them against the sandbox bank (exit 1 on failure)
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg2

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.account_online_synchronization.models.online_account import IMPORT_CONTEXT
from odoo.addons.account_online_synchronization.models.online_link import LOCK_NAMESPACE

CRON = "account_online_synchronization.ir_cron_fetch_online_transactions"
#: The start of the message refusing a manual sync of a connection being synchronized.
REFUSED = "is being synchronized right now"
#: A worker or the user gives up after this many seconds: something loops.
DEADLINE = float(os.environ.get("LOAD_DEADLINE", "1800"))
STATS_PREFIX = "LOAD-STATS "


def out(text=""):
    print(text, flush=True)


def fail(text):
    out(f"FAILED: {text}")
    sys.exit(1)


def due_count(env):
    """Connections the scheduled action would still pick."""
    return env["online.link"].search_count(env["online.link"]._cron_due_domain())


# setup ------------------------------------------------------------------------

def setup(env):
    n = int(os.environ.get("LOAD_N", "500"))
    days = int(os.environ.get("LOAD_DAYS", "10"))
    volume = int(os.environ.get("LOAD_VOLUME", "1"))
    batch = os.environ.get("LOAD_BATCH")
    if n < 1 or n > 9999 // 2:
        fail(f"LOAD_N must be between 1 and 4999, not {n}")
    started = time.perf_counter()
    company = env.company
    first_sync_date = fields.Date.today() - timedelta(days=days)
    links = env["online.link"].with_context(**IMPORT_CONTEXT).create([{
        "name": f"Sandbox Bank {index:04d}",
        "provider": "sandbox",
        "institution_identifier": "sandbox_bank",
    } for index in range(1, n + 1)])
    provider = links[:1]._get_provider()
    for link in links:
        link._set_tokens(provider.complete_connection("sandbox_bank", {"daily_volume": volume}))
        link._fetch_accounts()
    to_link = [
        account
        for index, link in enumerate(links)
        for account in link.account_ids
        if account.name == "Current Account"
        or (account.name == "Savings Account" and index % 2 == 0)
        or (account.name == "Business Account USD" and index % 5 == 0)
    ]
    journal_vals = [{
        "name": f"{account.name} {account.link_id.name[-4:]}",
        "code": f"L{index:04d}",
        "type": "bank",
        "company_id": company.id,
        "currency_id": account.currency_id != company.currency_id and account.currency_id.id,
    } for index, account in enumerate(to_link, 1)]
    # Journals create their bank account one by one, each looking for a free code
    # among all the others: create them in one go with codes of their own.
    prefix = company.bank_account_code_prefix or ""
    liquidity = env["account.account"].create([
        env["account.journal"]._prepare_liquidity_account_vals(company, f"{prefix}{index:05d}", vals)
        for index, vals in enumerate(journal_vals, 1)
    ])
    journals = env["account.journal"].create([
        dict(vals, default_account_id=account.id) for vals, account in zip(journal_vals, liquidity)
    ])
    for account, journal in zip(to_link, journals):
        account._link_to_journal(journal, first_sync_date)
    cron = env.ref(CRON)
    values = {"nextcall": fields.Datetime.now()}
    if batch:
        values["code"] = f"model._cron_fetch_online_transactions(batch_size={int(batch)})"
    cron.write(values)
    env.cr.commit()
    out(f"Setup: {n} connections, {len(links.account_ids)} accounts, {len(to_link)} of them linked to a journal "
        f"and synchronized from {first_sync_date} at about {volume} transactions a day, "
        f"in {time.perf_counter() - started:.1f} s.")
    out(f"Scheduled action: {cron.code.strip()}")


# worker -----------------------------------------------------------------------

def worker(env):
    """Run the scheduled action until no connection is due; print this worker's figures."""
    registry = env.registry
    cron_id = env.ref(CRON).id
    env.cr.rollback()
    db = odoo.sql_db.db_connect(env.cr.dbname)
    ir_cron = registry["ir.cron"]
    stats = {"started": time.time(), "job_runs": 0, "direct_progress_ids": []}
    while True:
        if time.time() - stats["started"] > DEADLINE:
            fail(f"the worker still finds connections to synchronize after {DEADLINE:.0f} s")
        # What ir.cron._process_jobs does for this job: take it unless another
        # worker holds it (SKIP LOCKED), run it while it reports work remaining.
        with db.cursor() as cron_cr:
            try:
                job = ir_cron._acquire_one_job(cron_cr, cron_id)
            except psycopg2.extensions.TransactionRollbackError:
                cron_cr.rollback()
                job = None
            if job:
                ir_cron._process_job(db, cron_cr, job)
                stats["job_runs"] += 1
                continue
        # The job is held by the other worker, or done: run it directly.
        with registry.cursor() as cr:
            cron, progress = api.Environment(cr, SUPERUSER_ID, {})["ir.cron"].browse(cron_id)._add_progress()
            cr.commit()
            cron.ir_actions_server_id.run()
            cr.commit()
            stats["direct_progress_ids"].append(progress.id)
            # Odoo's rule: the job is over when it reports nothing remaining or nothing done.
            if not (progress.remaining and progress.done):
                break
    stats["finished"] = time.time()
    out(STATS_PREFIX + json.dumps(stats))


# manual -----------------------------------------------------------------------

def manual(env):
    """Click Fetch Transactions on connections the workers hold, until they are done."""
    registry = env.registry
    env.cr.rollback()
    stats = {"manual_attempts": 0, "manual_refused": 0, "manual_done": 0}
    started = time.time()
    idle_checks = 0
    while idle_checks < 3:
        if time.time() - started > DEADLINE:
            fail(f"connections are still due after {DEADLINE:.0f} s")
        with registry.cursor() as cr:
            cr.execute(SQL(
                """SELECT objid FROM pg_locks
                    WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2 AND granted
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
                LOCK_NAMESPACE,
            ))
            held = [row[0] for row in cr.fetchall()]
            due = due_count(api.Environment(cr, SUPERUSER_ID, {}))
        idle_checks = 0 if held or due else idle_checks + 1
        if not held:
            time.sleep(0.5)
            continue
        stats["manual_attempts"] += 1
        try:
            with registry.cursor() as cr:
                links = api.Environment(cr, SUPERUSER_ID, {})["online.link"]
                link = links.browse(random.choice(held))
                if stats["manual_attempts"] % 5 == 0:
                    # Now and then one the workers have not reached yet.
                    link = links.search(links._cron_due_domain(), order="id desc", limit=1) or link
                link.action_fetch_transactions()
            stats["manual_done"] += 1
        except UserError as error:
            if REFUSED not in str(error):
                raise
            stats["manual_refused"] += 1
        time.sleep(1)
    out(STATS_PREFIX + json.dumps(stats))


# report -----------------------------------------------------------------------

def read_stats():
    stats = []
    for path in sorted(Path(os.environ["LOAD_STATS_DIR"]).glob("*.out")):
        stats += [json.loads(line[len(STATS_PREFIX):]) for line in path.read_text().splitlines()
                  if line.startswith(STATS_PREFIX)]
    return stats


def bank_posted_ids(account):
    """Ids of the posted transactions the sandbox bank holds for ``account`` since its first date."""
    link = account.link_id
    posted, _pending = account._fetch_bank_transactions(
        link._get_provider(), link._get_tokens(), account.first_sync_date, True,
    )
    return {transaction.id for transaction in posted}


def report(env):
    stats = read_stats()
    workers = [s for s in stats if "job_runs" in s]
    user = next((s for s in stats if "manual_attempts" in s), {})
    if len(workers) != 2:
        fail(f"expected the figures of 2 workers, found {len(workers)}")
    links = env["online.link"].search([("provider", "=", "sandbox")])
    accounts = links.account_ids
    linked = accounts.filtered("journal_ids")
    env.cr.execute(SQL(
        """SELECT online_account_id, array_agg(online_transaction_identifier) FROM account_bank_statement_line
            WHERE online_account_id = ANY(%s) GROUP BY online_account_id""",
        accounts.ids,
    ))
    imported = dict(env.cr.fetchall())
    env.cr.execute(SQL(
        """SELECT count(*) FROM (
               SELECT 1 FROM account_bank_statement_line WHERE online_account_id IS NOT NULL
                GROUP BY online_account_id, online_transaction_identifier HAVING count(*) > 1) AS duplicate"""
    ))
    duplicates = env.cr.fetchone()[0]
    missing = extra = 0
    for account in linked:
        expected = bank_posted_ids(account)
        got = set(imported.get(account.id, ()))
        missing += len(expected - got)
        extra += len(got - expected)
    unlinked_lines = sum(len(imported.get(account.id, ())) for account in accounts - linked)
    not_synchronized = links.filtered(lambda link: not link.last_refresh or link.state != "connected")
    cron = env.ref(CRON)
    progress = env["ir.cron.progress"].search([("cron_id", "=", cron.id)])
    direct_ids = {i for worker in workers for i in worker["direct_progress_ids"]}
    by_job = progress.filtered(lambda p: p.id not in direct_ids)
    direct = progress - by_job
    synchronizations = env["online.sync.event"].search_count([("kind", "=", "sync"), ("link_id", "in", links.ids)])
    elapsed = max(w["finished"] for w in workers) - min(w["started"] for w in workers)
    lines = sum(len(ids) for ids in imported.values())

    rows = [
        ("connections", len(links)),
        ("accounts", len(accounts)),
        ("accounts linked to a journal", len(linked)),
        ("transactions imported", lines),
        ("scheduled action taken by a worker (ir.cron, SKIP LOCKED)", sum(w["job_runs"] for w in workers)),
        ("  batches Odoo ran in them (again while work remains)", len(by_job)),
        ("  of which reported work remaining", len(by_job.filtered("remaining"))),
        ("batches run directly by the worker that found it taken", len(direct)),
        ("synchronizations of a connection (workers and user)", synchronizations),
        ("  more than once (after another just did it)", synchronizations - len(links)),
        ("manual syncs clicked / refused politely / done",
         f"{user.get('manual_attempts', 0)} / {user.get('manual_refused', 0)} / {user.get('manual_done', 0)}"),
        ("connections not synchronized", len(not_synchronized)),
        ("duplicate transactions", duplicates),
        ("posted transactions missing vs the bank", missing),
        ("lines the bank does not have, or on unlinked accounts", extra + unlinked_lines),
        ("elapsed seconds (2 workers)", f"{elapsed:.1f}"),
        ("transactions per second", f"{lines / elapsed:.1f}" if elapsed else "-"),
    ]
    out("")
    for label, value in rows:
        out(f"{label:<56} {value:>12}")
    out("")
    failures = []
    if not_synchronized:
        first = not_synchronized[0]
        failures.append(f"{len(not_synchronized)} connections were not synchronized, e.g. "
                        f"{first.name}: {first.state} {first.error_message or ''}")
    if duplicates:
        failures.append(f"{duplicates} transactions were imported more than once")
    if missing or extra or unlinked_lines:
        failures.append(f"{missing} posted transactions missing, {extra + unlinked_lines} unexpected lines")
    if due_count(env):
        failures.append(f"{due_count(env)} connections are still due")
    if cron.nextcall <= fields.Datetime.now():
        failures.append("the scheduled action did not finish: it is still due")
    if failures:
        fail("; ".join(failures))
    out(f"OK: {len(links)} connections synchronized by two workers, {lines} transactions imported, "
        f"no duplicate, nothing missing; the scheduled action next runs at {cron.nextcall} UTC.")


ROLES = {"setup": setup, "worker": worker, "manual": manual, "report": report}
ROLES[os.environ.get("LOAD_ROLE", "report")](env)
