"""statsig_pandas.dask: time windows as partitions, read by the worker processes of a real cluster."""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import os
import pickle

import cloudpickle
import dask
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

import statsig_pandas
import statsig_pandas.dask as sd
from statsig_pandas import AuthenticationError, RetryPolicy, StatsigError
from statsig_pandas.testing import StatsigEmulator

DAY = 86_400_000
T0 = 1_790_035_200_000  # 2026-09-22 00:00 UTC: the emulator's events cover four whole days from here
SECRET = "planted-secret-9f3b2c7d1e"  # not key-shaped, so no redaction pattern could hide a leak of it
NAMES = ["purchase", "add_to_cart"]


def ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


@pytest.fixture(scope="module")
def emu():
    with StatsigEmulator.for_logs(20_000, start_ms=T0, end_ms=T0 + 4 * DAY, api_key=SECRET, seed=7) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes on 127.0.0.1, started without any STATSIG_* variable."""
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("STATSIG_")]:
            mp.delenv(name)
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=logging.ERROR,
                               scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})  # health page: any free port
    with cluster, Client(cluster, set_as_default=False) as c:
        yield c


def read(emu, start, end, **kwargs):
    kwargs.setdefault("api_key", SECRET)
    return sd.read_events(NAMES, start=ts(start), end=ts(end), base_url=emu.url, **kwargs)


def reference(emu, start, end):
    return statsig_pandas.read_events(NAMES, start=ts(start), end=ts(end), base_url=emu.url, api_key=SECRET,
                                      progress=False)


def graph_texts(ddf) -> list[str]:
    """Every textual view of a collection and its graph a user, a log or a dashboard could show."""
    graph = ddf.__dask_graph__()
    tasks = dict(graph.to_dict() if hasattr(graph, "to_dict") else graph)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        ddf.pprint()
    return [repr(ddf), str(ddf), ddf._repr_html_(), repr(ddf.dask), str(ddf.dask), repr(graph), repr(tasks),
            repr(ddf.expr), ddf.expr.tree_repr(), repr(ddf.expr.operands), shown.getvalue(),
            repr(ddf.__dask_keys__()), ddf._name, dask.base.tokenize(ddf), repr(ddf.optimize().dask),
            *(repr(getattr(task, "kwargs", task)) for task in tasks.values())]


@pytest.mark.slow
def test_computed_frame_equals_the_pandas_reader_even_with_convert_string_on(emu, client):
    start, end = T0 + 5 * 3_600_000, T0 + 4 * DAY + 12 * 3_600_000  # the last half day has no events
    with dask.config.set({"dataframe.convert-string": True}):
        ddf = read(emu, start, end)
        got = ddf.compute(scheduler=client)
    want = reference(emu, start, end)
    assert len(want) > 10_000 and ddf.npartitions == 5
    assert got.dtypes.to_dict() == want.dtypes.to_dict()
    assert [str(d) for d in got.dtypes] == [str(d) for d in statsig_pandas.SCHEMA.values()]
    assert list(ddf.columns) == list(want.columns)
    assert ddf.dtypes["metadata"] == np.dtype(object) and ddf.dtypes["value"] == want.dtypes["value"]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_categorical=False)
    assert all(isinstance(m, dict) for m in got["metadata"]) and got["metadata"].map(len).sum() > 0
    assert got["metadata"].tolist() == want["metadata"].tolist()


@pytest.mark.slow
def test_partitions_are_the_days_in_time_order_read_by_the_workers(emu, client):
    start, end = T0 + 6 * 3_600_000, T0 + 3 * DAY + 3_600_000
    ddf = read(emu, start, end)
    edges = [start, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY, end]
    assert ddf.npartitions == 4 and not ddf.known_divisions
    persisted = client.persist(ddf)
    parts = client.gather(client.compute(persisted.to_delayed()))
    for part, lo, hi in zip(parts, edges, edges[1:]):
        stamps = part["timestamp"].astype("int64")
        assert len(part) and stamps.is_monotonic_increasing and lo <= stamps.min() and stamps.max() < hi
    assert sum(map(len, parts)) == len(reference(emu, start, end))
    # Each partition was read where it lives: by more than one worker process.
    where = client.who_has(persisted)
    assert len({w for workers in where.values() for w in workers}) == 2


@pytest.mark.slow
def test_the_key_is_in_no_repr_graph_token_or_log(emu, client, caplog):
    caplog.set_level(logging.DEBUG)
    start, end = T0, T0 + 2 * DAY
    ddf = read(emu, start, end)
    texts = graph_texts(ddf)
    persisted = client.persist(ddf)
    client.gather(client.compute(persisted.to_delayed()))
    texts += client.run_on_scheduler(lambda dask_scheduler: [repr(t.run_spec) for t in dask_scheduler.tasks.values()])
    del persisted
    texts += [str(client.get_worker_logs()), str(client.get_scheduler_logs()), caplog.text]
    leaks = [t[:200] for t in texts if SECRET in t]
    assert not leaks
    assert "ApiKey(***)" in repr(ddf.expr.operands) and "read-statsig-events" in ddf._name
    assert read(emu, start, end, api_key=SECRET + "x")._name != ddf._name  # other keys, other tasks


@pytest.mark.slow
def test_a_bad_key_raises_authentication_error_at_compute_without_showing_it(emu, client):
    bad = "wrong-key-5c8a0e"
    # The cluster holds the same read done with the right key: the bad key must not be served it.
    held = client.persist(read(emu, T0, T0 + DAY))
    client.gather(client.compute(held.to_delayed()))
    ddf = read(emu, T0, T0 + DAY, api_key=bad)  # building the graph contacts nobody
    with pytest.raises(AuthenticationError) as info:
        ddf.compute(scheduler=client)
    del held
    assert info.value.status == 401 and "STATSIG_CONSOLE_API_KEY" in str(info.value)
    logs = str(client.get_worker_logs())
    assert "Compute Failed" in logs and "AuthenticationError" in logs  # the failure was logged, key-free
    assert bad not in str(info.value) + logs + info.value.body


@pytest.mark.slow
def test_key_and_url_from_the_client_environment_serve_workers_that_have_neither(emu, client, monkeypatch):
    monkeypatch.setenv("STATSIG_CONSOLE_API_KEY", SECRET)
    monkeypatch.setenv("STATSIG_CONSOLE_API_URL", emu.url)
    on_workers = client.run(lambda: [os.environ.get(k) for k in ("STATSIG_CONSOLE_API_KEY", "STATSIG_CONSOLE_API_URL")])
    assert all(v == [None, None] for v in on_workers.values())
    ddf = sd.read_events("purchase", start=ts(T0), end=ts(T0 + DAY), partition_freq=3,
                         retry=RetryPolicy(max_attempts=2, jitter=lambda: 0.0))  # a policy travels too
    got = ddf.compute(scheduler=client)
    want = statsig_pandas.read_events("purchase", start=ts(T0), end=ts(T0 + DAY), progress=False)
    assert ddf.npartitions == 3 and len(got) == len(want) > 0


def test_no_key_means_no_graph(emu):
    with pytest.raises(StatsigError, match="STATSIG_CONSOLE_API_KEY"):
        sd.read_events("purchase", start=ts(T0), end=ts(T0 + DAY), base_url=emu.url)


@pytest.mark.parametrize("kwargs, message", [
    (dict(partition_freq="fortnightly"), "partition_freq must be a pandas frequency"),
    (dict(partition_freq="-1D"), "partition_freq must be a pandas frequency"),
    (dict(partition_freq=0), "number of partitions must be 1 to"),
    (dict(partition_freq="s"), "more than 10000 partitions"),
    (dict(end=ts(T0 - 1)), "must be after start"),
    (dict(start="not a date"), "start must be a date"),
    (dict(errors="ignore"), "errors must be"),
    (dict(max_concurrency=0), "max_concurrency must be a positive integer"),
    (dict(base_url="http://example.com"), "plain http"),
])
def test_bad_arguments_raise_statsig_error_at_the_call(kwargs, message):
    args = dict(start=ts(T0), end=ts(T0 + DAY), api_key=SECRET, base_url="http://127.0.0.1:9") | kwargs
    with pytest.raises(StatsigError, match=message) as info:
        sd.read_events("purchase", **args)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("freq, edges", [
    ("D", [T0 + 3_600_000, T0 + DAY, T0 + 2 * DAY, T0 + 2 * DAY + 5]),
    ("12h", [T0 + 3_600_000, T0 + DAY // 2, T0 + DAY, T0 + 3 * DAY // 2, T0 + 2 * DAY, T0 + 2 * DAY + 5]),
    ("W", [T0 + 3_600_000, T0 + 2 * DAY + 5]),  # 2026-09-22 is a Tuesday: no Sunday boundary in range
    (2, [T0 + 3_600_000, T0 + DAY + 1_800_002, T0 + 2 * DAY + 5]),
])
def test_partition_freq_cuts_on_utc_boundaries_or_into_equal_windows(freq, edges):
    ddf = sd.read_events("purchase", start=ts(T0 + 3_600_000), end=ts(T0 + 2 * DAY + 5), partition_freq=freq,
                         api_key=SECRET, base_url="http://127.0.0.1:9")
    assert ddf.npartitions == len(edges) - 1
    assert ddf.expr.operand("iterables")[0] == list(itertools.pairwise(edges))


def test_column_projection_reads_only_what_is_used(emu):
    ddf = read(emu, T0, T0 + DAY, partition_freq=2)
    got = ddf[["timestamp", "userID"]].compute(scheduler="sync")
    want = reference(emu, T0, T0 + DAY)[["timestamp", "userID"]]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)


def test_api_key_wrapper_pickles_the_key_but_never_shows_it_or_tokenizes_from_it():
    key = sd.ApiKey(SECRET)
    assert SECRET not in repr(key) + str(key) + f"{key}" + repr([key]) + repr({"k": key})
    assert pickle.loads(pickle.dumps(key)).reveal() == SECRET
    assert cloudpickle.loads(cloudpickle.dumps(key)).reveal() == SECRET
    # Tokens are stable for one wrapper, wherever it goes, and have nothing to do with the key.
    assert dask.base.tokenize(key) == dask.base.tokenize(key) == dask.base.tokenize(pickle.loads(pickle.dumps(key)))
    assert dask.base.tokenize(key) != dask.base.tokenize(sd.ApiKey(SECRET))
