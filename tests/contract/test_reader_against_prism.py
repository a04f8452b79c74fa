"""The reader against Prism mocking Statsig's published spec: the outside referee.

Prism checks every request against the spec (a violation is a 4xx with an
``sl-violations`` header) and answers either the documented example (static
mode) or random data that fits the schema (``Prefer: dynamic=true``).
"""

from __future__ import annotations

import json
import math
import warnings
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd
import pytest
import requests

from statsig_pandas import AuthenticationError, StatsigAPIError, StatsigError, StatsigWarning, read_events
from statsig_pandas.endpoints import event_path
from statsig_pandas.frame import SCHEMA, STRING_DTYPE
from statsig_pandas.transport import Transport

pytestmark = pytest.mark.contract

ENDPOINT = "/console/v1/events/{eventName}"
DYNAMIC_READS = 20
# A runaway guard, far above the tenth of a second a read of Prism takes.
READ_GUARD_SECONDS = 5


def documented(spec: dict, status: int) -> dict:
    """The example answer the spec documents for ``status``."""
    content = spec["paths"][ENDPOINT]["get"]["responses"][str(status)]["content"]["application/json"]
    return content["example"] if "example" in content else next(iter(content["examples"].values()))["value"]


def assert_typed(df: pd.DataFrame) -> None:
    """The frame has the documented columns and dtypes, whatever came over the wire."""
    assert list(df.columns) == list(SCHEMA)
    assert [str(t) for t in df.dtypes] == [str(t) for t in SCHEMA.values()]
    for column in ("name", "source"):
        assert df[column].cat.categories.dtype == STRING_DTYPE, column
    for column in ("value", "userID"):
        assert df[column].dtype == STRING_DTYPE, column
    assert all(isinstance(m, dict) for m in df["metadata"])


def read(prism, name="add_to_cart", *, session=None, **kwargs) -> pd.DataFrame:
    return read_events(name, base_url=prism.url, api_key=prism.api_key, session=session or prism.session(),
                       progress=False, **kwargs)


def test_prism_rejects_a_request_the_spec_forbids(prism):
    # The referee is awake: without this, a silent Prism would let every other test pass.
    transport = Transport(api_key=prism.api_key, base_url=prism.url, session=prism.session())
    with transport, pytest.raises(StatsigAPIError) as info:
        transport.get(event_path("add_to_cart"), {"page": "first", "limit": 7}, page=1)
    assert info.value.status == 400
    [(status, _, violations)] = prism.answers
    assert status == 400 and "page" in json.dumps(json.loads(violations))


@pytest.mark.parametrize("name", ["add_to_cart", "checkout/v2", "what? #1 & more", "a..b", "événement 名前"])
def test_every_request_the_reader_sends_fits_the_spec(prism, name):
    with pytest.warns(StatsigWarning):  # the example always says 100 events; see the next test
        read(prism, name)
    assert prism.answers, "the reader sent nothing"
    assert prism.violations() == []
    for _, url, _ in prism.answers:
        parts = urlsplit(url)
        # The name travels as exactly one path segment, as the route {eventName} requires.
        assert unquote(parts.path.rpartition("/")[2]) == name
        query = parse_qs(parts.query)
        assert int(query["page"][0]) >= 1 and int(query["limit"][0]) >= 1


@pytest.mark.parametrize("name", [".", ".."])
def test_a_name_no_url_can_carry_is_refused_before_any_request(prism, name):
    with pytest.raises(StatsigError):
        read(prism, name)
    assert prism.answers == []


def test_static_example_reads_to_its_seven_events_and_warns_of_the_shortfall(prism, spec):
    example = documented(spec, 200)
    assert len(example["data"]) == 7 and example["pagination"]["totalItems"] == 100
    with pytest.warns(StatsigWarning) as caught:
        df = read(prism, max_concurrency=4)

    # Every page asked gets the same page 1 back, saying "page 2 next": the reader stops, it does not loop.
    assert 1 <= len(prism.answers) <= 1 + 4
    assert prism.violations() == []
    messages = [str(w.message) for w in caught]
    assert any("100" in m and "7" in m for m in messages), messages

    assert_typed(df)
    events = sorted(example["data"], key=lambda e: int(e["timestamp"]))  # stable, like the reader
    assert df["timestamp"].tolist() == [pd.Timestamp(int(e["timestamp"]), unit="ms", tz="UTC") for e in events]
    for column in ("name", "source", "value", "userID"):
        assert df[column].astype(object).tolist() == [e[column] for e in events], column
    assert df["metadata"].tolist() == [{}] * 7
    assert "" in df["value"].tolist()  # an empty value stays an empty string, not <NA>
    assert "166" in df["userID"].tolist()  # numeric-looking IDs stay strings
    assert df.attrs["statsig"]["total_items_reported"] == 100


