"""Product analytics on a big frame (funnels, retention, lifecycle, stickiness, sessions, paths) against
DuckDB's SQL and plain pandas.

    .venv/bin/python benchmarks/bench_analytics.py [--quick] [--rows N] [--repeat 3] [--only NAME]

Builds one frame of the reader's dtypes with ``synthetic_frame`` (10,000,000 events of 8 names by
1,100,000 users, every user alike, over 30 days; ``--quick``: 1,000,000 events by 110,000 users).
Then, for each case, times ours, DuckDB answering the same question in SQL over the same in-memory
frame, and a straightforward pandas version, alternately and ``--repeat`` times each (the best run
counts, as ``timeit`` does), checks that the three answers are equal, and measures the most memory
ours holds at once above what was held before the call, in a run of its own (allocations counted by
``tracemalloc`` and Arrow's pool: see ``common.allocated_peak``).

Targets (each case): under 2 s, no slower than DuckDB, extra peak memory no more than the frame's own
size (``DataFrame.memory_usage``; checked at 10,000,000 rows). Exits 1 when a target is missed or an
answer differs. The CPU seconds are printed too: on a machine shared with other work they are what a
call cost, where the wall time also holds the waits for a core.

A case is ``Case(name, ours, duckdb_sql, naive, compare)``: ``ours()`` returns our result,
``duckdb_sql`` is run on the table ``events`` (the frame without its metadata), ``naive()`` returns a
frame shaped like the SQL result, and ``compare(ours, theirs)`` says whether they agree. Append cases
to ``CASES`` (one function per analysis, taking the frame) to benchmark another analysis.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Targets, allocated_peak, mb

import statsig_pandas  # noqa: F401  (registers df.statsig)
from statsig_pandas.testing.synthetic import synthetic_frame

DAY_MS = 86_400_000
END_MS = 1_775_000_000_000  # fixed: every run builds the same frame
NAMES = ("page_view", "search", "view_item", "add_to_cart", "checkout", "purchase", "share", "review")
FUNNEL = ("page_view", "view_item", "purchase")
WINDOW = "1D"
PERIODS = 14
MAX_SECONDS = 2.0


@dataclass
class Case:
    name: str
    ours: Callable[[], Any]
    duckdb_sql: str
    naive: Callable[[], pd.DataFrame]
    compare: Callable[[Any, pd.DataFrame], bool]


# ---------------------------------------------------------------- funnels


def _quoted(names) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _next_columns(steps, frame_clause: str) -> str:
    return ",\n".join(
        f"min(CASE WHEN n = '{s}' THEN t END) OVER (PARTITION BY u ORDER BY t {frame_clause}) AS nx{k}"
        for k, s in enumerate(steps) if k)


def funnel_sql(steps, window_ms: int, order: str) -> str:
    """Per unit, the furthest step of its best attempt: from each step-1 event the first event of the
    next step at or after the current one (ties included), inside the window from step 1; strict
    order also needs no event other than a repeat of the current step strictly between the two."""
    steps = list(steps)
    n = len(steps)
    where = "" if order == "strict" else f"AND name IN ({_quoted(steps)})"
    breaks = ""
    if order == "strict":
        breaks = ",\n" + ",\n".join(
            f"sum(CASE WHEN n <> '{s}' THEN 1 ELSE 0 END) OVER (PARTITION BY u ORDER BY t RANGE BETWEEN "
            f"UNBOUNDED PRECEDING AND CURRENT ROW) AS le{k},\n"
            f"coalesce(sum(CASE WHEN n <> '{s}' THEN 1 ELSE 0 END) OVER (PARTITION BY u ORDER BY t RANGE "
            f"BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS lt{k}"
            for k, s in enumerate(steps[:-1]))
    sql = f"""
WITH e AS (SELECT "userID" AS u, epoch_ms(timestamp) AS t, CAST(name AS VARCHAR) AS n FROM events
           WHERE "userID" IS NOT NULL AND "userID" <> '' {where}),
w AS (SELECT u, t, n,
{_next_columns(steps, "RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING")}{breaks}
      FROM e),
