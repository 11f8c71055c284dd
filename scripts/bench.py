# Import the same BENCH_N sandbox transactions into one journal with one
# contender, then import the same period again (which must create nothing), and
# print the measures of both passes as a RESULT line for scripts/bench_report.py.
#
# Run inside an Odoo shell, which provides `env`, on a fresh database:
#   BENCH_CONTENDER=project BENCH_N=1000 odoo shell -d DB --no-http < scripts/bench.py
# Contenders:
#   project  this addon: the sandbox connection, Fetch Transactions as the scheduler runs it
#   oca      OCA's account_statement_import_online 18.0: its scheduled pull, monthly statements,
#            from a provider serving the same transactions (registered by this script only)
#   naive    Odoo's account.bank.statement.line create, 500 lines a call, committed between calls
# Every contender gets the transactions from memory: the sandbox bank computes them before the passes.
# Each pass reports its wall time, the Odoo process's CPU time and the CPU time of the PostgreSQL
# backends serving the database (read from /proc: the database server must run on this machine).
# BENCH_TRACEMALLOC=1 also reports the Python allocation peak of each pass (slow).
import json
import math
import os
import resource
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta

from odoo import fields
from odoo.tools import split_every

from odoo.addons.account_online_synchronization.providers.sandbox import SandboxProvider

