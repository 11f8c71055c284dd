"""A worker killed with SIGKILL in the middle of a synchronization, then the next run.

A real `odoo shell` process synchronizes a committed sandbox link in small
chunks and is killed once some chunks are committed. Like the concurrency
tests, this works on committed data of a company of its own, removed at the end.
"""
import signal
import subprocess
import tempfile
import time
from datetime import date

from odoo import SUPERUSER_ID, api
from odoo.tests.common import get_db_name
from odoo.tools import SQL

from odoo.addons.account_online_synchronization.models.online_link import LOCK_NAMESPACE

from odoo_cli import odoo_command
from online_sync_case import bank_posted_ids
from committed_data import line_identifiers

CHUNK_SIZE = 20
KILL_AFTER = 3 * CHUNK_SIZE
SYNC_SCRIPT = """
from odoo.addons.account_online_synchronization.models import online_account
online_account.CHUNK_SIZE = {chunk_size}
env["online.link"].browse({link_id})._fetch_transactions(unattended=True)
"""


def start_worker(link_id, log):
    """An `odoo shell` process synchronizing the link, committing every chunk of CHUNK_SIZE lines."""
    worker = subprocess.Popen(
        odoo_command("shell", "-d", get_db_name(), "--no-http"),
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log, text=True,
    )
    worker.stdin.write(SYNC_SCRIPT.format(chunk_size=CHUNK_SIZE, link_id=link_id))
    worker.stdin.close()
    return worker


def kill_when_lines_committed(worker, log, registry, account_id, count, timeout=300):
    """SIGKILL the worker as soon as ``count`` lines of the account are committed."""
    deadline = time.monotonic() + timeout
    while len(line_identifiers(registry, account_id)) < count:
        if worker.poll() is not None:
            log.seek(0)
            raise AssertionError(f"the worker ended before it was killed: {log.read()[-2000:]}")
        assert time.monotonic() < deadline, "the worker committed nothing in time"
        time.sleep(0.1)
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=30) == -signal.SIGKILL


def advisory_locks(registry, link_id):
    with registry.cursor() as cr:
        cr.execute(SQL(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s",
            LOCK_NAMESPACE, link_id,
        ))
        return cr.fetchone()[0]


def check_consistency(env, account, interrupted=False):
    """Every line once, with its posted balanced entry, in statements whose balances chain; return the lines.

    After an ``interrupted`` import, the statement being filled may end on the bank's balance of a day
    whose other lines were not committed yet: it is incomplete until the next run, every earlier one is
    complete.
    """
    lines = env["account.bank.statement.line"].search([("online_account_id", "=", account.id)])
    identifiers = lines.mapped("online_transaction_identifier")
    assert len(identifiers) == len(set(identifiers)), "no transaction imported twice"
    assert set(lines.move_id.mapped("state")) == {"posted"}, "every line has its posted journal entry"
    for move in lines.move_id:
        assert len(move.line_ids) >= 2 and move.company_currency_id.is_zero(sum(move.line_ids.mapped("balance")))
    assert all(lines.mapped("statement_id")), "every line is in a statement"
    previous_end = account.opening_balance
    statements = env["account.bank.statement"].search(
        [("journal_id", "=", account.journal_id.id)]).sorted("first_line_index")
    for statement in statements:
        currency = statement.currency_id
        assert not currency.compare_amounts(statement.balance_start, previous_end), "the balances chain"
        total = sum(statement.line_ids.mapped("amount"))
        if not (interrupted and statement == statements[-1]):
            assert not currency.compare_amounts(statement.balance_end_real, statement.balance_start + total)
        previous_end = statement.balance_end_real
    return lines


def test_a_worker_killed_mid_sync_leaves_a_consistent_database(registry, committed_link):
    _company_id, link_id, account_id = committed_link
    with tempfile.TemporaryFile("w+") as log:
        worker = start_worker(link_id, log)
        kill_when_lines_committed(worker, log, registry, account_id, KILL_AFTER)

    # The database holds exactly the committed chunks, consistent.
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        link, account = env["online.link"].browse(link_id), env["online.account"].browse(account_id)
        bank_ids = bank_posted_ids(link, account, account.first_sync_date)
        lines = check_consistency(env, account, interrupted=True)
        assert KILL_AFTER <= len(lines) < len(bank_ids), "killed in the middle of the synchronization"
        assert len(lines) % CHUNK_SIZE == 0, "only whole chunks are committed"
        assert set(lines.mapped("online_transaction_identifier")) <= bank_ids
        assert account.last_sync == max(lines.mapped("date")), "not past the last committed line"
        killed_at = len(lines)

    # PostgreSQL releases the dead worker's lock once it sees the connection closed.
    deadline = time.monotonic() + 30
    while advisory_locks(registry, link_id):
        assert time.monotonic() < deadline, "the dead worker's lock is still held"
        time.sleep(0.2)

    # The next run catches up exactly to the bank's posted transactions.
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["online.link"].browse(link_id)._fetch_transactions(unattended=False)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        link, account = env["online.link"].browse(link_id), env["online.account"].browse(account_id)
        lines = check_consistency(env, account)
        assert set(lines.mapped("online_transaction_identifier")) == bank_ids
        assert link.state == "connected"
        assert account.last_sync == date.today()
    assert not advisory_locks(registry, link_id)
    print(f"\nWorker killed with {killed_at} lines committed; the next run completed the account: "
          f"{len(bank_ids)} transactions, no duplicate")