a0 AS (SELECT u, t AS t0, t AS c0 {", le0" if order == "strict" else ""}, nx1 FROM w WHERE n = '{steps[0]}')"""
    for k in range(1, n):
        prev = f"a{k - 1}"
        carry = ", ".join(f"{prev}.c{j}" for j in range(k))
        nxt = f", s.nx{k + 1}" if k + 1 < n else ""
        le = f", le{k}" if order == "strict" and k + 1 < n else ""
        le_carry = f", s.le{k}" if le else ""
        cond = f"{prev}.c{k - 1} IS NOT NULL AND {prev}.nx{k} - {prev}.t0 <= {window_ms}"
        if order == "strict":
            cond += f" AND s.lt{k - 1} - {prev}.le{k - 1} = 0"
        columns = (f", lt{k - 1}" if order == "strict" else "") + le + (f", nx{k + 1}" if k + 1 < n else "")
        sql += f""",
s{k} AS (SELECT DISTINCT u, t {columns}
         FROM w WHERE n = '{steps[k]}'),
a{k} AS (SELECT {prev}.u, {prev}.t0, {carry}, CASE WHEN {cond} THEN {prev}.nx{k} END AS c{k}{le_carry}{nxt}
         FROM {prev} LEFT JOIN s{k} AS s ON s.u = {prev}.u AND s.t = {prev}.nx{k})"""
    reach = " ".join(f"WHEN c{k} IS NOT NULL THEN {k + 1}" for k in reversed(range(1, n)))
    sql += f""",
r AS (SELECT u, max(CASE {reach} ELSE 1 END) AS k FROM a{n - 1} GROUP BY u)
SELECT s.step, count(r.u) AS units FROM range(1, {n + 1}) AS s(step) LEFT JOIN r ON r.k >= s.step
GROUP BY s.step ORDER BY s.step"""
    return sql


def any_order_sql(steps, window_ms: int) -> str:
    steps = list(steps)
    present = " + ".join(f"(CASE WHEN nx{k} - t <= {window_ms} THEN 1 ELSE 0 END)" for k in range(len(steps)))
    nexts = ",\n".join(
        f"min(CASE WHEN n = '{s}' THEN t END) OVER (PARTITION BY u ORDER BY t RANGE BETWEEN CURRENT ROW "
        f"AND UNBOUNDED FOLLOWING) AS nx{k}" for k, s in enumerate(steps))
    return f"""
WITH e AS (SELECT "userID" AS u, epoch_ms(timestamp) AS t, CAST(name AS VARCHAR) AS n FROM events
           WHERE "userID" IS NOT NULL AND "userID" <> '' AND name IN ({_quoted(steps)})),
w AS (SELECT u, t, {nexts} FROM e),
r AS (SELECT u, max({present}) AS k FROM w GROUP BY u)
SELECT s.step, count(r.u) AS units FROM range(1, {len(steps) + 1}) AS s(step) LEFT JOIN r ON r.k >= s.step
GROUP BY s.step ORDER BY s.step"""


def trend_sql(steps, window_ms: int) -> str:
    """Per entry day: units entering, and those whose best attempt of that day converted."""
    base = funnel_sql(steps, window_ms, "ordered")
    head, _ = base.rsplit(",\nr AS", 1)
    n = len(steps)
    return head + f""",
r AS (SELECT u, t0 // {DAY_MS} AS d, max(CASE WHEN c{n - 1} IS NOT NULL THEN 1 ELSE 0 END) AS ok
      FROM a{n - 1} GROUP BY u, d)
SELECT d * {DAY_MS} AS day, count(*) AS entered, sum(ok) AS converted FROM r GROUP BY d ORDER BY d"""


def _events(df: pd.DataFrame, names=None) -> pd.DataFrame:
    """(u, t, n) of the frame's events with a unit (and one of ``names``), sorted by (u, t, row)."""
    keep = df["userID"].notna() & (df["userID"] != "")
    if names is not None:
        keep &= df["name"].isin(names)
    e = pd.DataFrame({"u": df["userID"][keep], "t": df["timestamp"][keep].astype("int64") // 10**6
                      if df["timestamp"].dt.unit == "ns" else df["timestamp"][keep].dt.as_unit("ms").astype("int64"),
                      "n": df["name"][keep].astype(str)})
    return e


