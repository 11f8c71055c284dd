"""Print the table of a `make bench` run and the ratios between its contenders.

    python3 scripts/bench_report.py RESULTS.jsonl [OCA_VERSION]

Each line of RESULTS.jsonl is the RESULT of one run of scripts/bench.py. With
several rounds, the median of each measure is shown.
"""
import json
import os
import statistics
import sys
from datetime import datetime, timezone

NAMES = {
    "project": "this addon",
    "oca": "OCA account_statement_import_online",
    "naive": "Odoo batched create",
}


def median(runs, *keys):
    values = []
    for run in runs:
        value = run
        for key in keys:
            value = value[key]
        values.append(value)
    return statistics.median(values)


def total_cpu(row):
    """The CPU time of the first import in the Odoo process and the database server together."""
    return row["cpu"] + row["database_cpu"]


def main(path, oca_version=""):
    with open(path) as results:
        runs = [json.loads(line) for line in results if line.strip()]
    if not runs:
        sys.exit("no result: every run failed")
    by_size = {}
    for run in runs:
        by_size.setdefault(run["n"], {}).setdefault(run["contender"], []).append(run)
    load = os.getloadavg()
    print()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
          + (f"; OCA account_statement_import_online {oca_version}" if oca_version else ""))
    header = (f"{'N':>6} {'contender':<38} {'runs':>4} {'lines':>6} {'first s':>8} {'CPU s':>7} {'DB CPU s':>8} "
              f"{'lines/s':>8} "
              f"{'q/line':>7} {'again s':>8} {'again q':>8} {'peak RSS MiB':>12} {'growth MiB':>10} {'load':>5}")
    print(header)
    print("-" * len(header))
    summary = {}
    for n, contenders in sorted(by_size.items()):
        for contender in ("project", "oca", "naive"):
            measures = contenders.get(contender)
            if not measures:
                continue
            lines = median(measures, "lines")
            first = median(measures, "first", "seconds")
            row = {
                "first": first,
                "cpu": median(measures, "first", "cpu"),
                "database_cpu": median([run["first"].get("database_cpu", 0.0) for run in measures]),
                "again": median(measures, "again", "seconds"),
                "queries": median(measures, "first", "queries") / lines,
                "rss": median(measures, "again", "rss"),
                "growth": median([{"g": run["again"]["rss"] - run["rss_before"]} for run in measures], "g"),
            }
            summary[(n, contender)] = row
            print(f"{n:>6} {NAMES[contender]:<38} {len(measures):>4} {lines:>6} {first:>8.2f} {row['cpu']:>7.2f} "
                  f"{row['database_cpu']:>8.2f} {lines / first:>8.1f} "
                  f"{row['queries']:>7.2f} {row['again']:>8.3f} {median(measures, 'again', 'queries'):>8} "
                  f"{row['rss']:>12.1f} {row['growth']:>10.1f} {median(measures, 'load'):>5.1f}")
    print()
    print("CPU s: the Odoo process's own CPU time for the first import; DB CPU s: the CPU time of the")
    print("PostgreSQL backends serving it. Both are less affected than the wall time by other loads on the machine.")
    print("q/line: SQL queries per imported line; again: the re-import of the same period; growth: peak RSS")
    print("minus the RSS before the first pass (the benchmark keeps the bank's history in memory);")
    print("load: the machine's load average when the first import started.")
    print()
    print("Ratios: the other contender's figure divided by this addon's (higher is better for this addon).")
    print(f"{'N':>6} {'against':<38} {'first import':>12} {'first CPU':>10} {'CPU+DB':>8} {'re-import':>10} "
          f"{'queries/line':>12} "
          f"{'peak RSS':>9}")
    for (n, contender), row in sorted(summary.items()):
        mine = summary.get((n, "project"))
        if contender == "project" or not mine:
            continue
        print(f"{n:>6} {NAMES[contender]:<38} {row['first'] / mine['first']:>11.2f}x {row['cpu'] / mine['cpu']:>9.2f}x "
              f"{total_cpu(row) / total_cpu(mine):>7.2f}x "
              f"{row['again'] / mine['again']:>9.2f}x {row['queries'] / mine['queries']:>11.2f}x "
              f"{row['rss'] / mine['rss']:>8.2f}x")


if __name__ == "__main__":
    main(*sys.argv[1:])
