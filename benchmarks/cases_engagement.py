"""Lifecycle, stickiness, sessions and paths, each against DuckDB SQL and a straightforward pandas version.

``cases(df)`` returns one :class:`Case` per analysis: our call, the same answer
computed by DuckDB over the same frame (handed over once as an Arrow table,
with the row position as the tie-break our order uses), and by plain pandas
(sort, group, shift), all three turned into the same plain Python structure
by ``answer`` so that a fast wrong answer cannot pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

import statsig_pandas  # noqa: F401  (registers df.statsig)

GAP_MS = 30 * 60 * 1000


@dataclass
class Case:
    name: str
    ours: Callable[[], Any]
    duckdb: Callable[[], Any]
    pandas: Callable[[], Any]
    answer: Callable[[Any], Any]  # any of the three results -> a comparable value


def _units(df: pd.DataFrame) -> pd.DataFrame:
    """The rows with a unit, their time as epoch ms, and their row position."""
    keep = df["userID"].notna() & (df["userID"] != "")
    out = pd.DataFrame({"u": df["userID"], "t": df["timestamp"].to_numpy(dtype="M8[ms]").view("i8"),
                        "name": df["name"], "row": np.arange(len(df))})
    return out[keep.to_numpy()] if not keep.all() else out


# ---------------------------------------------------------------- lifecycle


def lifecycle_pandas(df: pd.DataFrame) -> pd.DataFrame:
    ev = _units(df)
    week = (ev["t"] // 86_400_000 + 3) // 7  # weeks since Monday 1969-12-29, in UTC
    pairs = pd.DataFrame({"u": ev["u"], "w": week}).drop_duplicates().sort_values(["u", "w"])
    prev = pairs.groupby("u", sort=False)["w"].shift()
    nxt = pairs.groupby("u", sort=False)["w"].shift(-1)
    first_w, last_w = int(week.min()), int(((df["timestamp"].max().value // 10**6) // 86_400_000 + 3) // 7)
    out = pd.DataFrame(0, index=range(first_w, last_w + 1), columns=["new", "returning", "resurrecting", "dormant"])
    out["new"] = pairs["w"][prev.isna()].value_counts()
    out["returning"] = pairs["w"][prev == pairs["w"] - 1].value_counts()
    out["resurrecting"] = pairs["w"][prev.notna() & (prev != pairs["w"] - 1)].value_counts()
    out["dormant"] = -(pairs["w"][nxt != pairs["w"] + 1] + 1).value_counts()
    return out.fillna(0).astype("int64").iloc[1:]


LIFECYCLE_SQL = """
WITH pairs AS (
    SELECT DISTINCT u, date_trunc('week', ts) AS b FROM ev
), marked AS (
    SELECT b, lag(b) OVER (PARTITION BY u ORDER BY b) AS prev, lead(b) OVER (PARTITION BY u ORDER BY b) AS nxt
    FROM pairs
), span AS (SELECT date_trunc('week', min(ts)) AS lo, date_trunc('week', max(ts)) AS hi FROM ev_all),
active AS (
    SELECT b, count(*) FILTER (WHERE prev IS NULL) AS new,
           count(*) FILTER (WHERE prev = b - INTERVAL 7 DAY) AS "returning",
           count(*) FILTER (WHERE prev < b - INTERVAL 7 DAY) AS resurrecting
    FROM marked GROUP BY b
), gone AS (
    SELECT b + INTERVAL 7 DAY AS b, -count(*) AS dormant FROM marked
    WHERE nxt IS NULL OR nxt <> b + INTERVAL 7 DAY GROUP BY 1
)
SELECT g.b AS bucket, coalesce(new, 0) AS new, coalesce("returning", 0) AS "returning",
       coalesce(resurrecting, 0) AS resurrecting, coalesce(dormant, 0) AS dormant