def _next_at_or_after(left: pd.DataFrame, right: pd.DataFrame, on: str) -> pd.Series:
    """For each row of ``left`` (columns u, ``on``), the first ``t`` of ``right`` (u, t) with t >= left[on]."""
    left = left.reset_index(drop=True)
    lk = left[["u", on]].rename(columns={on: "t"}).assign(i=np.arange(len(left)))
    lk = lk.dropna(subset=["t"]).astype({"t": "int64"}).sort_values("t", kind="stable")
    rk = right[["u", "t"]].sort_values("t", kind="stable").assign(found=lambda r: r["t"])
    merged = pd.merge_asof(lk, rk, on="t", by="u", direction="forward", allow_exact_matches=True)
    out = pd.Series(np.nan, index=left.index)
    out[merged["i"].to_numpy()] = merged["found"].to_numpy()
    return out


def funnel_naive(df: pd.DataFrame, steps, window_ms: int, order: str) -> pd.DataFrame:
    """pandas: chained merge_asof from every step-1 event; strict order counts the other events
    between steps with a per-unit cumulative count."""
    steps = list(steps)
    e = _events(df, None if order == "strict" else steps)
    e = e.sort_values(["u", "t"], kind="stable")
    attempts = e.loc[e["n"] == steps[0], ["u", "t"]].rename(columns={"t": "t0"}).reset_index(drop=True)
    attempts["c0"] = attempts["t0"]
    alive = pd.Series(True, index=attempts.index)
    for k in range(1, len(steps)):
        cand = _next_at_or_after(attempts.assign(prev=attempts[f"c{k - 1}"]), e[e["n"] == steps[k]], "prev")
        ok = alive & cand.notna() & (cand - attempts["t0"] <= window_ms)
        if order == "strict":
            other = (e["n"] != steps[k - 1]).astype("int64")
            counts = pd.DataFrame({"u": e["u"], "t": e["t"], "c": other.groupby(e["u"]).cumsum()})
            le = counts.groupby(["u", "t"])["c"].max()  # others at or before t
            lt = le - other.groupby([e["u"], e["t"]]).sum()  # strictly before t
            key_prev = pd.MultiIndex.from_arrays([attempts["u"], attempts[f"c{k - 1}"].fillna(-1).astype("int64")])
            key_cand = pd.MultiIndex.from_arrays([attempts["u"], cand.fillna(-1).astype("int64")])
            between = lt.reindex(key_cand).to_numpy() - le.reindex(key_prev).to_numpy()
            ok &= pd.Series(between == 0, index=attempts.index)
        attempts[f"c{k}"] = cand.where(ok)
        alive = ok
    reach = 1 + sum(attempts[f"c{k}"].notna().astype(int) for k in range(1, len(steps)))
    best = reach.groupby(attempts["u"]).max()
    return pd.DataFrame({"step": range(1, len(steps) + 1),
                         "units": [int((best >= k).sum()) for k in range(1, len(steps) + 1)]})


def any_order_naive(df: pd.DataFrame, steps, window_ms: int) -> pd.DataFrame:
    e = _events(df, steps).sort_values(["u", "t"], kind="stable").reset_index(drop=True)
    count = sum(((_next_at_or_after(e, e[e["n"] == s], "t") - e["t"]) <= window_ms).astype(int) for s in steps)
    best = count.groupby(e["u"]).max()
    return pd.DataFrame({"step": range(1, len(steps) + 1),
                         "units": [int((best >= k).sum()) for k in range(1, len(steps) + 1)]})


