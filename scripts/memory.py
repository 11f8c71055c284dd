# Import MEMORY_N sandbox transactions into one account through the product's own path (the
# scheduler's Fetch Transactions, the sandbox bank generating its pages as it does in production),
# print the process's memory as the import goes, then time a re-synchronization of the same period.
#
# Run inside an Odoo shell, which provides `env`, on a fresh database with the addon installed:
#   MEMORY_N=10000 odoo shell -d DB --no-http < scripts/memory.py
# MEMORY_DAYS: the period the lines are spread over (default 365).
# MEMORY_TRACEMALLOC=1 also prints, at each quarter of the import, the Python allocations that grew
# since the first chunk, by source line (slow).
import math
import os
import resource
import time
import tracemalloc
from datetime import date, timedelta

from odoo.addons.account_online_synchronization.providers.sandbox import SandboxProvider

N = int(os.environ.get("MEMORY_N", "10000"))
DAYS = int(os.environ.get("MEMORY_DAYS", "365"))
TRACE = os.environ.get("MEMORY_TRACEMALLOC", "") not in ("", "0")
TODAY = date.today()
FIRST_DATE = TODAY - timedelta(days=DAYS)
ACCOUNT_ID = "sandbox_bank-memory-cur"
#: The sandbox books between 0 and twice ``daily_volume`` transactions a day.
TOKENS = {
    "connection_id": "sandbox_bank-memory", "institution_id": "sandbox_bank", "opened_on": TODAY.isoformat(),
    "consent_granted_on": TODAY.isoformat(), "daily_volume": math.ceil(N / DAYS), "access_token": "memory",
}
MIB = 1024 * 1024


def out(text=""):
    print(text, flush=True)


def rss_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class BankClock:
    """Time spent inside the sandbox bank, which a real bank spends on its own servers."""

    seconds = cpu = 0.0

    def __init__(self):
        for name in ("list_accounts", "list_transactions"):
            setattr(SandboxProvider, name, self.timed(getattr(SandboxProvider, name)))

    def timed(self, method):
        def timed_method(provider, *args, **kwargs):
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return method(provider, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.cpu += time.process_time() - cpu
        return timed_method


class Probe:
    """Samples the memory after each committed chunk of the import."""

    def __init__(self, env, journal):
        self.env, self.journal = env, journal
        self.samples = []
        self.snapshots = []
        self.started = time.perf_counter()
        link_model = type(env["online.link"])
        import_progress = link_model._import_progress
        probe = self

        def sampled(link, account, finished=False):
            probe.sample()
            return import_progress(link, account, finished=finished)
        link_model._import_progress = sampled

    def lines(self):
        self.env.cr.execute("SELECT count(*) FROM account_bank_statement_line WHERE journal_id = %s",
                            [self.journal.id])
        return self.env.cr.fetchone()[0]

    def sample(self):
        lines = self.lines()
        if self.samples and lines == self.samples[-1][0]:
            return
        self.samples.append((lines, rss_mib(), peak_rss_mib()))
        out(f"  {lines:>7} lines  {time.perf_counter() - self.started:8.1f} s  RSS {rss_mib():7.1f} MiB  "
            f"peak {peak_rss_mib():7.1f} MiB")
        if TRACE and (not self.snapshots or lines >= len(self.snapshots) * N / 4):
            self.snapshots.append((lines, tracemalloc.take_snapshot()))
            if len(self.snapshots) > 1:
                self.report_growth()
            else:
                out("  held after the first chunk (Python allocations, by line):")
                for stat in self.snapshots[0][1].statistics("lineno")[:12]:
                    out(f"    {stat.size / MIB:8.1f} MiB {stat.count:9d} blocks  {stat.traceback[0]}")

    def report_growth(self):
        (first_lines, first), (lines, last) = self.snapshots[0], self.snapshots[-1]
        out(f"  grown from {first_lines} to {lines} lines (Python allocations, by line):")
        for stat in last.compare_to(first, "lineno")[:12]:
            out(f"    {stat.size_diff / MIB:+8.1f} MiB {stat.count_diff:+9d} blocks  {stat.traceback[0]}")


def setup(env):
    """A sandbox connection whose current account feeds a new journal from FIRST_DATE."""
    link = env["online.link"].create({"name": "Sandbox Bank", "provider": "sandbox",
                                      "institution_identifier": "sandbox_bank"})
    link._set_tokens(dict(TOKENS))
    account = link._fetch_accounts().filtered(lambda a: a.provider_account_id == ACCOUNT_ID)
    return link, account, account._link_to_journal(None, FIRST_DATE)


def synchronize(env, link):
    env.cr.commit()
    start, cpu = time.perf_counter(), time.process_time()
    if link._fetch_transactions(unattended=True):
        raise SystemExit(f"FAILED: the synchronization failed: {link.error_message}")
    return time.perf_counter() - start, time.process_time() - cpu


def main(env):
    bank = BankClock()
    link, account, journal = setup(env)
    probe = Probe(env, journal)
    if TRACE:
        tracemalloc.start()
    rss_before = rss_mib()
    out(f"Importing about {N} lines over {DAYS} days into one account (RSS before: {rss_before:.1f} MiB, load "
        f"average {os.getloadavg()[0]:.1f}) ...")
    seconds, cpu = synchronize(env, link)
    env.invalidate_all()
    lines = probe.lines()
    out(f"First import: {lines} lines in {seconds:.1f} s (CPU {cpu:.1f} s; the sandbox bank {bank.seconds:.1f} s, "
        f"CPU {bank.cpu:.1f} s); peak RSS {peak_rss_mib():.1f} MiB, {peak_rss_mib() - rss_before:+.1f} MiB")
    if TRACE:
        tracemalloc.stop()
    account.sudo().last_sync = False  # the re-synchronization reads the whole period again
    bank.seconds = bank.cpu = 0.0
    again, again_cpu = synchronize(env, link)
    if probe.lines() != lines:
        raise SystemExit(f"FAILED: the re-synchronization changed the journal from {lines} to {probe.lines()} lines")
    out(f"Re-synchronization of the same {lines} lines: {again:.2f} s (CPU {again_cpu:.2f} s; the sandbox bank "
        f"{bank.seconds:.2f} s, CPU {bank.cpu:.2f} s); without the bank: {again - bank.seconds:.2f} s (CPU "
        f"{again_cpu - bank.cpu:.2f} s); nothing imported")
    out(f"Peak RSS {peak_rss_mib():.1f} MiB ({peak_rss_mib() - rss_before:+.1f} MiB over the {rss_before:.1f} "
        "MiB before the import)")


main(env)
