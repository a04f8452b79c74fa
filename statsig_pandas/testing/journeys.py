"""Synthetic user journeys: visitors who browse, add to cart and buy, and come back less and less.

:func:`~statsig_pandas.testing.synthetic_events` draws every event on its own,
which is right for the reader's tests but gives a funnel, a retention
triangle or a path nothing to find. Here each user has a first day in the
span, returns on later days with a chance that decays with the days since,
and on each active day has one to three sessions of a few minutes. A session
runs one or more times through the journey's steps (``page_view`` ->
``add_to_cart`` -> ``purchase`` by default), viewing pages and going on to
each next step with a set chance, so the funnel drops off at every step.

Everything is drawn with numpy, per user, day and session, never per event in
Python: 5,000 users over four weeks (about 60,000 events) take well under a
second. The same seed and ``end_ms`` give the same events.

>>> from statsig_pandas.testing.journeys import journey_store
>>> store = journey_store(200, days=14, seed=1, end_ms=1_774_000_000_000)
>>> store.names
('page_view', 'add_to_cart', 'purchase')
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .logs import DAY_MS, SDK_VERSIONS, LogStore
from .synthetic import COUNTRIES, PLANS, SOURCES, VALUES

__all__ = ["JOURNEY_STEPS", "Journeys", "journeys", "journey_store", "journey_events", "journey_frame"]

#: The default journey, in the order a user goes through it.
JOURNEY_STEPS = ("page_view", "add_to_cart", "purchase")
_MINUTE_MS = 60_000
_HOUR_MS = 3_600_000
# Sessions of one day start this far apart, and no gap inside a session reaches 30 min (the
# usual session split), so sessions come out as drawn whatever the analysis' gap.
_SESSION_SPACING_MS = 3 * _HOUR_MS
_MAX_GAP_MS = 20 * _MINUTE_MS


@dataclass(frozen=True)
class Journeys:
    """The drawn events, column by column (one entry per event, in no particular order).

    ``step`` indexes ``steps``, ``user`` the user IDs ``users``; ``session``
    numbers sessions across all users (for tests: the events a session holds).
    Within a session, events are in time order.
    """

    steps: tuple[str, ...]
    ts: np.ndarray
    step: np.ndarray
    user: np.ndarray
    session: np.ndarray
    source: np.ndarray
    value: np.ndarray
    fields: np.ndarray
    values: list[str]
    users: list[str]
    fields_table: list[dict]

    def __len__(self) -> int:
        return len(self.ts)


def journeys(
    users: int = 2_000,
    *,
    days: int = 28,
    seed: int = 0,
    end_ms: int | None = None,
    steps: Sequence[str] = JOURNEY_STEPS,
    step_rates: Sequence[float] | None = None,
    return_rate: float = 0.35,
    return_decay: float = 0.8,
    loyal_rate: float = 0.03,
    history: int | None = None,
    engagement: float = 1.5,
    sessions_per_day: float = 0.4,
    rounds_per_session: float = 0.5,
    views_per_round: float = 1.0,
) -> Journeys:
    """Draw the journeys of ``users`` users over the ``days`` days before ``end_ms``.

    Parameters
    ----------
    users : int, default 2,000
        Number of users who first show up in the span, each on a day drawn
        uniformly from it.
    days : int, default 28
        Length of the span in days; it ends at ``end_ms``.
    seed : int, default 0
        Seed of the random generator.
    end_ms : int, optional
        Epoch milliseconds of the end of the span (exclusive); default now.
    steps : sequence of str, default ``JOURNEY_STEPS``
        Event names of the journey, in order. A session is made of rounds: in
        each, the first step is logged one or more times, then each later
        one at most once, in order.
    step_rates : sequence of float, optional
        The chance that a round reaching step ``k`` goes on to step ``k + 1``,
        one per step after the first; default 0.25 then 0.25 (and 0.5 for
        any further step).
    return_rate, return_decay, loyal_rate : float
        A user is active ``k`` days after their first day with chance
        ``return_rate * return_decay ** (k - 1) + loyal_rate``.
    engagement : float, default 1.5
        Users differ: each has a keenness drawn from a gamma law of this
        shape and mean 1, which multiplies both their chance to return and
        their chances to go on through the steps (so those who come back buy
        more, as in real data). 0 makes every user alike.
    history : int, optional
        Users first came at the same pace over this many days before the span
        (default ``days``): they show up only on the days they come back.
    sessions_per_day : float, default 0.4
        Mean number of extra sessions on an active day (Poisson; at most 2 extra).
    rounds_per_session : float, default 0.5
        Mean number of extra rounds a session (Poisson; at most 3 extra).
    views_per_round : float, default 1.0
        Mean number of extra first-step events a round (Poisson).

    Returns
    -------
    Journeys

    Examples
    --------
    >>> j = journeys(500, seed=3, end_ms=1_774_000_000_000)
    >>> bool((np.bincount(j.step) == np.sort(np.bincount(j.step))[::-1]).all())  # each step fewer
    True
    """
    steps = tuple(steps)
    if len(steps) < 1 or len(set(steps)) != len(steps):
        raise ValueError("steps must be distinct event names, at least one")
    if step_rates is None:
        step_rates = ([0.25, 0.25] + [0.5] * (len(steps) - 3))[: len(steps) - 1]
    step_rates = np.asarray(step_rates, dtype=float)
    if len(step_rates) != len(steps) - 1 or ((step_rates < 0) | (step_rates > 1)).any():
        raise ValueError(f"step_rates needs {len(steps) - 1} chances between 0 and 1, one per step after the first")
    if users < 1 or days < 1:
        raise ValueError("users and days must be positive")
    if engagement < 0:
        raise ValueError("engagement is a gamma shape: 0 (every user alike) or more")
    if history is not None and history < 0:
        raise ValueError("history is a number of days, 0 or more")
    rng = np.random.default_rng(seed)
    end_ms = int(time.time() * 1000) if end_ms is None else int(end_ms)
    # Days are UTC calendar days (so the daily rhythm falls on the clock's hours); the first and
    # last may be cut by the span's ends.
    start_ms = end_ms - days * DAY_MS
    day0 = start_ms - start_ms % DAY_MS
    grid = -(-(end_ms - day0) // DAY_MS)

    # Which days each user is active: their first, then returns that fade with the days since.
    # Users kept arriving at the same pace before the span, so it opens on a running product, not
    # an empty one; those who never come back in the span are not in it.
    history = days if history is None else history
    users += users * history // days
    first = rng.integers(-history, grid, size=users)
    # Users differ: the keen come back more often and buy more readily (mean 1 over users).
    keen = rng.gamma(engagement, 1 / engagement, size=users) if engagement else np.ones(users)
    since = np.arange(grid)[None, :] - first[:, None]
    chance = np.where(since > 0, return_rate * return_decay ** (np.maximum(since, 1) - 1) + loyal_rate, 0.0)
    chance = np.minimum(chance * keen[:, None], 0.95)
    active = (since == 0) | (rng.random((users, grid)) < chance)
    day_user, day = np.nonzero(active)

    # Sessions: one to three an active day, a few hours apart, starting at a busy hour more often.
    session_day, nth = _expand(1 + np.minimum(rng.poisson(sessions_per_day, size=len(day)), 2))
    hour_weights = 1.0 + np.sin((np.arange(24) - 9) / 24 * 2 * np.pi) * 0.8
    hour = rng.choice(24, size=len(day), p=hour_weights / hour_weights.sum())
    start = (day0 + day[session_day] * DAY_MS
             + (hour[session_day] * _HOUR_MS + nth * _SESSION_SPACING_MS) % DAY_MS
             + rng.integers(0, 30 * _MINUTE_MS, size=len(session_day)))
    session_user = day_user[session_day]

    # A session is one to four rounds of browsing: pages viewed, then on through the steps while
    # the draws succeed (so a cart may be left and the user browse on, or buy and browse again).
    n_sessions = len(start)
    round_session, _ = _expand(1 + np.minimum(rng.poisson(rounds_per_session, size=n_sessions), 3))
    views = 1 + rng.poisson(views_per_round, size=len(round_session))
    round_keen = keen[day_user[session_day]][round_session]
    rates = np.minimum(step_rates[None, :] * round_keen[:, None], 0.95)
    reached = np.cumprod(rng.random((len(round_session), len(steps) - 1)) < rates, axis=1).sum(axis=1)
    event_round, position = _expand(views + reached)
    step = np.maximum(position - views[event_round] + 1, 0)
    session = round_session[event_round]
    per_session = np.bincount(session, minlength=n_sessions)
    opens = np.cumsum(per_session) - per_session
    gaps = np.minimum(rng.exponential(90_000, size=len(session)).astype(np.int64), _MAX_GAP_MS)
    gaps[opens] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[opens], per_session)
    ts = start[session] + elapsed
    user = session_user[session]

    # A user keeps one client and one set of metadata (if any); values: categories, amounts for the last step.
    user_source = rng.choice(len(SOURCES), size=users, p=_harmonic(len(SOURCES)))
    fields_table = [{}] + [{"plan": p, "country": c} for p in PLANS for c in COUNTRIES]
    user_fields = np.where(rng.random(users) < 0.7, rng.integers(1, len(fields_table), size=users), 0)
    amounts = [f"{a:.2f}" for a in np.round(rng.gamma(2.0, 15.0, size=400), 2)]
    value = rng.choice(len(VALUES), size=len(ts), p=_harmonic(len(VALUES)))
    buying = step == len(steps) - 1 if len(steps) > 1 else np.zeros(len(ts), dtype=bool)
    value[buying] = len(VALUES) + rng.integers(0, len(amounts), size=int(buying.sum()))
    keep = (ts >= start_ms) & (ts < end_ms)
    width = max(4, len(str(users - 1)))
    return Journeys(steps=steps, ts=ts[keep], step=step[keep], user=user[keep], session=session[keep],
                    source=user_source[user[keep]], value=value[keep], fields=user_fields[user[keep]],
                    values=list(VALUES) + amounts, users=[f"{u:0{width}d}" for u in range(users)],
                    fields_table=fields_table)


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Items with ``counts[i]`` parts each: every part's item and its place among the item's parts."""
    owner = np.repeat(np.arange(len(counts)), counts)
    return owner, np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)


