"""``statsig-pandas``: the command line (emulator, fetch, report, demo)."""

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
            import pyarrow.parquet as pq

            from .parquet import arrow_table

            pq.write_table(arrow_table(df), args.output)
        else:
            from .frame import metadata_json

            out = df.assign(metadata=df["metadata"].map(metadata_json))
            out.to_csv(args.output, index=False)
        print(f"wrote {len(df)} events to {args.output}", file=sys.stderr)
    else:
        print(df.to_string(max_rows=20))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import render_report

    params = {"freq": args.freq, "tz": args.tz, "top": args.top}
    if args.title:
        params["title"] = args.title
    path = render_report(args.names, args.output, demo=args.demo, progress=not args.quiet, **params)
    print(f"wrote {path}", flush=True)
    return 0


DEMO_EVENTS = ["add_to_cart", "purchase"]


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .report import render_report

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"Rendering a report on {' and '.join(DEMO_EVENTS)}: synthetic events from the embedded Statsig "
          "emulator (no account, no network)", flush=True)
    path = render_report(DEMO_EVENTS, out, demo=True, progress=not args.quiet, freq="D")
    print(f"Report written to {path.resolve()}", flush=True)
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

    report = sub.add_parser("report", help="render a shareable HTML report (key from $STATSIG_CONSOLE_API_KEY)")
    report.add_argument("names", nargs="+", metavar="NAME", help="event names")
    report.add_argument("-o", "--output", required=True, help="the HTML file to write")
    report.add_argument("--freq", default="D", help="bucket of the timelines: h, D, W (default D)")
    report.add_argument("--tz", default=None, help="time zone of buckets and heatmap, e.g. Europe/Paris")
    report.add_argument("--top", type=int, default=10, help="values in the top-values chart (default 10)")
    report.add_argument("--title", help="report title (default: the event names)")
    report.add_argument("--demo", action="store_true", help="synthetic events from the embedded emulator")
    report.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    report.set_defaults(func=_report)

    demo = sub.add_parser("demo", help="render a report on synthetic events from the embedded emulator")
    demo.add_argument("-o", "--output", default="reports/demo.html", help="default: reports/demo.html")
    demo.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
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
