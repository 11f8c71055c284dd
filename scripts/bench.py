# Import about BENCH_N sandbox transactions into one journal, then synchronize
# the same period again (which must import nothing), and print time, throughput,
# peak memory and SQL query count of both passes.
#
# Run inside an Odoo shell, which provides `env`:
#   BENCH_N=1000 odoo shell -d DB --no-http < scripts/bench.py
# BENCH_TRACEMALLOC=1 also reports the Python allocation peak of each pass
# (it slows the passes down noticeably).
import math
import os
import resource
import sys
import time
import tracemalloc
from datetime import timedelta

from odoo import fields

N = int(os.environ.get("BENCH_N", "1000"))
TRACE = os.environ.get("BENCH_TRACEMALLOC", "") not in ("", "0")
ACCOUNT_NAME = "Current Account"


def out(text=""):
    print(text, flush=True)


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def journal_counts(env, journal):
    env.cr.execute(
        """SELECT count(*), count(DISTINCT online_transaction_identifier)
             FROM account_bank_statement_line WHERE journal_id = %s""",
        [journal.id],
    )
    return env.cr.fetchone()


def run_pass(env, link, account):
    """Synchronize once; return the measures of the pass."""
    if TRACE:
        tracemalloc.start()
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    failures = link._fetch_transactions(unattended=True)
    seconds = time.perf_counter() - start
    queries = env.cr.sql_log_count - queries
    trace_peak = None
    if TRACE:
        trace_peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    if failures:
        out(f"FAILED: the synchronization failed: {link.error_message} (reference {link.error_reference})")
        sys.exit(1)
    account.invalidate_recordset()
    return {
        "imported": account.last_sync_imported,
        "seconds": seconds,
        "rss": peak_rss_mib(),
        "trace": trace_peak,
        "queries": queries,
    }


def main(env):
    if N < 1:
        out(f"FAILED: BENCH_N must be a positive number, not {N}")
        sys.exit(1)
    today = fields.Date.today()
    days = min(365, max(30, N // 20))
    volume = math.ceil(N / days)
    first_sync_date = today - timedelta(days=days)

    link = env["online.link"].create({
        "name": "Sandbox Bank",
        "provider": "sandbox",
        "institution_identifier": "sandbox_bank",
    })
    tokens = link._get_provider().complete_connection("sandbox_bank", {"daily_volume": volume})
    link._set_tokens(tokens)
    accounts = link._fetch_accounts()
    account = accounts.filtered(lambda a: a.name == ACCOUNT_NAME and a.currency_id.name == "EUR")[:1]
    if not account:
        out(f"FAILED: the sandbox bank has no {ACCOUNT_NAME} in EUR")
        sys.exit(1)
    journal = account._link_to_journal(None, first_sync_date)
    env.cr.commit()

    out(f"Benchmark: about {N} transactions requested; {days} days from {first_sync_date} "
        f"at {volume} transactions a day on average")
    out(f"Journal {journal.name} [{journal.code}], connection #{link.id}; "
        f"peak RSS before the first pass: {peak_rss_mib():.1f} MiB")

    first = run_pass(env, link, account)
    lines, distinct = journal_counts(env, journal)
    out(f"Pass 1 imported {first['imported']} statement lines in {first['seconds']:.1f} s.")

    # Synchronize the same period again: forget how far the account got, so
    # that every transaction since the first synchronization date is fetched
    # again and must be recognized as already imported.
    account.last_sync = False
    env.cr.commit()
    second = run_pass(env, link, account)
    lines_after, distinct_after = journal_counts(env, journal)

    rows = [("1 first import", first, first["imported"]), ("2 same period again", second, first["imported"])]
    header = f"{'pass':<20} {'imported':>8} {'seconds':>8} {'lines/s':>8} {'peak RSS MiB':>12} {'SQL queries':>11}"
    if TRACE:
        header += f" {'py peak MiB':>11}"
    out("")
    out(header)
    out("-" * len(header))
    for label, measure, handled in rows:
        rate = handled / measure["seconds"] if measure["seconds"] else 0.0
        row = (f"{label:<20} {measure['imported']:>8} {measure['seconds']:>8.2f} {rate:>8.1f} "
               f"{measure['rss']:>12.1f} {measure['queries']:>11}")
        if TRACE:
            row += f" {measure['trace']:>11.1f}"
        out(row)
    out("")
    out("lines/s: lines imported per second (pass 1), or lines fetched again and recognized")
    out("as already imported per second (pass 2). Peak RSS is the process high-water mark.")

    env.cr.commit()
    out("")
    if lines_after != distinct_after:
        out(f"FAILED: duplicates: the journal holds {lines_after} statement lines but only "
            f"{distinct_after} distinct bank transactions.")
        sys.exit(1)
    if lines_after != lines or second["imported"]:
        if fields.Date.today() != today:
            # Midnight passed: yesterday's pending transactions are posted now.
            out(f"Pass 2 imported {second['imported']} lines posted since midnight; no duplicate "
                f"({lines_after} lines, {distinct_after} distinct transactions).")
            return
        out(f"FAILED: pass 2 imported {second['imported']} lines ({lines} -> {lines_after} in the journal) "
            f"although the bank had nothing new.")
        sys.exit(1)
    out(f"OK: pass 2 imported 0 lines; the journal holds {lines_after} statement lines, "
        f"{distinct_after} distinct bank transactions, no duplicate.")


main(env)
