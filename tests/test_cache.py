"""The cache of settled days on its own: storage, keys, manifests, damage, info and clear."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import stat
import warnings

import pandas as pd
import pyarrow as pa
import pytest

from statsig_pandas import Cache, StatsigError, StatsigWarning, cache_info, clear_cache
from statsig_pandas.cache import CACHE_DIR_ENV, DEFAULT_SETTLE, day_label, settle_ms, settled_days
from statsig_pandas.endpoints import DAY_MS

HOST = "https://statsigapi.net"
FINGERPRINT = "0123456789abcdef" * 2
QUERY = {"source": "events", "query": 'event_name:"purchase"'}
TODAY = pd.Timestamp.now(tz="UTC").value // 10**6 // DAY_MS


def table(n=3, offset=0):
    return pa.table({"timestamp": pa.array(range(offset, offset + n), pa.int64()),
                     "value": pa.array([f"v{i}" for i in range(n)], pa.large_string())})


@pytest.fixture
def scope(tmp_path):
    return Cache(tmp_path / "cache").scope(HOST, FINGERPRINT)


def files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


# -- settling -----------------------------------------------------------------------------------

@pytest.mark.parametrize("settle, ms", [("6h", 6 * 3_600_000), (dt.timedelta(minutes=5), 300_000),
                                        (pd.Timedelta(0), 0), ("2D", 2 * DAY_MS), (None, DAY_MS)])
def test_settle_accepts_durations(settle, ms):
    assert settle_ms(settle) == ms
    assert DEFAULT_SETTLE == pd.Timedelta(days=1)


@pytest.mark.parametrize("settle", [3600, 1.5, True, "soon", "-1h", pd.NaT])
def test_settle_refuses_what_is_not_a_duration(settle):
    with pytest.raises(StatsigError, match="settle must be"):
        settle_ms(settle)


def test_settled_days_are_whole_days_that_ended_settle_ago():
    now = 10 * DAY_MS + 5 * 3_600_000  # day 10, 05:00
    # Day 9 ended 5 h ago: settled for settle <= 5 h only; day 10 never.
    assert settled_days(7 * DAY_MS, 11 * DAY_MS, now_ms=now, settle_ms=0) == [7, 8, 9]
    assert settled_days(7 * DAY_MS, 11 * DAY_MS, now_ms=now, settle_ms=5 * 3_600_000) == [7, 8, 9]
    assert settled_days(7 * DAY_MS, 11 * DAY_MS, now_ms=now, settle_ms=5 * 3_600_000 + 1) == [7, 8]
    assert settled_days(7 * DAY_MS, 11 * DAY_MS, now_ms=now, settle_ms=DAY_MS) == [7, 8]
    # Partial first and last days count as their whole day; end is exclusive.
    assert settled_days(7 * DAY_MS + 1, 9 * DAY_MS, now_ms=now, settle_ms=0) == [7, 8]
    assert settled_days(7 * DAY_MS + 1, 9 * DAY_MS + 1, now_ms=now, settle_ms=0) == [7, 8, 9]
    assert settled_days(9 * DAY_MS, 11 * DAY_MS, now_ms=now, settle_ms=2 * DAY_MS) == []
    # A 90-day range read in the morning with the default: 89 days settled.
    assert len(settled_days(now - 90 * DAY_MS, now, now_ms=now, settle_ms=settle_ms(None))) == 89


def test_day_labels_are_utc_dates():
    assert day_label(0) == "1970-01-01"
    assert day_label(pd.Timestamp("2026-11-30T23:59:59Z").value // 10**6 // DAY_MS) == "2026-11-30"


# -- storing and loading ------------------------------------------------------------------------

def test_a_saved_day_loads_back_equal(scope):
    scope.save("purchase", QUERY, TODAY - 3, table())
    assert scope.load("purchase", QUERY, TODAY - 3).equals(table())
    assert scope.days("purchase", QUERY) == [TODAY - 3]
    assert scope.load("purchase", QUERY, TODAY - 4) is None


def test_an_empty_day_is_a_cached_day_of_no_rows(scope):
    scope.save("purchase", QUERY, TODAY - 3, table(0))
    loaded = scope.load("purchase", QUERY, TODAY - 3)
    assert loaded is not None and loaded.num_rows == 0 and loaded.schema == table(0).schema


def test_saving_again_replaces_the_day_and_its_old_file(scope):
    scope.save("purchase", QUERY, TODAY - 3, table(3))
    scope.save("purchase", QUERY, TODAY - 3, table(5))
    assert scope.load("purchase", QUERY, TODAY - 3).num_rows == 5
    assert len([p for p in files(scope.path) if p.suffix == ".parquet"]) == 1


def test_folders_are_private_to_the_user_and_files_too(tmp_path, scope):
    scope.save("purchase", QUERY, TODAY - 3, table())
    root = tmp_path / "cache"
    for path in [root, *(p for p in root.rglob("*"))]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_the_manifest_records_rows_size_and_checksum(scope):
    scope.save("purchase", QUERY, TODAY - 3, table(4))
    (manifest_path,) = [p for p in files(scope.path) if p.suffix == ".json"]
    manifest = json.loads(manifest_path.read_text())
    data = (manifest_path.parent / manifest["file"]).read_bytes()
    assert manifest["rows"] == 4 and manifest["bytes"] == len(data) and manifest["event"] == "purchase"
    assert manifest["day"] == day_label(TODAY - 3) and manifest["format"] == 1
    import hashlib

    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert not [p for p in files(scope.path) if p.name.startswith(".tmp-")]  # nothing half-written left


def _damage(scope, how):
    (manifest_path,) = [p for p in files(scope.path) if p.suffix == ".json"]
    data_path = manifest_path.parent / json.loads(manifest_path.read_text())["file"]
    if how == "truncated":
        data_path.write_bytes(data_path.read_bytes()[:-20])
    elif how == "flipped":
        data = bytearray(data_path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        data_path.write_bytes(bytes(data))
    elif how == "missing":
        data_path.unlink()
    elif how == "manifest":
        manifest_path.write_text("{not json")
    elif how == "rows":
        manifest = json.loads(manifest_path.read_text())
        manifest["rows"] += 1
        manifest_path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("how, says", [("truncated", "bytes"), ("flipped", "checksum"), ("missing", "missing"),
                                       ("manifest", "manifest"), ("rows", "rows")])
def test_a_damaged_day_is_reported_removed_and_not_served(scope, how, says):
    scope.save("purchase", QUERY, TODAY - 3, table())
    _damage(scope, how)
    with pytest.warns(StatsigWarning, match=f"cached day {day_label(TODAY - 3)} of 'purchase'.*{says}"):
        assert scope.load("purchase", QUERY, TODAY - 3) is None
    assert scope.days("purchase", QUERY) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once removed, it is simply not there
        assert scope.load("purchase", QUERY, TODAY - 3) is None
    scope.save("purchase", QUERY, TODAY - 3, table())
    assert scope.load("purchase", QUERY, TODAY - 3).equals(table())


# -- keys ---------------------------------------------------------------------------------------

def test_hosts_keys_names_and_queries_never_share_days(tmp_path):
    cache = Cache(tmp_path)
    base = cache.scope(HOST, FINGERPRINT)
    base.save("purchase", QUERY, TODAY - 3, table())
    others = [
        (cache.scope("https://eu.statsigapi.net", FINGERPRINT), "purchase", QUERY),
        (cache.scope("http://127.0.0.1:8000", FINGERPRINT), "purchase", QUERY),
        (cache.scope(HOST, "f" * 32), "purchase", QUERY),
        (base, "add_to_cart", QUERY),
        (base, "purchase", {"source": "events", "query": 'event_name:"purchase" AND x'}),
    ]
    for scope, name, query in others:
        assert scope.load(name, query, TODAY - 3) is None


def test_a_scope_takes_a_fingerprint_never_a_key(tmp_path):
    with pytest.raises(StatsigError, match="fingerprint, never the key"):
        Cache(tmp_path).scope(HOST, "console-abc123secret")


def test_the_salt_is_random_private_and_kept(tmp_path):
    salt = Cache(tmp_path / "a").salt()
    assert len(salt) == 32 and Cache(tmp_path / "a").salt() == salt
    assert Cache(tmp_path / "b").salt() != salt
    assert stat.S_IMODE((tmp_path / "a" / "salt").stat().st_mode) == 0o600


def _salt_of(path):
    return Cache(path).salt()


def test_processes_creating_the_salt_at_once_agree(tmp_path):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        salts = pool.map(_salt_of, [tmp_path / "c"] * 4)
    assert len(set(salts)) == 1 and salts[0] == Cache(tmp_path / "c").salt()


def _fill(args):
    path, rows = args
    scope = Cache(path).scope(HOST, FINGERPRINT)
    for _ in range(20):
        scope.save("purchase", QUERY, TODAY - 3, table(rows))
    return scope.load("purchase", QUERY, TODAY - 3).num_rows


def test_processes_filling_the_same_day_leave_a_whole_day(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            loaded = pool.map(_fill, [(tmp_path, 1000)] * 4)
    assert loaded == [1000] * 4
    scope = Cache(tmp_path).scope(HOST, FINGERPRINT)
    assert scope.load("purchase", QUERY, TODAY - 3).equals(table(1000))
    assert len([p for p in files(tmp_path) if p.suffix == ".parquet"]) == 1
    assert not [p for p in files(tmp_path) if p.name.startswith(".tmp-")]


# -- choosing the folder ------------------------------------------------------------------------

def test_cache_true_uses_the_environment_folder_else_the_user_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "env"))
    assert Cache.resolve(True).path == tmp_path / "env"
    monkeypatch.delenv(CACHE_DIR_ENV)
    import platformdirs

    assert Cache.resolve(True).path == platformdirs.user_cache_path("statsig-pandas", appauthor=False)
    assert Cache.resolve(str(tmp_path / "x")).path == tmp_path / "x"
    assert Cache.resolve(tmp_path / "x") == Cache(tmp_path / "x")
    assert Cache.resolve(None) is None and Cache.resolve(False) is None


@pytest.mark.parametrize("bad", [1, 2.5, ["a"], b"path"])
def test_a_cache_argument_that_names_no_folder_is_refused(bad):
    with pytest.raises(StatsigError, match="cache must be True, a folder or a Cache"):
        Cache.resolve(bad)


def test_a_file_is_not_a_cache_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(StatsigError, match="is a file"):
        Cache(tmp_path / "f")


# -- info and clear -----------------------------------------------------------------------------

def fill_two_events(tmp_path):
    cache = Cache(tmp_path)
    scope = cache.scope(HOST, FINGERPRINT)
    for day in (TODAY - 40, TODAY - 39, TODAY - 2):
        scope.save("purchase", QUERY, day, table(3))
    scope.save("add_to_cart", {"source": "events", "query": 'event_name:"add_to_cart"'}, TODAY - 2, table(7))
    return cache


def test_info_counts_days_and_events_per_event_name(tmp_path):
    info = cache_info(fill_two_events(tmp_path))
    assert info["path"] == str(tmp_path) and info["days"] == 4
    assert info["bytes"] == sum(p.stat().st_size for p in files(tmp_path))
    events = info["events"].set_index("event")
    assert events.loc["purchase", "days"] == 3 and events.loc["purchase", "rows"] == 9
    assert events.loc["purchase", "first_day"] == day_label(TODAY - 40)
    assert events.loc["purchase", "last_day"] == day_label(TODAY - 2)
    assert events.loc["add_to_cart", "days"] == 1 and events.loc["add_to_cart", "rows"] == 7
    assert set(info["events"]["host"]) == {next((tmp_path / "v1").iterdir()).name}


def test_clear_older_than_and_by_event(tmp_path):
    cache = fill_two_events(tmp_path)
    salt = cache.salt()
    assert clear_cache(cache, older_than="30d")["days_removed"] == 2
    assert cache.info()["days"] == 2
    assert cache.clear(event="add_to_cart")["days_removed"] == 1
    assert list(cache.info()["events"]["event"]) == ["purchase"]
    freed = cache.clear()
    assert freed["days_removed"] == 1 and freed["bytes_freed"] > 0
    assert cache.info()["days"] == 0 and not (tmp_path / "v1").exists()
    assert cache.salt() == salt  # a later fill keeps the same fingerprints


def test_clear_of_one_event_removes_its_folder(tmp_path):
    cache = fill_two_events(tmp_path)
    cache.clear(event="purchase")
    assert len([p for p in (tmp_path / "v1").glob("*/*/*") if p.is_dir()]) == 1


@pytest.mark.parametrize("kwargs, match", [({"older_than": "later"}, "older_than must be a duration"),
                                           ({"event": ""}, "event name")])
def test_clear_refuses_bad_filters(tmp_path, kwargs, match):
    with pytest.raises(StatsigError, match=match):
        Cache(tmp_path).clear(**kwargs)


def test_info_of_a_cache_never_written(tmp_path):
    info = Cache(tmp_path / "never").info()
    assert info["days"] == 0 and info["bytes"] == 0 and info["events"].empty
    assert not (tmp_path / "never").exists()