FROM span, generate_series(span.lo + INTERVAL 7 DAY, span.hi, INTERVAL 7 DAY) AS g(b)
LEFT JOIN active USING (b) LEFT JOIN gone USING (b) ORDER BY 1
"""


# ---------------------------------------------------------------- stickiness


def stickiness_pandas(df: pd.DataFrame) -> pd.Series:
    ev = _units(df)
    lo, hi = int(df["timestamp"].min().value // 10**6), int(df["timestamp"].max().value // 10**6)
    day = ev["t"] // 86_400_000
    week = (day + 3) // 7
    start = week * 7 - 3  # the week's Monday, in days
    whole = (start * 86_400_000 >= lo) & ((start + 7) * 86_400_000 <= hi + 1)
    counts = pd.DataFrame({"u": ev["u"], "w": week, "d": day})[whole].groupby(["u", "w"])["d"].nunique()
    return counts.value_counts().reindex(range(1, 8), fill_value=0).sort_index()


STICKINESS_SQL = """
WITH span AS (SELECT min(ts) AS lo, max(ts) + INTERVAL 1 MILLISECOND AS hi FROM ev_all),
per_week AS (
    SELECT u, date_trunc('week', ts) AS w, count(DISTINCT date_trunc('day', ts)) AS days
    FROM ev, span
    WHERE date_trunc('week', ts) >= span.lo AND date_trunc('week', ts) + INTERVAL 7 DAY <= span.hi
    GROUP BY ALL
)
SELECT days AS active, count(*) AS units FROM per_week GROUP BY 1 ORDER BY 1
"""


# ---------------------------------------------------------------- sessions


def _sessions_pandas(df: pd.DataFrame) -> pd.DataFrame:
    ev = _units(df).sort_values(["u", "t", "row"], kind="stable")
    new_unit = ev["u"].ne(ev["u"].shift()).to_numpy(dtype=bool, na_value=True)
    starts = new_unit | (ev["t"].diff() >= GAP_MS).to_numpy()
    ev["session"] = starts.cumsum() - 1
    return ev


def sessions_pandas(df: pd.DataFrame) -> pd.DataFrame:
    ev = _sessions_pandas(df)
    out = ev.groupby("session", sort=False).agg(u=("u", "first"), start=("t", "first"), end=("t", "last"),
                                                events=("t", "size"), first_event=("name", "first"),
                                                last_event=("name", "last"))
    out["session"] = out.groupby("u", sort=False).cumcount()
    return out


SESSIONS_SQL = f"""
WITH marked AS (
    SELECT u, ts, name, r,
           CASE WHEN ts - lag(ts) OVER w < INTERVAL {GAP_MS} MILLISECOND THEN 0 ELSE 1 END AS s
    FROM ev WINDOW w AS (PARTITION BY u ORDER BY ts, r)
), numbered AS (
    SELECT *, sum(s) OVER (PARTITION BY u ORDER BY ts, r ROWS UNBOUNDED PRECEDING) - 1 AS session FROM marked
)
SELECT u, session, min(ts) AS start, max(ts) AS "end", count(*) AS events,
       arg_min(name, (ts, r)) AS first_event, arg_max(name, (ts, r)) AS last_event
