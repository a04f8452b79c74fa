"""``statsig-pandas``: the command line (emulator, fetch, demo)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .errors import StatsigError

__all__ = ["main"]


def _emulator(args: argparse.Namespace) -> int:
    from .testing import StatsigEmulator

    emu = StatsigEmulator(n_events=args.events, seed=args.seed, latency=args.latency, port=args.port,
                          host=args.host)
    with emu:
        print(f"Statsig emulator serving {args.events} synthetic events at {emu.url}", flush=True)
        print(f"  export STATSIG_CONSOLE_API_URL={emu.url}", flush=True)
        print(f"  export STATSIG_CONSOLE_API_KEY={emu.api_key}", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from .reader import read_events

    df = read_events(args.names, page_size=args.page_size, errors=args.errors)
    if args.output:
        if args.output.endswith(".parquet"):
            df.to_parquet(args.output, index=False)
        else:
            out = df.assign(metadata=df["metadata"].map(_json))
            out.to_csv(args.output, index=False)
        print(f"wrote {len(df)} events to {args.output}", file=sys.stderr)
    else:
        print(df.to_string(max_rows=20))
    return 0


def _json(value) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _demo(args: argparse.Namespace) -> int:
    from .reader import read_events
    from .testing import StatsigEmulator

    with StatsigEmulator(n_events=5000) as emu:
        print(f"Started the embedded Statsig emulator at {emu.url} (synthetic events, no account needed)")
        df = read_events(["add_to_cart", "purchase"], base_url=emu.url, api_key=emu.api_key)
    print(df)
    print(df.dtypes)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="statsig-pandas", description="Statsig event data in pandas.")
    sub = parser.add_subparsers(dest="command", required=True)

    emu = sub.add_parser("emulator", help="serve synthetic events on an emulator of the Console API")
    emu.add_argument("--port", type=int, default=8765)
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--events", type=int, default=5000)
    emu.add_argument("--seed", type=int, default=0)
    emu.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    emu.set_defaults(func=_emulator)

    fetch = sub.add_parser("fetch", help="read events (key from $STATSIG_CONSOLE_API_KEY)")
    fetch.add_argument("names", nargs="+")
    fetch.add_argument("-o", "--output", help="a .csv or .parquet file; default: print")
    fetch.add_argument("--page-size", type=int, default=100)
    fetch.add_argument("--errors", choices=("raise", "coerce"), default="raise")
    fetch.set_defaults(func=_fetch)

    demo = sub.add_parser("demo", help="read synthetic events from the embedded emulator")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StatsigError as exc:
        print(f"statsig-pandas: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
