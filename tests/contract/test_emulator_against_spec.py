"""Our emulator against Statsig's published spec: Prism in proxy mode checks what it answers.

Prism forwards each request to the emulator and validates both the request and
the emulator's answer; with ``--errors`` an answer outside the spec becomes a
500 listing the violations in ``sl-violations``.
"""

from __future__ import annotations

import pytest

from statsig_pandas import AuthenticationError, StatsigAPIError, read_events
from statsig_pandas.endpoints import event_path
from statsig_pandas.transport import Transport

pytestmark = pytest.mark.contract


def test_prism_flags_an_emulator_answer_outside_the_spec(proxied):
    # The referee is awake: a 200 without data or pagination must not get through.
    emu, prism = proxied
    emu.inject("status", status=200)
    answer = prism.session().get(prism.url + event_path("purchase"), params={"page": 1, "limit": 5},
                                 headers={"STATSIG-API-KEY": emu.api_key})
    assert answer.status_code == 500
    assert "required property 'pagination'" in answer.headers["sl-violations"]


@pytest.mark.parametrize("settings", [{}, {"max_limit": 40}, {"grow_per_request": 3}],
                         ids=["plain", "clamped limit", "moving window"])
def test_every_emulator_answer_to_a_read_fits_the_spec(proxied, settings, monkeypatch):
    emu, prism = proxied
    for name, value in settings.items():
        monkeypatch.setattr(emu, name, value)
    names = ["add_to_cart", "purchase", "page_view"]
    df = read_events(names, base_url=prism.url, api_key=emu.api_key, page_size=75, progress=False,
                     session=prism.session())
    assert len(prism.answers) >= 2 * len(names)  # several pages each
    assert prism.violations() == []
    assert set(df["name"]) == set(names)


def test_emulator_error_answers_fit_the_spec(proxied):
    emu, prism = proxied
    wrong = Transport(api_key="console-notTheEmulatorsKey", base_url=prism.url, session=prism.session())
    with wrong, pytest.raises(AuthenticationError):
        wrong.get(event_path("purchase"), {"page": 1, "limit": 5}, page=1)
    transport = Transport(api_key=emu.api_key, base_url=prism.url, session=prism.session())
    with transport, pytest.raises(StatsigAPIError) as info:
        transport.get(event_path("purchase"), {"page": 0, "limit": 5}, page=0)
    assert info.value.status == 400
    # 401 and 400 are documented answers: their bodies fit the documented schemas.
    assert [(status, violations) for status, _, violations in prism.answers] == [(401, None), (400, None)]


def test_emulator_unknown_event_as_the_spec_allows(proxied, monkeypatch):
    emu, prism = proxied
    monkeypatch.setattr(emu, "unknown_event_status", None)  # the spec documents no 404 here
    df = read_events("never_logged", base_url=prism.url, api_key=emu.api_key, progress=False,
                     session=prism.session())
    assert df.empty
    assert prism.answers and prism.violations() == []