class _WithoutKey(requests.adapters.HTTPAdapter):
    """Sends what the transport prepared, minus the key header: the reader never sends such a request."""

    def send(self, request, **kwargs):
        del request.headers["STATSIG-API-KEY"]
        return super().send(request, **kwargs)


def test_documented_401_becomes_authentication_error_without_any_key(prism, spec):
    session = prism.session()
    session.mount("http://", _WithoutKey())
    transport = Transport(api_key=prism.api_key, base_url=prism.url, session=session)
    with transport, pytest.raises(AuthenticationError) as info:
        transport.get(event_path("add_to_cart"), {"page": 1, "limit": 7}, page=1)

    [(status, _, violations)] = prism.answers
    assert status == 401 and "security" in violations.lower()  # Prism saw no key: the header really was gone
    error = info.value
    assert error.status == 401 and error.page == 1
    body = documented(spec, 401)
    echoed_key = body["message"].rpartition("Key: ")[2]  # the real service echoes the key it got
    assert error.message.startswith(body["message"].partition(" Key: ")[0])
    for text in (str(error), repr(error), error.message, error.body):
        assert prism.api_key not in text
        assert echoed_key not in text


def test_dynamic_answers_read_to_a_frame_or_a_statsig_error(prism, hang_guard):
    session = prism.session(Prefer="dynamic=true")
    outcomes = []
    for attempt in range(DYNAMIC_READS):
        with warnings.catch_warnings(record=True) as caught, hang_guard(READ_GUARD_SECONDS, f"dynamic read {attempt}"):
            warnings.simplefilter("always")
            try:
                df = read(prism, session=session)
            except StatsigError as error:  # anything else is a raw library error and fails the test
                assert str(error) and prism.api_key not in str(error)
                outcomes.append(type(error).__name__)
            else:
                assert_typed(df)
                outcomes.append("frame")
        assert [w for w in caught if not issubclass(w.category, StatsigWarning)] == []
    assert prism.violations() == []
    # Random timestamps are words, not epoch milliseconds: the default errors="raise" must say so.
    assert any(outcome != "frame" for outcome in outcomes), outcomes


def _promises_millions_of_pages(response: requests.Response) -> bool:
    """A first page promising two million more pages, with no usable page number or page size."""
    if parse_qs(urlsplit(response.url).query).get("page") != ["1"] or response.status_code != 200:
        return False
    body = response.json()
    pagination, data = body.get("pagination") or {}, body.get("data") or []

    def positive(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0

    total = pagination.get("totalItems")
    return (bool(data) and bool(pagination.get("nextPage")) and positive(total) and math.isfinite(total)
            and total / len(data) >= 2e6
            and not positive(pagination.get("pageNumber")) and not positive(pagination.get("itemsPerPage")))


def test_dynamic_answers_read_with_coerce_always_give_a_frame(prism, hang_guard):
    session = prism.session(Prefer="dynamic=true")
    risky = []
    session.hooks["response"].append(lambda r, *a, **k: risky.append(r.url) if _promises_millions_of_pages(r) else None)
    reads = 0
    # At least DYNAMIC_READS reads, and on until one met the riskiest answer Prism gives (about one read in
    # twenty); the bound makes missing it a one-in-a-million event.
    while reads < DYNAMIC_READS or (not risky and reads < 300):
        with warnings.catch_warnings(record=True) as caught, hang_guard(READ_GUARD_SECONDS, f"dynamic read {reads}"):
            warnings.simplefilter("always")
            df = read(prism, session=session, errors="coerce")
        assert_typed(df)
        assert [w for w in caught if not issubclass(w.category, StatsigWarning)] == []
        reads += 1
    assert prism.violations() == []
    assert risky, f"{reads} dynamic reads never met an answer promising a million pages"