def trend_naive(df: pd.DataFrame, steps, window_ms: int) -> pd.DataFrame:
    steps = list(steps)
    e = _events(df, steps).sort_values(["u", "t"], kind="stable")
    attempts = e.loc[e["n"] == steps[0], ["u", "t"]].rename(columns={"t": "t0"}).reset_index(drop=True)
    prev, ok = attempts["t0"], pd.Series(True, index=attempts.index)
    for s in steps[1:]:
        cand = _next_at_or_after(attempts.assign(prev=prev), e[e["n"] == s], "prev")
        ok &= cand.notna() & (cand - attempts["t0"] <= window_ms)
        prev = cand.where(ok)
    per = pd.DataFrame({"u": attempts["u"], "d": attempts["t0"] // DAY_MS, "ok": ok.astype(int)})
    best = per.groupby(["u", "d"])["ok"].max().groupby(level="d").agg(["size", "sum"])
    return pd.DataFrame({"day": best.index * DAY_MS, "entered": best["size"].to_numpy(),
                         "converted": best["sum"].to_numpy()})


def same_units(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    return ours["units"].tolist() == theirs.sort_values("step")["units"].astype("int64").tolist()


def same_trend(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    days = ours.index.tz_convert("UTC").tz_localize(None).as_unit("ms").asi8
    got = {int(d): (int(a), int(b)) for d, a, b in zip(days, ours["entered"], ours["converted"]) if a}
    want = {int(d): (int(a), int(b)) for d, a, b in zip(theirs["day"], theirs["entered"], theirs["converted"])}
    return got == want


def funnel_cases(df: pd.DataFrame) -> list[Case]:
    w = int(pd.Timedelta(WINDOW) / pd.Timedelta(milliseconds=1))
    cases = [
        Case(f"funnel {order}", lambda order=order: df.statsig.funnel(list(FUNNEL), within=WINDOW, order=order),
             funnel_sql(FUNNEL, w, order), lambda order=order: funnel_naive(df, FUNNEL, w, order), same_units)
        for order in ("ordered", "strict")
    ]
    cases.append(Case("funnel any", lambda: df.statsig.funnel(list(FUNNEL), within=WINDOW, order="any"),
                      any_order_sql(FUNNEL, w), lambda: any_order_naive(df, FUNNEL, w), same_units))
    cases.append(Case("funnel_trend", lambda: df.statsig.funnel_trend(list(FUNNEL), within=WINDOW),
                      trend_sql(FUNNEL, w), lambda: trend_naive(df, FUNNEL, w), same_trend))
    return cases


# ---------------------------------------------------------------- retention


def retention_sql(cohorts: str, mode: str) -> str:
    """Cohorts of any event, returns of any event, daily in UTC, offsets 1 .. PERIODS - 1."""
    member = ("SELECT u, d AS c, min(t) AS t0 FROM e GROUP BY u, d" if cohorts == "recurring"
              else "SELECT u, min(d) AS c, min(t) AS t0 FROM e GROUP BY u")
    if mode == "calendar":
        hits = f"""SELECT m.c, r.d - m.c AS k, count(*) AS n FROM m JOIN (SELECT DISTINCT u, d FROM e) AS r
        ON r.u = m.u AND r.d > m.c AND r.d < m.c + {PERIODS} GROUP BY 1, 2"""
    else:
        hits = f"""SELECT c, k, count(DISTINCT u) AS n FROM (
          SELECT m.u, m.c, (e.t - m.t0) // {DAY_MS} AS k FROM m JOIN e
          ON e.u = m.u AND e.t >= m.t0 + {DAY_MS} AND e.t < m.t0 + {PERIODS * DAY_MS}) GROUP BY 1, 2"""
    return f"""
WITH e AS (SELECT "userID" AS u, epoch_ms(timestamp) AS t, epoch_ms(timestamp) // {DAY_MS} AS d FROM events
           WHERE "userID" IS NOT NULL AND "userID" <> ''),
m AS ({member}),
h AS ({hits})
SELECT c, 0 AS k, count(*) AS n FROM m GROUP BY c UNION ALL SELECT c, k, n FROM h ORDER BY c, k"""


def retention_naive(df: pd.DataFrame, cohorts: str, mode: str) -> pd.DataFrame:
    e = _events(df)
    e["d"] = e["t"] // DAY_MS
    grouped = e.groupby(["u", "d"] if cohorts == "recurring" else ["u"], sort=False)
    m = grouped.agg(t0=("t", "min"), c=("d", "min")).reset_index()[["u", "c", "t0"]]
    sizes = m.groupby("c").size().rename("n").reset_index().assign(k=0)
    if mode == "calendar":
        days = e[["u", "d"]].drop_duplicates()
        pairs = m.merge(days, on="u")
        pairs["k"] = pairs["d"] - pairs["c"]
        hits = pairs[(pairs["k"] >= 1) & (pairs["k"] < PERIODS)].groupby(["c", "k"]).size().rename("n").reset_index()
    else:
        parts = []
        returns = e[["u", "t"]]
        for k in range(1, PERIODS):
            nxt = _next_at_or_after(m.assign(lo=m["t0"] + k * DAY_MS), returns, "lo")
            hit = nxt < m["t0"] + (k + 1) * DAY_MS
            parts.append(m.loc[hit.to_numpy(), ["c"]].value_counts().rename("n").reset_index().assign(k=k))
        hits = pd.concat(parts)
    return pd.concat([sizes, hits])[["c", "k", "n"]]


def same_triangle(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    """Every complete cell of ours equals the count in theirs (0 where they have none)."""
    cohort_days = ours.index.tz_convert("UTC").tz_localize(None).as_unit("ms").asi8 // DAY_MS
    want = {(int(c), int(k)): int(n) for c, k, n in zip(theirs["c"], theirs["k"], theirs["n"])}
    cells = ours.drop(columns="units").to_numpy()
    for i, c in enumerate(cohort_days):
        for k in range(cells.shape[1]):
            if not np.isnan(cells[i, k]) and int(cells[i, k]) != want.get((int(c), k), 0):
                return False
    return True


def retention_cases(df: pd.DataFrame) -> list[Case]:
    return [
        Case(f"retention {cohorts} {mode}",
             lambda cohorts=cohorts, mode=mode: df.statsig.retention(period="D", periods=PERIODS, cohorts=cohorts,
                                                                     mode=mode, values="units"),
             retention_sql(cohorts, mode), lambda cohorts=cohorts, mode=mode: retention_naive(df, cohorts, mode),
             same_triangle)
        for cohorts in ("recurring", "first_time") for mode in ("calendar", "rolling")
    ]


# ---------------------------------------------------------------- lifecycle and stickiness

GAP_MS = 30 * 60 * 1000
WEEK_MS = 7 * DAY_MS
MONDAY_MS = 4 * DAY_MS  # 1970-01-05, the first Monday: weeks in UTC start there

LIFECYCLE_SQL = f"""
WITH e AS (SELECT "userID" AS u, (epoch_ms(timestamp) - {MONDAY_MS}) // {WEEK_MS} AS w FROM events
           WHERE "userID" IS NOT NULL AND "userID" <> ''),
pairs AS (SELECT DISTINCT u, w FROM e),
marked AS (SELECT w, lag(w) OVER (PARTITION BY u ORDER BY w) AS prev, lead(w) OVER (PARTITION BY u ORDER BY w) AS nxt
           FROM pairs),
span AS (SELECT (min(epoch_ms(timestamp)) - {MONDAY_MS}) // {WEEK_MS} AS lo,
                (max(epoch_ms(timestamp)) - {MONDAY_MS}) // {WEEK_MS} AS hi FROM events),
active AS (SELECT w, count(*) FILTER (WHERE prev IS NULL) AS new, count(*) FILTER (WHERE prev = w - 1) AS ret,
                  count(*) FILTER (WHERE prev < w - 1) AS res FROM marked GROUP BY w),
gone AS (SELECT w + 1 AS w, -count(*) AS dormant FROM marked WHERE nxt IS NULL OR nxt > w + 1 GROUP BY 1)
SELECT g.w, coalesce(new, 0) AS new, coalesce(ret, 0) AS "returning", coalesce(res, 0) AS resurrecting,
       coalesce(dormant, 0) AS dormant
FROM span, range(span.lo + 1, span.hi + 1) AS g(w) LEFT JOIN active USING (w) LEFT JOIN gone USING (w) ORDER BY 1"""

STICKINESS_SQL = f"""
WITH span AS (SELECT min(epoch_ms(timestamp)) AS lo, max(epoch_ms(timestamp)) + 1 AS hi FROM events),
e AS (SELECT "userID" AS u, epoch_ms(timestamp) // {DAY_MS} AS d,
             (epoch_ms(timestamp) - {MONDAY_MS}) // {WEEK_MS} AS w FROM events
      WHERE "userID" IS NOT NULL AND "userID" <> ''),
per_week AS (SELECT u, w, count(DISTINCT d) AS days FROM e, span
             WHERE w * {WEEK_MS} + {MONDAY_MS} >= span.lo AND (w + 1) * {WEEK_MS} + {MONDAY_MS} <= span.hi
             GROUP BY u, w)
SELECT days AS active, count(*) AS units FROM per_week GROUP BY 1 ORDER BY 1"""


def _weeks(t: pd.Series) -> pd.Series:
    return (t - MONDAY_MS) // WEEK_MS


def lifecycle_naive(df: pd.DataFrame) -> pd.DataFrame:
    """pandas: distinct (user, week) pairs, sorted, and each pair's previous and next week of the user."""
    e = _events(df)
    pairs = pd.DataFrame({"u": e["u"], "w": _weeks(e["t"])}).drop_duplicates().sort_values(["u", "w"])
    prev = pairs.groupby("u", sort=False)["w"].shift()
    nxt = pairs.groupby("u", sort=False)["w"].shift(-1)
    t = df["timestamp"].dt.as_unit("ms").astype("int64")
    weeks = range(int(_weeks(t.min())) + 1, int(_weeks(t.max())) + 1)
    w = pairs["w"]
    out = pd.DataFrame({"new": w[prev.isna()].value_counts(), "returning": w[prev == w - 1].value_counts(),
                        "resurrecting": w[prev < w - 1].value_counts(),
                        "dormant": -(w[nxt.isna() | (nxt > w + 1)] + 1).value_counts()})
    return out.reindex(weeks, fill_value=0).fillna(0).astype("int64").rename_axis("w").reset_index()


def stickiness_naive(df: pd.DataFrame) -> pd.DataFrame:
    """pandas: distinct days per (user, week) of the weeks wholly inside the frame, then their histogram."""
    e = _events(df)
    t = df["timestamp"].dt.as_unit("ms").astype("int64")
    w = _weeks(e["t"])
    whole = (w * WEEK_MS + MONDAY_MS >= t.min()) & ((w + 1) * WEEK_MS + MONDAY_MS <= t.max() + 1)
    days = pd.DataFrame({"u": e["u"], "w": w, "d": e["t"] // DAY_MS})[whole].groupby(["u", "w"])["d"].nunique()
    return days.value_counts().rename_axis("active").rename("units").reset_index()


def same_lifecycle(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    columns = ["new", "returning", "resurrecting", "dormant"]
    weeks = _weeks(pd.Series(ours.index.tz_convert("UTC").tz_localize(None).as_unit("ms").asi8)).tolist()
    return (weeks == theirs["w"].tolist()
            and ours[columns].to_numpy().tolist() == theirs[columns].astype("int64").to_numpy().tolist())


def same_stickiness(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    want = theirs.set_index("active")["units"].reindex(ours.index, fill_value=0)
    return ours["units"].tolist() == want.astype("int64").tolist() and int(theirs["units"].sum()) == int(
        ours["units"].sum())


def engagement_cases(df: pd.DataFrame) -> list[Case]:
    return [
        Case('lifecycle("W")', lambda: df.statsig.lifecycle("W"), LIFECYCLE_SQL, lambda: lifecycle_naive(df),
             same_lifecycle),
        Case('stickiness("D", per="W")', lambda: df.statsig.stickiness("D", per="W"), STICKINESS_SQL,
             lambda: stickiness_naive(df), same_stickiness),
    ]


# ---------------------------------------------------------------- sessions and paths

# The registered frame has no row position, so SQL orders a user's events by time alone: the same
# order as ours wherever a user has no two events in the same millisecond (this frame has none).
_SESSION_MARKS = f"""
e AS (SELECT "userID" AS u, epoch_ms(timestamp) AS t, CAST(name AS VARCHAR) AS n FROM events
      WHERE "userID" IS NOT NULL AND "userID" <> ''),
marked AS (SELECT u, t, n, CASE WHEN t - lag(t) OVER (PARTITION BY u ORDER BY t) < {GAP_MS} THEN 0 ELSE 1 END AS s
           FROM e),
numbered AS (SELECT u, t, n, sum(s) OVER (PARTITION BY u ORDER BY t ROWS UNBOUNDED PRECEDING) - 1 AS session
             FROM marked)"""

SESSIONS_SQL = f"""
WITH {_SESSION_MARKS}
SELECT u, session, min(t) AS start, max(t) AS stop, count(*) AS events, arg_min(n, t) AS first_event,
       arg_max(n, t) AS last_event
FROM numbered GROUP BY u, session"""

PATHS_SQL = f"""
WITH {_SESSION_MARKS},
collapsed AS (SELECT * FROM (SELECT *, lead(n) OVER (PARTITION BY u, session ORDER BY t) AS nx FROM numbered)
              WHERE nx IS NULL OR nx <> n),
placed AS (SELECT *, row_number() OVER (PARTITION BY u, session ORDER BY t) AS pos FROM collapsed),
moves AS (SELECT pos AS step, n AS source, lead(n) OVER w AS target, lead(t) OVER w - t AS gap
          FROM placed WHERE pos <= 5 WINDOW w AS (PARTITION BY u, session ORDER BY pos))
SELECT step, source, target, count(*) AS value, avg(gap) AS mean_gap FROM moves WHERE target IS NOT NULL
GROUP BY ALL"""


def _sessions(df: pd.DataFrame) -> pd.DataFrame:
    e = _events(df).sort_values(["u", "t"], kind="stable")
    starts = e["u"].ne(e["u"].shift()).to_numpy(dtype=bool, na_value=True) | (e["t"].diff() >= GAP_MS).to_numpy()
    e["id"] = starts.cumsum()
    return e


def sessions_naive(df: pd.DataFrame) -> pd.DataFrame:
    """pandas: sort by (user, time), cut where the user changes or the gap is >= 30 min, aggregate."""
    e = _sessions(df)
    out = e.groupby("id", sort=False).agg(u=("u", "first"), start=("t", "first"), stop=("t", "last"),
                                          events=("t", "size"), first_event=("n", "first"), last_event=("n", "last"))
    out["session"] = out.groupby("u", sort=False).cumcount()
    return out.reset_index(drop=True)


def paths_naive(df: pd.DataFrame, steps: int = 5) -> pd.DataFrame:
    """pandas: sessions as above, repeats collapsed, the first `steps` items, consecutive pairs counted."""
    e = _sessions(df)
    nxt = e.groupby("id")["n"].shift(-1)
    e = e[nxt.isna() | (nxt != e["n"])].copy()
    e["pos"] = e.groupby("id").cumcount() + 1
    e = e[e["pos"] <= steps]
    e["target"] = e.groupby("id")["n"].shift(-1)
    e["gap"] = e.groupby("id")["t"].shift(-1) - e["t"]
    moves = e[e["target"].notna()].groupby(["pos", "n", "target"])["gap"].agg(["size", "mean"]).reset_index()
    return moves.set_axis(["step", "source", "target", "value", "mean_gap"], axis=1)


def _session_digest(u, session, start, events, first, last) -> tuple[int, int]:
    """An order-free digest of the sessions: their number and the sum of their rows' hashes."""
    rows = pd.DataFrame({"u": pd.Series(u).astype(str).to_numpy(), "s": np.asarray(session, dtype=np.int64),
                         "t": np.asarray(start, dtype=np.int64), "e": np.asarray(events, dtype=np.int64),
                         "f": pd.Series(first).astype(str).to_numpy(), "l": pd.Series(last).astype(str).to_numpy()})
    return len(rows), int(pd.util.hash_pandas_object(rows, index=False).sum())


def same_sessions(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    start = ours["start"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="M8[ms]").view("i8")
    mine = _session_digest(ours["userID"], ours["session"], start, ours["events"], ours["first_event"],
                           ours["last_event"])
    other = _session_digest(theirs["u"], theirs["session"], theirs["start"], theirs["events"],
                            theirs["first_event"], theirs["last_event"])
    durations = (ours["end"] - ours["start"] == ours["duration"]).all()
    return mine == other and bool(durations) and (ours["end"] - ours["start"]).sum() == pd.to_timedelta(
        (theirs["stop"] - theirs["start"]).sum(), unit="ms")


def top_reachable(edges: pd.DataFrame, top: int = 50) -> pd.DataFrame:
    """The `top` edges by value, then those reachable from step 1 (ties: earlier step, then names)."""
    edges = edges.sort_values(["value", "step", "source", "target"], ascending=[False, True, True, True],
                              kind="stable").head(top)
    keep = edges["step"] == 1
    for k in range(2, int(edges["step"].max()) + 1 if len(edges) else 0):
        keep |= (edges["step"] == k) & edges["source"].isin(edges.loc[keep & (edges["step"] == k - 1), "target"])
    return edges[keep]


def same_paths(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    kept = top_reachable(theirs)
    want = {(int(s), str(a), str(b)): (int(v), float(g)) for s, a, b, v, g in
            zip(kept["step"], kept["source"], kept["target"], kept["value"], kept["mean_gap"])}
    got = {(int(s), str(a), str(b)): (int(v), g / pd.Timedelta(milliseconds=1)) for s, a, b, v, g in
           zip(ours["step"], ours["source"], ours["target"], ours["value"], ours["mean_gap"])}
    return got.keys() == want.keys() and all(got[k][0] == want[k][0] and abs(got[k][1] - want[k][1]) <= 1
                                              for k in got)


def journeys_cases(df: pd.DataFrame) -> list[Case]:
    return [
        Case("sessions()", lambda: df.statsig.sessions(), SESSIONS_SQL, lambda: sessions_naive(df), same_sessions),
        Case("paths()", lambda: df.statsig.paths(), PATHS_SQL, lambda: paths_naive(df), same_paths),
    ]


#: One function per analysis, each giving its cases for a frame.
CASES: list[Callable[[pd.DataFrame], list[Case]]] = [funnel_cases, retention_cases, engagement_cases, journeys_cases]


# ---------------------------------------------------------------- running


def timed(fn) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def cpu_timed(fn) -> tuple[float, float, Any]:
    """Wall and CPU seconds (all threads of the process): on a machine shared with other work, the
    CPU time is what the call itself cost."""
    cpu = time.process_time()
    wall, result = timed(fn)
    return wall, time.process_time() - cpu, result


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000 events (a fast check)")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=None, help="run only the cases whose name contains this")
    parser.add_argument("--skip-naive", action="store_true", help="time ours and DuckDB only")
    args = parser.parse_args(argv)
    import duckdb

    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    users = max(1, rows * 11 // 100)
    seconds, df = timed(lambda: synthetic_frame(rows, seed=1, names=NAMES, end_ms=END_MS, span_ms=30 * DAY_MS,
                                                users=users, user_skew=0.0))
    frame_bytes = int(df.memory_usage(deep=False).sum())
    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.register("events", df[["timestamp", "name", "source", "value", "userID"]])
    print(f"frame: {len(df):,} rows, {df['userID'].nunique():,} users, {len(NAMES)} names, 30 days, "
          f"{mb(frame_bytes)}; built in {seconds:.1f} s; pandas {pd.__version__}, numpy {np.__version__}, "
          f"duckdb {duckdb.__version__}")
    print(f"machine: {load()} at the start")
    header = f"{'case':30} {'ours':>16} {'duckdb':>16} {'pandas':>16} {'vs duckdb':>10} {'vs pandas':>10} {'memory':>9}"
    print(header)
    targets = Targets()
    failed = False
    cases = [case for make in CASES for case in make(df) if args.only is None or args.only in case.name]
    for case in cases:
        extra, ours_result = allocated_peak(case.ours)  # a run of its own: tracing slows it
        ours_t, ours_cpu, duck_t, duck_cpu, naive_t = [], [], [], [], []
        duck_result = naive_result = None
        for i in range(args.repeat):  # alternate, so that all see the same machine load
            t, cpu, _ = cpu_timed(case.ours)
            ours_t.append(t)
            ours_cpu.append(cpu)
            t, cpu, duck_result = cpu_timed(lambda sql=case.duckdb_sql: con.execute(sql).df())
            duck_t.append(t)
            duck_cpu.append(cpu)
            if not args.skip_naive and (i == 0 or naive_t[-1] < 60):
                t, naive_result = timed(case.naive)
                naive_t.append(t)
        agree = case.compare(ours_result, duck_result) and (naive_result is None
                                                            or case.compare(ours_result, naive_result))
        failed |= not agree
        best = min(ours_t)
        naive_best = min(naive_t) if naive_t else float("nan")
        naive_median = statistics.median(naive_t) if naive_t else 0
        print(f"{case.name:30} {best:7.3f}s ({statistics.median(ours_t):.2f}) {min(duck_t):7.3f}s "
              f"({statistics.median(duck_t):.2f}) {naive_best:7.3f}s ({naive_median:.2f})"
              f" {min(duck_t) / best:9.2f}x {naive_best / best:9.2f}x {mb(extra):>9}"
              f"   cpu: ours {min(ours_cpu):.2f}s, duckdb {min(duck_cpu):.2f}s"
              + ("" if agree else "  ANSWERS DIFFER"), flush=True)
        targets.check(f"{case.name}: seconds", best, MAX_SECONDS, at_least=False, unit=" s")
        targets.check(f"{case.name}: DuckDB time / ours", min(duck_t) / best, 1.0, at_least=True)
        if rows >= 10_000_000:  # the targets are set for ten million rows; a small frame's fixed costs dominate
            targets.check(f"{case.name}: extra peak memory / frame size", extra / frame_bytes, 1.0, at_least=False)
    print(f"machine: {load()} at the end")
    status = targets.report()
    if failed:
        print("some answers differ between ours, DuckDB and pandas")
    return 1 if failed else status


if __name__ == "__main__":
    sys.exit(main())
