"""The emulator's events endpoint, as a real server would behave."""

from __future__ import annotations

import requests


def test_emulator_resolves_dot_segments_like_a_real_server(emulator):
    headers = {"STATSIG-API-KEY": emulator.api_key}
    for path in ("/console/v1/events/../events/purchase", "/console/v1/events/%2E%2E/events/purchase"):
        answer = requests.get(emulator.url + path, headers=headers, timeout=10)
        assert answer.status_code == 200 and answer.json()["data"][0]["name"] == "purchase"