N = int(os.environ.get("BENCH_N", "1000"))
CONTENDER = os.environ.get("BENCH_CONTENDER", "project")
TRACE = os.environ.get("BENCH_TRACEMALLOC", "") not in ("", "0")
CURRENCY = "EUR"
BATCH = 500
TODAY = date.today()
DAYS = min(365, max(30, N // 20))
FIRST_DATE = TODAY - timedelta(days=DAYS)
#: The same bank account for every contender: the sandbox derives its history from these ids.
TOKENS = {
    "connection_id": "sandbox_bank-bench", "institution_id": "sandbox_bank", "opened_on": TODAY.isoformat(),
    "consent_granted_on": TODAY.isoformat(), "daily_volume": math.ceil(N / DAYS), "access_token": "bench",
}
ACCOUNT_ID = "sandbox_bank-bench-cur"


def serve_from_memory():
    """Make the sandbox bank compute each day of history once, so that no pass times the bank itself."""
    generate = SandboxProvider._day_transactions
    days = {}

    def day_transactions(provider, tokens, account_id, currency, day):
        key = (account_id, currency, day)
        if key not in days:
            days[key] = generate(provider, tokens, account_id, currency, day)
        return days[key]
    SandboxProvider._day_transactions = day_transactions


def out(text=""):
    print(text, flush=True)


def fail(text):
    out(f"FAILED: {CONTENDER}: {text}")
    sys.exit(1)


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bank_transactions(date_from=FIRST_DATE):
    """The posted transactions the sandbox bank holds from ``date_from`` to today."""
    provider, tokens = SandboxProvider(), dict(TOKENS)
    transactions, cursor = [], None
    while True:
        page = provider.list_transactions(tokens, ACCOUNT_ID, date_from, cursor=cursor, unattended=True)
        transactions += [t for t in page.transactions if t.is_posted and t.booking_date <= TODAY]
        if not page.next_cursor:
            return transactions
        cursor = page.next_cursor


def line_vals(env, transaction):
    """The statement line values every contender gives a transaction (the project builds its own)."""
    vals = {
        "date": transaction.booking_date,
        "payment_ref": transaction.label or transaction.counterparty_name or "/",
        "amount": float(transaction.amount),
        "partner_name": transaction.counterparty_name or False,
        "account_number": transaction.counterparty_account or False,
        "transaction_details": transaction.payload,
    }
    if transaction.foreign_currency and transaction.foreign_amount is not None:
        vals["foreign_currency_id"] = currency(env, transaction.foreign_currency).id
        vals["amount_currency"] = float(transaction.foreign_amount)
    return vals


def currency(env, code):
    found = env["res.currency"].with_context(active_test=False).search([("name", "=", code)])
    if not found.active:
        found.active = True
    return found


def bank_journal(env, **vals):
    return env["account.journal"].create({
        "name": "Bench Bank", "type": "bank", "code": "BNCH", "currency_id": currency(env, CURRENCY).id, **vals,
    })


def journal_lines(env, journal):
    env.cr.execute("SELECT count(*) FROM account_bank_statement_line WHERE journal_id = %s", [journal.id])
    return env.cr.fetchone()[0]


# contenders: set up, then return a function that runs one pass ------------------------------


def project(env):
    link = env["online.link"].create({
        "name": "Sandbox Bank", "provider": "sandbox", "institution_identifier": "sandbox_bank",
    })
    link._set_tokens(dict(TOKENS))
    account = link._fetch_accounts().filtered(lambda a: a.provider_account_id == ACCOUNT_ID)
    journal = account._link_to_journal(None, FIRST_DATE)
    env.cr.commit()

    def run():
        account.sudo().last_sync = False  # the second pass fetches the whole period again
        env.cr.commit()
        if link._fetch_transactions(unattended=True):
            fail(f"the synchronization failed: {link.error_message}")
    return journal, run


def oca(env):
    provider_model = type(env["online.bank.statement.provider"])
    standard = provider_model._obtain_statement_data
    transactions = bank_transactions()

    def obtain_statement_data(provider, date_since, date_until):
        """The OCA provider hook, serving the sandbox transactions booked in [since, until)."""
        if provider.service != "dummy":
            return standard(provider, date_since, date_until)
        lines = []
        for transaction in transactions:
            booked = datetime.combine(transaction.booking_date, datetime.min.time())
            if date_since <= booked < date_until:
                lines.append(dict(line_vals(env, transaction), date=booked, unique_import_id=transaction.id))
        return lines, {}

    provider_model._obtain_statement_data = obtain_statement_data
    journal = bank_journal(env, bank_statements_source="online")
    provider = env["online.bank.statement.provider"].create({
        "journal_id": journal.id, "service": "dummy", "statement_creation_mode": "monthly",
        "interval_type": "days", "interval_number": 1,
    })
    env.cr.commit()

    def run():
        # The scheduler's pull of everything since the first date (again, for the second pass).
        provider.write({"last_successful_run": datetime.combine(FIRST_DATE, datetime.min.time()),
                        "next_run": fields.Datetime.now()})
        env.cr.commit()
        provider._scheduled_pull()
        env.cr.commit()
    return journal, run


def naive(env):
    journal = bank_journal(env)
    env.cr.commit()

    def run():
        transactions = bank_transactions()
        env.cr.execute("""SELECT transaction_details->>'transactionId' FROM account_bank_statement_line
                           WHERE journal_id = %s""", [journal.id])
        known = {row[0] for row in env.cr.fetchall()}
        lines = env["account.bank.statement.line"]
        for batch in split_every(BATCH, [t for t in transactions if t.id not in known], list):
            lines.create([dict(line_vals(env, t), journal_id=journal.id) for t in batch])
            env.cr.commit()
    return journal, run


def database_cpu(env):
    """CPU seconds used so far by each PostgreSQL backend serving this database, by process id.

    The database server runs on this machine: its backends' CPU time is read from /proc.
    """
    env.cr.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    used = {}
    for (pid,) in env.cr.fetchall():
        try:
            with open(f"/proc/{pid}/stat") as stat:
                values = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime and stime, the 14th and 15th fields, in clock ticks.
        used[pid] = (int(values[11]) + int(values[12])) / os.sysconf("SC_CLK_TCK")
    return used


def measure(env, run):
    if TRACE:
        tracemalloc.start()
    queries = env.cr.sql_log_count
    database = database_cpu(env)
    start, cpu = time.perf_counter(), time.process_time()
    run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    database = sum(used - database.get(pid, 0) for pid, used in database_cpu(env).items())
    queries = env.cr.sql_log_count - queries
    trace_peak = None
    if TRACE:
        trace_peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    env.invalidate_all()
    return {"seconds": seconds, "cpu": cpu, "database_cpu": database, "queries": queries, "rss": peak_rss_mib(),
            "trace": trace_peak}


def main(env):
    if N < 1:
        fail(f"BENCH_N must be a positive number, not {N}")
    setup = {"project": project, "oca": oca, "naive": naive}.get(CONTENDER)
    if not setup:
        fail("BENCH_CONTENDER must be project, oca or naive")
    serve_from_memory()
    expected = len(bank_transactions())
    journal, run = setup(env)
    rss_before = peak_rss_mib()
    load = os.getloadavg()[0]
    first = measure(env, run)
    lines = journal_lines(env, journal)
    if lines != expected:
        fail(f"the first import made {lines} statement lines for {expected} bank transactions")
    again = measure(env, run)
    if journal_lines(env, journal) != lines:
        fail(f"the second import changed the journal from {lines} to {journal_lines(env, journal)} lines")
    env.cr.execute("""SELECT count(*) FROM account_move m JOIN account_bank_statement_line l ON l.move_id = m.id
                       WHERE l.journal_id = %s AND m.state = 'posted'""", [journal.id])
    posted = env.cr.fetchone()[0]
    if posted != lines:
        fail(f"only {posted} of {lines} entries are posted")
    out("RESULT " + json.dumps({
        "contender": CONTENDER, "n": N, "lines": lines, "rss_before": rss_before, "load": load, "first": first, "again": again,
    }))


main(env)
