"""Derive the trimmed spec the contract tests serve from Statsig's full Console API spec.

Keeps the two events endpoints (GET only), every schema they reference (transitively)
and the security scheme, and repairs the one known defect (see README.md beside this
file). Re-run it on a newer spec to refresh ``statsig-events-openapi.json``::

    python tests/contract/derive_spec.py [FULL_SPEC] [-o OUT]

It fails loudly if the endpoints it needs are gone, so a renamed route is noticed.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "statsig" / "console-api-openapi-20240601.json"
DEFAULT_OUT = HERE / "statsig-events-openapi.json"
PATHS = ("/console/v1/events", "/console/v1/events/{eventName}")
REF_PREFIX = "#/components/schemas/"


def _refs(node) -> set[str]:
    """Names of the component schemas ``node`` refers to directly."""
    found = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            found.add(ref[len(REF_PREFIX):])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def fix_integer_params(operation: dict) -> list[str]:
    """Repair ``type: integer`` declared together with ``oneOf: [string, number]``.

    A query value arrives as text. Read strictly, the text ``"2"`` is no
    integer; coerced (as Prism does), it becomes 2, which then matches both
    branches of ``oneOf`` (a number, and a string once coerced back), while
    ``oneOf`` demands exactly one. Either way every request that sends ``page``
    or ``limit`` is rejected. The examples (``1``, ``10``) and the docs say
    integer, so the ``oneOf`` is dropped and ``type: integer`` kept.
    Returns the names of the parameters repaired.
    """
    fixed = []
    for param in operation.get("parameters", []):
        schema = param.get("schema", {})
        if schema.get("type") == "integer" and "oneOf" in schema:
            del schema["oneOf"]
            fixed.append(param["name"])
    return fixed


def derive(spec: dict) -> tuple[dict, list[str]]:
    """The trimmed spec and a list of the repairs made."""
    missing = [p for p in PATHS if "get" not in spec.get("paths", {}).get(p, {})]
    if missing:
        raise SystemExit(f"the source spec has no GET {', '.join(missing)}: the events endpoints moved?")
    paths, repairs = {}, []
    for path in PATHS:
        operation = copy.deepcopy(spec["paths"][path]["get"])
        repairs += [f"GET {path}: parameter {name!r}" for name in fix_integer_params(operation)]
        paths[path] = {"get": operation}
    schemas = spec.get("components", {}).get("schemas", {})
    wanted, todo = set(), _refs(paths)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        if name not in schemas:
            raise SystemExit(f"the source spec refers to a schema it does not define: {name}")
        wanted.add(name)
        todo |= _refs(schemas[name])
    trimmed = {
        "openapi": spec["openapi"],
        "info": {
            **{k: v for k, v in spec["info"].items() if k != "description"},
            "description": "Statsig's Console API spec trimmed to the events endpoints by "
                           "tests/contract/derive_spec.py, with the page/limit schema repaired "
                           "(see tests/contract/README.md).",
        },
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": {
            "securitySchemes": spec["components"]["securitySchemes"],
            "schemas": {name: schemas[name] for name in sorted(wanted)},
        },
    }
    return trimmed, repairs


def render(spec: dict) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE, help="the full Console API spec")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    trimmed, repairs = derive(json.loads(args.source.read_text(encoding="utf-8")))
    args.out.write_text(render(trimmed), encoding="utf-8")
    print(f"wrote {args.out} ({len(trimmed['paths'])} paths, {len(trimmed['components']['schemas'])} schemas)")
    for repair in repairs:
        print(f"  repaired {repair}: dropped oneOf [string, number] beside type: integer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
