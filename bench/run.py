"""``python -m bench [--quick]``: run the suite and rewrite BENCHMARKS.md."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench._forwarding import run_forwarding
from bench._ingest import run_ingest
from bench._machine import describe_machine, versions
from bench._phoenix import run_phoenix
from bench._pipeline import run_pipeline
from bench._profile import profile_ingest
from bench._promql import run_promql
from bench._queries import run_store
from bench._report import Results, render, targets
from bench._send import Transport, presplit, send_parallel
from bench._server import STORES, Store
from bench._sink import null_sink
from bench._workload import GENERATOR_NAME, Pool, make_pool
from otelite.types import Signal

__all__ = ["main", "parse_count", "parse_storage"]

_TRANSPORTS: tuple[Transport, ...] = ("http", "grpc")
_STORAGE_FLAGS: dict[Store, str] = {
    "duckdb": "DuckDB (`--storage duckdb`, the default)",
    "chdb": "chDB (`--storage chdb:<data dir>/chdb`)",
}
ROOT = Path(__file__).resolve().parent.parent
NOTE = Path(__file__).resolve().parent / "closing-note.md"


def parse_count(text: str) -> int:
    """``"200k"``, ``"1M"``, ``"10m"``, ``"1500"`` → an integer count."""
    cleaned = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(cleaned[-1:], 1)
    number = cleaned[:-1] if scale > 1 else cleaned
    try:
        value = float(number) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a count: {text!r} (use e.g. 500, 200k, 1M)"
        ) from None
    if value < 0 or value != int(value):
        raise argparse.ArgumentTypeError(f"not a count: {text!r}")
    return int(value)


def parse_storage(text: str) -> list[Store]:
    """``"duckdb,chdb"`` → the stores to measure, in the order they take turns (each once)."""
    found: list[Store] = []
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        store = next((s for s in STORES if s == name), None)
        if store is None:
            raise argparse.ArgumentTypeError(
                f"unknown store {part.strip()!r} (choose from {', '.join(STORES)})"
            )
        if store not in found:
            found.append(store)
    if not found:
        raise argparse.ArgumentTypeError(f"no store in {text!r} (e.g. duckdb,chdb)")
    return found


def _counts(text: str) -> list[int]:
    return [parse_count(part) for part in text.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="the short version, for development")
    p.add_argument("--runs", type=int, help="runs per figure (default 5; quick 3)")
    p.add_argument(
        "--spans", type=parse_count, help="spans per ingest run (default 300k; quick 30k)"
    )
    p.add_argument(
        "--logs", type=parse_count, help="log records per ingest run (default 200k; quick 10k)"
    )
    p.add_argument(
        "--points", type=parse_count, help="metric points per run (default 200k; quick 10k)"
    )
    p.add_argument(
        "--storage",
        type=parse_storage,
        default=list(STORES),
        help="stores to measure side by side, comma-separated (default duckdb,chdb)",
    )
    p.add_argument("--batch", type=int, default=500, help="items per request (default 500)")
    p.add_argument(
        "--stores",
        type=_counts,
        help="store sizes to query, e.g. 1M,10M (default 1M,10M; quick 100k)",
    )
    p.add_argument(
        "--requests", type=int, help="requests per query per run (default 100; quick 50)"
    )
    p.add_argument(
        "--promql-series",
        type=_counts,
        help="PromQL beside Prometheus at these series counts (default 1k,10k; quick 1k)",
    )
    p.add_argument("--no-promql", action="store_true", help="skip PromQL beside Prometheus")
    p.add_argument(
        "--no-pipeline", action="store_true", help="skip ingest through the pipeline file"
    )
    p.add_argument(
        "--no-forwarding", action="store_true", help="skip forwarding to a local receiver"
    )
    p.add_argument("--phoenix-spans", type=parse_count, default=20_000, help="default 20k")
    p.add_argument("--no-phoenix", action="store_true", help="skip Arize Phoenix (quick does)")
    p.add_argument(
        "--profile-seconds",
        type=float,
        help="py-spy seconds, when a target is missed (default 15; quick 4)",
    )
    p.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    p.add_argument(
        "--workdir",
        type=Path,
        help="where the servers keep their data and logs (default: a temporary directory, "
        "removed at the end); the server logs stay here",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    storage: list[Store] = args.storage
    if "chdb" in storage and importlib.util.find_spec("chdb") is None:
        _say("chDB is not installed: pip install 'otelite[chdb]', or run with --storage duckdb")
        return 2
    quick = args.quick
    runs = args.runs or (3 if quick else 5)
    spans = args.spans or (30_000 if quick else 300_000)
    logs = args.logs or (10_000 if quick else 200_000)
    points = args.points or (10_000 if quick else 200_000)
    sizes = args.stores or ([100_000] if quick else [1_000_000, 10_000_000])
    requests = args.requests or (50 if quick else 100)
    promql_sizes = (
        [] if args.no_promql else args.promql_series or ([1000] if quick else [1000, 10_000])
    )
    profile_seconds = args.profile_seconds or (4.0 if quick else 15.0)
    # Quick keeps the 4-sender rows (the highest rates); the full suite runs every row.
    sender_counts = (4,) if quick else (1, 4)
    phoenix = not (quick or args.no_phoenix)
    began = time.monotonic()
    command = shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])])
    results = Results(
        machine=describe_machine(),
        versions=versions(ROOT, GENERATOR_NAME),
        commands=[command],
        settings={
            "runs per figure": str(runs),
            "stores compared": ", ".join(_STORAGE_FLAGS[s] for s in storage),
            "requests": f"{args.batch} items each (spans, log records or metric points)",
            "ingest per run": f"{spans:,} spans, {logs:,} log records, {points:,} points",
            "stores queried": ", ".join(f"{n:,} spans" for n in sizes),
            "query requests per run": str(requests),
            "PromQL beside Prometheus": ", ".join(f"{n:,} series" for n in promql_sizes)
            or "skipped",
            "Phoenix": f"{args.phoenix_spans:,} spans" if phoenix else "skipped",
        },
        started_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        storage=storage,
    )
    with contextlib.ExitStack() as cleanup:
        if args.workdir is None:
            work = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="otelite-bench-")))
        else:
            work = args.workdir
            work.mkdir(parents=True, exist_ok=True)
        _say(f"generating workloads ({GENERATOR_NAME}); servers work in {work}")
        trace_pool = make_pool(Signal.TRACES, spans, batch_size=args.batch)
        results.settings["traces workload"] = trace_pool.describe()
        _say("senders against a null receiver")
        for transport in _TRANSPORTS:
            for senders in sender_counts:
                results.ceiling.append(
                    (transport, senders, _ceiling(transport, senders, trace_pool, runs))
                )
        into = " and ".join(storage)
        for transport in _TRANSPORTS:
            for senders in sender_counts:
                _say(f"ingest: traces over {transport}, {senders} sender(s), into {into}")
                results.ingest += run_ingest(
                    trace_pool,
                    transport=transport,
                    senders=senders,
                    runs=runs,
                    workdir=work,
                    stores=storage,
                )
        if not args.no_pipeline:
            _say("ingest: traces over http, 4 senders, plain and through the pipeline file")
            results.pipeline = run_pipeline(
                trace_pool, transport="http", senders=4, runs=runs, workdir=work
            )
        if not args.no_forwarding:
            _say("ingest: traces over http, 4 senders, forwarded to a local receiver")
            results.forwarding = run_forwarding(trace_pool, senders=4, runs=runs, workdir=work)
        for signal, count in ((Signal.LOGS, logs), (Signal.METRICS, points)):
            _say(f"ingest: {signal.value} over http, into {into}")
            pool = make_pool(signal, count, batch_size=args.batch, seed=2)
            results.settings[f"{signal.value} workload"] = pool.describe()
            results.ingest += run_ingest(
                pool, transport="http", senders=1, runs=runs, workdir=work, stores=storage
            )
        fill_spans = make_pool(Signal.TRACES, min(100_000, max(sizes, default=0)), seed=3)
        fill_logs = make_pool(Signal.LOGS, 20_000, seed=4)
        for size in sizes:
            _say(f"store of {size:,} spans in {into}: fill, footprint, queries")
            results.stores += run_store(
                fill_spans,
                fill_logs,
                total_spans=size,
                total_logs=size,
                workdir=work,
                runs=3,
                requests_per_run=requests,
                stores=storage,
            )
        if promql_sizes:
            _say(f"PromQL beside Prometheus at {promql_sizes} series, in {into}")
            results.promql = run_promql(promql_sizes, stores=storage, workdir=work, runs=3)
        if phoenix:
            _say("side by side: otelite (its default store, DuckDB) and Arize Phoenix")
            small = make_pool(Signal.TRACES, args.phoenix_spans, batch_size=args.batch, seed=5)
            (results.phoenix_otelite,) = run_ingest(
                small, transport="http", senders=1, runs=3, workdir=work
            )
            results.phoenix = run_phoenix(small, senders=1, workdir=work)
        else:
            results.phoenix_skipped = "Skipped in this run (only `make bench` runs Phoenix)."
        missed = {t.store for t in targets(results) if t.passed is False}
        for store in storage:
            if store in missed:
                _say(f"{store} missed a target: profiling the server during ingest")
                results.profiles.append(
                    profile_ingest(
                        trace_pool, store=store, senders=4, seconds=profile_seconds, workdir=work
                    )
                )
    results.elapsed_seconds = time.monotonic() - began
    results.load_at_end = os.getloadavg()
    text = render(results)
    if NOTE.exists():
        text += "\n## Closing note\n\n" + NOTE.read_text()
    args.output.write_text(text)
    _say(f"wrote {args.output} in {results.elapsed_seconds:.0f} s")
    return 0


def _ceiling(transport: Transport, senders: int, pool: Pool, runs: int) -> list[float]:
    rates = []
    for _ in range(runs):
        with null_sink(transport) as port:
            work = presplit(pool.bodies, pool.items)
            sent = send_parallel(transport, ("127.0.0.1", port), pool.signal, work, senders=senders)
        rates.append(sent.rate)
    return rates


def _say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)