def _harmonic(k: int) -> np.ndarray:
    w = 1.0 / np.arange(1, k + 1)
    return w / w.sum()


def journey_store(users: int = 2_000, **kwargs) -> LogStore:
    """The :class:`~statsig_pandas.testing.logs.LogStore` of :func:`journeys` (same arguments).

    What :meth:`StatsigEmulator.for_journeys <statsig_pandas.testing.StatsigEmulator.for_journeys>`
    serves, on the events and the logs endpoint alike.

    Examples
    --------
    >>> store = journey_store(100, days=7, seed=2, end_ms=1_774_000_000_000)
    >>> rows, total = store.select("purchase", 0, 1_774_000_000_000, limit=1)
    >>> store.event_items(rows)[0]["name"], total > 0
    ('purchase', True)
    """
    j = journeys(users, **kwargs)
    seed = kwargs.get("seed", 0)
    order = np.lexsort((j.ts, j.step))
    bounds = np.concatenate([[0], np.cumsum(np.bincount(j.step, minlength=len(j.steps)))])
    version = np.random.default_rng(seed).integers(0, len(SDK_VERSIONS), size=len(j), dtype=np.int8)
    return LogStore(names=j.steps, bounds=bounds, ts=j.ts[order], source=j.source[order].astype(np.int8),
                    value=j.value[order].astype(np.int32), user=j.user[order].astype(np.int32),
                    version=version, fields=j.fields[order].astype(np.int8), sources=SOURCES, values=j.values,
                    users=j.users, versions=SDK_VERSIONS, fields_table=j.fields_table,
                    id_base=((seed & 0xFFFFFF) | 0x800000) << 40)


def journey_events(users: int = 2_000, **kwargs) -> list[dict]:
    """The events of :func:`journeys` in the events endpoint's shape, newest first (same arguments).

    Examples
    --------
    >>> events = journey_events(50, days=7, seed=4, end_ms=1_774_000_000_000)
    >>> sorted(events[0])
    ['metadata', 'name', 'source', 'timestamp', 'userID', 'value']
    """
    return journey_store(users, **kwargs).events_view()[:]


def journey_frame(users: int = 2_000, **kwargs):
    """The events of :func:`journeys` as :func:`statsig_pandas.read_events` would return them (same arguments).

    Built by the reader's own frame builder, so dtypes, sort order and the
    shared read-only metadata are the reader's.

    Examples
    --------
    >>> df = journey_frame(300, seed=5, end_ms=1_774_000_000_000)
    >>> df["name"].value_counts().index.tolist()
    ['page_view', 'add_to_cart', 'purchase']
    """
    from ..decode import convert_dicts
    from ..frame import build_frame

    frame, _ = build_frame([convert_dicts(journey_events(users, **kwargs), page=1)])
    return frame