FROM numbered GROUP BY u, session
"""


# ---------------------------------------------------------------- paths


def paths_pandas(df: pd.DataFrame, steps: int = 5) -> pd.DataFrame:
    ev = _sessions_pandas(df)
    name = ev["name"].astype(str)
    nxt = name.groupby(ev["session"]).shift(-1)
    ev = ev[(nxt != name) | nxt.isna()].assign(name=name)
    ev["pos"] = ev.groupby("session").cumcount() + 1
    ev = ev[ev["pos"] <= steps]
    ev["target"] = ev.groupby("session")["name"].shift(-1)
    ev["gap"] = ev.groupby("session")["t"].shift(-1) - ev["t"]
    edges = ev[ev["target"].notna()].groupby(["pos", "name", "target"]).agg(value=("gap", "size"),
                                                                             mean_gap=("gap", "mean"))
    return edges.reset_index().rename(columns={"pos": "step", "name": "source"})


PATHS_SQL = f"""
WITH marked AS (
    SELECT u, ts, name::VARCHAR AS name, r,
           CASE WHEN ts - lag(ts) OVER w < INTERVAL {GAP_MS} MILLISECOND THEN 0 ELSE 1 END AS s
    FROM ev WINDOW w AS (PARTITION BY u ORDER BY ts, r)
), numbered AS (
    SELECT *, sum(s) OVER (PARTITION BY u ORDER BY ts, r ROWS UNBOUNDED PRECEDING) AS session FROM marked
), collapsed AS (
    SELECT * FROM (SELECT *, lead(name) OVER (PARTITION BY u, session ORDER BY ts, r) AS nxt FROM numbered)
    WHERE nxt IS NULL OR nxt <> name
), placed AS (
    SELECT *, row_number() OVER (PARTITION BY u, session ORDER BY ts, r) AS pos FROM collapsed
), moves AS (
    SELECT pos AS step, name AS source, lead(name) OVER w AS target, epoch_ms(lead(ts) OVER w) - epoch_ms(ts) AS gap
    FROM placed WHERE pos <= 5 WINDOW w AS (PARTITION BY u, session ORDER BY pos)
)
SELECT step, source, target, count(*) AS value, avg(gap) AS mean_gap FROM moves
WHERE target IS NOT NULL GROUP BY ALL
"""


def top_reachable(edges: pd.DataFrame, top: int = 50) -> list[tuple]:
    """(step, source, target, value) of the top edges reachable from step 1, as paths() keeps them."""
    edges = edges.sort_values(["value", "step", "source", "target"], ascending=[False, True, True, True],
                              kind="stable").head(top)
    keep = edges["step"] == 1
    for k in range(2, int(edges["step"].max()) + 1 if len(edges) else 0):
        keep |= (edges["step"] == k) & edges["source"].isin(edges.loc[keep & (edges["step"] == k - 1), "target"])
    kept = edges[keep]
    return sorted((int(s), str(a), str(b), int(v)) for s, a, b, v in
                  zip(kept["step"], kept["source"], kept["target"], kept["value"]))


def cases(df: pd.DataFrame) -> list[Case]:
    import duckdb
    import pyarrow as pa

    keep = (df["userID"].notna() & (df["userID"] != "")).to_numpy()
    # DuckDB reads the frame's own Arrow buffers; `r` is the row position, the tie-break of our order.
    table = pa.table({"u": pa.array(df["userID"].array), "ts": pa.array(df["timestamp"].array),
                      "name": pa.array(df["name"].array), "r": np.arange(len(df))})
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("ev_all", table)
    con.register("ev", table.filter(pa.array(keep)))

    def sql(query: str) -> Callable[[], pd.DataFrame]:
        return lambda: con.execute(query).df()

    def lifecycle_answer(result) -> list:
        return [list(map(int, row)) for row in result[["new", "returning", "resurrecting", "dormant"]].to_numpy()]

    def stickiness_answer(result) -> list:
        if isinstance(result, pd.Series):
            return result.tolist()
        units = (result.set_index("active") if "active" in result.columns else result)["units"]
        return units.reindex(range(1, 8), fill_value=0).astype(int).tolist()

    def sessions_answer(result) -> tuple:
        starts = result["start"]
        if starts.dtype.kind != "i":
            starts = pd.to_datetime(starts, utc=True).dt.tz_convert(None).to_numpy(dtype="M8[ms]").view("i8")
        starts = np.asarray(starts, dtype=np.int64)
        return (len(result), int(result["events"].sum()), int(starts.sum() % (1 << 61)),
                int(result["session"].max()), tuple(result["first_event"].astype(str).value_counts().sort_index()),
                tuple(result["last_event"].astype(str).value_counts().sort_index()))

    def paths_answer(result) -> list:
        if "mean_gap" in result.columns and result["mean_gap"].dtype.kind == "m":  # ours: already pruned
            return sorted((int(s), str(a), str(b), int(v)) for s, a, b, v in
                          zip(result["step"], result["source"], result["target"], result["value"]))
        return top_reachable(result)

    return [
        Case('lifecycle("W")', lambda: df.statsig.lifecycle("W"), sql(LIFECYCLE_SQL), lambda: lifecycle_pandas(df),
             lifecycle_answer),
        Case('stickiness("D", per="W")', lambda: df.statsig.stickiness("D", per="W"), sql(STICKINESS_SQL),
             lambda: stickiness_pandas(df), stickiness_answer),
        Case("sessions()", lambda: df.statsig.sessions(), sql(SESSIONS_SQL), lambda: sessions_pandas(df),
             sessions_answer),
        Case("paths()", lambda: df.statsig.paths(), sql(PATHS_SQL), lambda: paths_pandas(df), paths_answer),
    ]


# ---------------------------------------------------------------- running them on their own

DAY_MS = 86_400_000
END_MS = 1_775_000_000_000  # fixed: every run builds the same frame
NAMES = ("page_view", "add_to_cart", "purchase", "search", "login", "logout", "share", "checkout")


def frame(rows: int = 10_000_000, users: int = 1_200_000) -> pd.DataFrame:
    """The benchmark frame: ``rows`` events over 30 days, 8 names, users spread so that more than a
    million of them appear (a flatter law than the generator's default)."""
    from statsig_pandas.testing.synthetic import synthetic_frame

    return synthetic_frame(rows, seed=1, names=NAMES, end_ms=END_MS, span_ms=30 * DAY_MS, users=users,
                           user_skew=0.5)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import gc
    import os
    import statistics
    import sys
    import time

    sys.path.insert(0, os.path.dirname(__file__))
    from common import Targets, mb, peak_rss, reset_peak_rss

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=1_200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    df = frame(args.rows, args.users)
    size = int(df.memory_usage(deep=False).sum())
    print(f"frame: {len(df):,} rows, {df['userID'].nunique():,} users, {df['name'].nunique()} names, 30 days, "
          f"{mb(size)}; built in {time.perf_counter() - start:.1f} s; load average {os.getloadavg()[0]:.1f}")
    targets = Targets()
    for case in cases(df):
        # Peak memory first, on a quiet heap: what the call adds to the process.
        gc.collect()
        base = reset_peak_rss()
        ours = case.ours()
        extra = peak_rss() - base
        del ours
        times: dict[str, list[float]] = {"ours": [], "duckdb": [], "pandas": []}
        answers = {}
        for _ in range(args.repeat):  # alternate, so all three see the same machine load
            for who in times:
                gc.collect()
                t = time.perf_counter()
                result = getattr(case, who)()
                times[who].append(time.perf_counter() - t)
                answers[who] = case.answer(result)
                del result
        same = answers["ours"] == answers["duckdb"] == answers["pandas"]
        best = {who: min(ts) for who, ts in times.items()}
        print(f"{case.name:26} ours {best['ours']:6.2f} s ({statistics.median(times['ours']):.2f})  "
              f"duckdb {best['duckdb']:6.2f} s ({statistics.median(times['duckdb']):.2f})  "
              f"pandas {best['pandas']:6.2f} s ({statistics.median(times['pandas']):.2f})  "
              f"extra peak {mb(extra)}  answers {'equal' if same else 'DIFFER'}  "
              f"load {os.getloadavg()[0]:.1f}")
        targets.check(f"{case.name} answers equal (1 = yes)", float(same), 1, at_least=True, unit="")
        targets.check(f"{case.name} under 2 s", best["ours"], 2.0, at_least=False, unit=" s")
        targets.check(f"{case.name} vs DuckDB (speed-up)", best["duckdb"] / best["ours"], 1.0, at_least=True)
        targets.check(f"{case.name} extra peak memory / frame size", extra / size, 1.0, at_least=False)
    return targets.report()


if __name__ == "__main__":
    raise SystemExit(main())
