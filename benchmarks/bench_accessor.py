"""How fast ``df.statsig`` answers on a big frame, against the obvious pandas one-liners.

    .venv/bin/python benchmarks/bench_accessor.py [--rows 10000000] [--users 100000] [--repeat 9]

Builds a frame of the reader's dtypes (``synthetic_frame``: 30 days, sorted by
time as the reader returns it), then times each operation and its one-liner
alternately in the same run, ``--repeat`` times each, and prints the best and
median times and the ratio of the best ones (as ``timeit`` does: the best run
is the one least disturbed by other work on the machine), and whether the
targets hold: none slower than its one-liner, ``unique_users`` at least 2x
faster, each under 2 s. Every result is also checked against its one-liner's,
so a fast wrong answer cannot pass. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import pandas as pd

import statsig_pandas  # noqa: F401  (registers df.statsig)
from statsig_pandas.testing import synthetic_frame

DAY_MS = 86_400_000
END_MS = 1_775_000_000_000  # fixed: every run builds the same frame


def same_counts(ours: pd.Series, theirs: pd.Series) -> bool:
    """The one-liners list only buckets with events; ours lists every bucket (empty ones as 0)."""
    return ours[ours > 0].to_dict() == theirs[theirs > 0].astype("int64").to_dict()


def same_table(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    theirs = theirs.reindex(ours.index, fill_value=0)
    return all(ours[c].tolist() == theirs[c].tolist() for c in ours.columns) and len(ours.columns) == len(
        theirs.columns)


def cases(df: pd.DataFrame):
    """(name, ours, one-liner, check) for each timed operation."""
    ts = df["timestamp"]
    return [
        ("value_counts()",
         lambda: df.statsig.value_counts(),
         lambda: df["value"].value_counts(),
         lambda a, b: a.to_dict() == b.astype("int64").to_dict()),
        ('timeline("h")',
         lambda: df.statsig.timeline("h"),
         lambda: df.groupby(ts.dt.floor("h")).size(),
         same_counts),
        ('timeline("h", by="source")',
         lambda: df.statsig.timeline("h", by="source"),
         lambda: df.groupby([ts.dt.floor("h"), "source"], observed=True).size().unstack(fill_value=0),
         same_table),
        ('unique_users("D")',
         lambda: df.statsig.unique_users("D"),
         lambda: df.groupby(ts.dt.floor("D"))["userID"].nunique(),
         same_counts),
    ]


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)

    seconds, df = timed(lambda: synthetic_frame(args.rows, seed=1, end_ms=END_MS, span_ms=30 * DAY_MS,
                                                users=args.users))
    print(f"frame: {len(df):,} rows, {df['userID'].nunique():,} users, {df['value'].nunique():,} values, "
          f"30 days; built in {seconds:.1f} s; pandas {pd.__version__}, numpy {np.__version__}")
    print(f"{'operation':28} {'ours: best (median)':>20} {'one-liner: best (median)':>25} {'speed-up':>9}  target")
    ok = True
    for name, ours, baseline, check in cases(df):
        ours_times, base_times = [], []
        for _ in range(args.repeat):  # alternate, so both see the same machine load
            t, ours_result = timed(ours)
            ours_times.append(t)
            t, base_result = timed(baseline)
            base_times.append(t)
        if not check(ours_result, base_result):
            print(f"{name:28} WRONG RESULT: differs from the one-liner's")
            ok = False
            continue
        ours_s, base_s = min(ours_times), min(base_times)
        ratio = base_s / ours_s
        need = 2.0 if name.startswith("unique_users") else 1.0
        met = ratio >= need and ours_s < 2.0
        ok &= met
        print(f"{name:28} {ours_s:9.3f}s ({statistics.median(ours_times):.3f}s) "
              f"{base_s:13.3f}s ({statistics.median(base_times):.3f}s) {ratio:8.2f}x  >={need:.0f}x, <2 s: "
              f"{'met' if met else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
