"""The trimmed spec Prism serves is exactly what derive_spec.py makes of Statsig's published one."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.contract

EVENT_PATHS = ("/console/v1/events", "/console/v1/events/{eventName}")


def test_trimmed_spec_is_the_derivation_of_the_published_one(derive_spec, published_spec):
    trimmed, repairs = derive_spec.derive(published_spec)
    assert derive_spec.DEFAULT_OUT.read_text(encoding="utf-8") == derive_spec.render(trimmed), (
        "tests/contract/statsig-events-openapi.json is stale: run python tests/contract/derive_spec.py")
    # The published page/limit schema still needs the repair README.md explains.
    assert sorted(repairs) == sorted(f"GET {p}: parameter {n!r}" for p in EVENT_PATHS for n in ("limit", "page"))


def test_trimmed_spec_keeps_the_events_endpoints_and_what_they_reference(derive_spec, published_spec):
    trimmed = json.loads(derive_spec.DEFAULT_OUT.read_text(encoding="utf-8"))
    assert tuple(trimmed["paths"]) == EVENT_PATHS
    assert trimmed["components"]["securitySchemes"] == published_spec["components"]["securitySchemes"]
    text = json.dumps(trimmed)
    for name in trimmed["components"]["schemas"]:
        assert trimmed["components"]["schemas"][name] == published_spec["components"]["schemas"][name]
    assert set(re.findall(r'"#/components/schemas/([^"]+)"', text)) == set(trimmed["components"]["schemas"])
    for path in EVENT_PATHS:
        operation = trimmed["paths"][path]["get"]
        assert operation["responses"] == published_spec["paths"][path]["get"]["responses"]
        params = {p["name"]: p["schema"] for p in operation["parameters"]}
        assert params["page"] == {"example": 1, "type": "integer"}
        assert params["limit"] == {"example": 10, "type": "integer"}


def test_derivation_refuses_a_spec_without_the_events_endpoints(derive_spec, published_spec):
    moved = {**published_spec, "paths": {k: v for k, v in published_spec["paths"].items() if k != EVENT_PATHS[1]}}
    with pytest.raises(SystemExit, match="events endpoints moved"):
        derive_spec.derive(moved)
