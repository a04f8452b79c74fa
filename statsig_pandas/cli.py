"""``statsig-pandas``: the command line (emulator, fetch, report, demo).

``fetch`` writes what ``read_events`` returns. Where it goes depends on ``-o``:

- no ``-o``: the first and last rows are printed;
- ``-o events.csv``: one CSV file, ``metadata`` as JSON text (its folder is created if needed, as for every ``-o``);
- ``-o events.parquet`` without a range: one Parquet file, ``metadata`` as JSON text;
- with ``--start`` (a time range, through ``/console/v1/logs``), ``-o events.parquet`` or ``-o events/``
  is the day-partitioned dataset folder of :func:`statsig_pandas.to_parquet`: streamed, resumable (run the
  same command again after an interruption), read back with :func:`statsig_pandas.read_parquet`;
  ``-o events.csv`` is still one CSV file, written chunk by chunk so the range never has to fit in memory.

Files are written under a temporary name and renamed once complete, so a failed fetch leaves no half file.
Every error is one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from . import SCHEMA, StatsigError, __version__, read_events, render_report, to_parquet
from .frame import metadata_json

__all__ = ["main"]

DEMO_EVENTS = ("page_view", "add_to_cart", "purchase")
# Rows held in memory at once when a range streams: to_parquet's default chunk.
CHUNK_ROWS = 200_000


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and the subcommands inherit it)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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


def _output_kind(output: str, *, ranged: bool) -> str:
    """``"csv"``, ``"parquet"`` (one file) or ``"dataset"`` (a to_parquet folder), or a StatsigError."""
    path = Path(output)
    folder = output.endswith(("/", os.sep)) or path.is_dir()
    suffix = path.suffix.lower()
    if suffix == ".csv" and not folder:
        return "csv"
    if suffix == ".parquet" or folder:
        if ranged:
            if path.exists() and not path.is_dir():
                raise StatsigError(f"{output} is a file; a time range is written as a dataset folder: "
                                   "choose another path, or -o with .csv")
            return "dataset"
        if folder:
            raise StatsigError(f"{output} is a folder: a dataset folder needs a time range (--start); "
                               "without one, -o takes a .csv or .parquet file")
        return "parquet"
    raise StatsigError(f"-o takes a .csv or .parquet file, or with --start a dataset folder (a .parquet name or "
                       f"a trailing /), not {output!r}")


def _fetch(args: argparse.Namespace) -> int:
    if args.end is not None and args.start is None:
        raise StatsigError("--end needs --start (a range's end defaults to now)")
    if args.chunksize is not None and (args.start is None or not args.output):
        raise StatsigError("--chunksize is for a time range streamed to a file: give --start and -o")
    ranged = args.start is not None
    kind = _output_kind(args.output, ranged=ranged) if args.output else None
    if kind is not None:  # before any request: a folder that cannot be made fails now, not after the read
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    options = dict(page_size=args.page_size, errors=args.errors, max_concurrency=args.max_concurrency,
                   progress=False if args.quiet else None, cache=args.cache)
    if ranged:
        options.update(start=args.start, end=args.end)
    chunksize = CHUNK_ROWS if args.chunksize is None else args.chunksize
    if kind == "dataset":
        written = to_parquet(args.names, args.output, chunksize=chunksize, **options)
        print(f"wrote {written['rows_written']} events to {args.output} ({written['days_written']} days written, "
              f"{written['days_skipped']} already there)", file=sys.stderr)
        return 0
    if kind == "csv" and ranged:
        rows = _write_csv(read_events(args.names, chunksize=chunksize, **options), args.output)
    else:
        df = read_events(args.names, **options)
        if kind is None:
            print(df.to_string(max_rows=20, show_dimensions=True))
            return 0
        rows = _write_csv([df], args.output) if kind == "csv" else _write_parquet(df, args.output)
    print(f"wrote {rows} events to {args.output}", file=sys.stderr)
    return 0


def _flat(df):
    """A frame a file can hold: ``metadata`` as JSON text (CSV and Parquet have no type for varying dicts)."""
    return df.assign(metadata=df["metadata"].map(metadata_json))


@contextmanager
def _atomically(output: str) -> Iterator[Path]:
    """A temporary path beside ``output``, renamed to it on success and removed on failure."""
    final = Path(output)
    partial = final.with_name(f".{final.name}.partial")
    try:
        yield partial
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


def _write_csv(frames: Iterable, output: str) -> int:
    import pandas as pd

    rows = 0
    with _atomically(output) as partial, open(partial, "w", newline="", encoding="utf-8") as file:
        for frame in frames:
            _flat(frame).to_csv(file, index=False, header=file.tell() == 0)
            rows += len(frame)
        if file.tell() == 0:  # an empty range: still a CSV with its header
            pd.DataFrame(columns=list(SCHEMA)).to_csv(file, index=False)
    return rows


def _write_parquet(df, output: str) -> int:
    with _atomically(output) as partial:
        _flat(df).to_parquet(partial, index=False)
    return len(df)


def _report(args: argparse.Namespace) -> int:
    """``report`` and ``demo`` (which is ``report --demo`` on the demo events)."""
    names = args.names or (list(DEMO_EVENTS) if args.demo else None)
    if not names:
        raise StatsigError("report needs event names (or --demo)")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.demo:
        print(f"Rendering a report on {' and '.join(names)}: synthetic events from the embedded Statsig "
              "emulator (no account, no network)", flush=True)
    params = {"freq": args.freq, "tz": args.tz, "top": args.top, "within": args.within,
              "retention_period": args.retention_period}
    if args.title:
        params["title"] = args.title
    if args.funnel:
        params["funnel"] = [step.strip() for step in args.funnel.split(",") if step.strip()]
    path = render_report(names, out, demo=args.demo, progress=not args.quiet, start=args.start, end=args.end,
                         cache=args.cache, **params)
    print(f"Report written to {path.resolve()}", flush=True)
    return 0


def _cache_info(args: argparse.Namespace) -> int:
    from .cache import Cache

    info = Cache.resolve(args.dir or True).info()
    print(f"cache folder: {info['path']}")
    print(f"size: {info['bytes'] / 1e6:,.1f} MB in {info['days']:,} day(s)")
    if info["days"]:
        print(info["events"].to_string(index=False))
    return 0


def _cache_clear(args: argparse.Namespace) -> int:
    from .cache import Cache

    cache = Cache.resolve(args.dir or True)
    done = cache.clear(older_than=args.older_than, event=args.event)
    print(f"removed {done['days_removed']:,} day(s), {done['bytes_freed'] / 1e6:,.1f} MB, from {cache.path}")
    return 0


def _add_cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache", nargs="?", const=True, default=None, metavar="FOLDER",
                        help="keep settled days of a time-range read in a local cache (default folder: "
                             "$STATSIG_PANDAS_CACHE_DIR, else the user cache folder)")


def _report_options(parser: argparse.ArgumentParser, *, output: str | None) -> None:
    """What ``report`` and ``demo`` share: the output, the template's parameters, the progress bar."""
    if output is None:
        parser.add_argument("-o", "--output", required=True, help="the HTML file to write")
    else:
        parser.add_argument("-o", "--output", default=output, help=f"the HTML file to write (default {output})")
    parser.add_argument("--freq", default="D", help="bucket of the timelines: h, D, W (default D)")
    parser.add_argument("--tz", default=None, help="time zone of buckets and heatmap, e.g. Europe/Paris")
    parser.add_argument("--top", type=int, default=10, help="values in the top-values chart (default 10)")
    parser.add_argument("--title", help="report title (default: the event names)")
    parser.add_argument("--start", help="read the events logged since then through the logs endpoint: a date or "
                                        "time (UTC unless it says), or a length before --end such as 90D, 12W, 36h "
                                        "(default: the events endpoint's rolling window)")
    parser.add_argument("--end", help="end of the --start range, exclusive (default: now)")
    parser.add_argument("--funnel", metavar="A,B,C", help="the funnel's events, in order, among NAME "
                                                          "(default: the NAMEs, when there are two or more)")
    parser.add_argument("--within", default="14D", help="the funnel's conversion window, e.g. 1D, 2h (default 14D)")
    parser.add_argument("--retention-period", default="D", help="period of the retention triangle: h, D, W "
                                                                "(default D)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_cache_option(parser)
    parser.set_defaults(func=_report)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="statsig-pandas", description="Statsig event data in pandas.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    emu = sub.add_parser("emulator", help="serve synthetic events on an emulator of the Console API")
    emu.add_argument("--port", type=int, default=8765)
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--events", type=int, default=5000)
    emu.add_argument("--seed", type=int, default=0)
    emu.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    emu.set_defaults(func=_emulator)

    fetch = sub.add_parser("fetch", help="read events (key from $STATSIG_CONSOLE_API_KEY)",
                           description="Read events: the recent window, or a time range with --start.")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="event names")
    fetch.add_argument("-o", "--output", metavar="PATH",
                       help="a .csv or .parquet file, or with --start a dataset folder (a .parquet name or a "
                            "trailing /); default: print")
    fetch.add_argument("--start", metavar="DATE",
                       help="read [start, end) through /console/v1/logs, e.g. 2026-10-01 (naive: UTC)")
    fetch.add_argument("--end", metavar="DATE", help="end of the range, exclusive (default: now)")
    fetch.add_argument("--page-size", type=int, default=None, metavar="N",
                       help="rows asked for per request (default 100, or 1000 with --start)")
    fetch.add_argument("--max-concurrency", type=int, default=4, metavar="N",
                       help="requests in flight at once (default 4)")
    fetch.add_argument("--chunksize", type=int, default=None, metavar="ROWS",
                       help=f"with --start: rows held in memory at once, and per Parquet file (default {CHUNK_ROWS:,})")
    fetch.add_argument("--errors", choices=("raise", "coerce"), default="raise",
                       help="an unparseable timestamp: fail, or NaT with a warning (default raise)")
    fetch.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_cache_option(fetch)
    fetch.set_defaults(func=_fetch)

    report = sub.add_parser("report", help="render a shareable HTML report (key from $STATSIG_CONSOLE_API_KEY)")
    report.add_argument("names", nargs="*", metavar="NAME",
                        help="event names (with --demo, default: page_view add_to_cart purchase)")
    report.add_argument("--demo", action="store_true", help="synthetic events from the embedded emulator")
    cache = sub.add_parser("cache", help="what the local cache of settled days holds, or remove days from it")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    for name, func, text in (("info", _cache_info, "the cache's folder, size, days and events per event name"),
                             ("clear", _cache_clear, "remove cached days (all, or those the options select)")):
        command = cache_sub.add_parser(name, help=text)
        command.add_argument("--dir", metavar="FOLDER", help="the cache folder (default: $STATSIG_PANDAS_CACHE_DIR, "
                                                             "else the user cache folder)")
        command.set_defaults(func=func)
        if name == "clear":
            command.add_argument("--older-than", metavar="AGE", help="only days that ended longer ago, e.g. 30d")
            command.add_argument("--event", metavar="NAME", help="only the days of this event name")

    _report_options(report, output=None)

    demo = sub.add_parser("demo", help="report --demo: a report on synthetic events, no account needed")
    _report_options(demo, output="reports/demo.html")
    demo.set_defaults(names=list(DEMO_EVENTS), demo=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StatsigError as exc:
        print(f"statsig-pandas: error: {exc}", file=sys.stderr)
    except OSError as exc:  # the output cannot be written: a missing folder, no permission, a full disk
        print(f"statsig-pandas: error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("statsig-pandas: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
