"""BENCHMARKS.md from the results of one benchmark run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench._ingest import IngestSeries
from bench._machine import Machine
from bench._phoenix import PhoenixRun
from bench._profile import Profile
from bench._queries import StoreRun
from bench._stats import Summary, summarize
from otelite.types import Signal

__all__ = ["Results", "Target", "judge", "render", "targets"]

_DASH = "\u2013"  # en dash, for ranges in the Markdown
_TIMES = "\u00d7"  # multiplication sign
_TRANSPORT_NAMES = {"http": "OTLP/HTTP protobuf", "grpc": "OTLP/gRPC"}
_GIB = 1024**3
_MIB = 1024**2
_TARGET_SPANS = 10_000_000
_UNITS = {Signal.TRACES: "spans", Signal.LOGS: "log records", Signal.METRICS: "points"}


@dataclass
class Results:
    """Everything one run of the suite measured."""

    machine: Machine
    versions: dict[str, str]
    commands: list[str]
    settings: dict[str, str]
    started_utc: str
    elapsed_seconds: float = 0.0
    ceiling: list[tuple[str, int, list[float]]] = field(default_factory=list)
    """(transport, senders, spans/s of each run) against a receiver that does nothing."""
    ingest: list[IngestSeries] = field(default_factory=list)
    stores: list[StoreRun] = field(default_factory=list)
    phoenix: PhoenixRun | None = None
    phoenix_otelite: IngestSeries | None = None
    phoenix_skipped: str = ""
    profile: Profile | None = None
    load_at_end: tuple[float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    goal: str
    measured: str
    passed: bool | None
    """None: not measured in this run."""
    gap: str


def judge(
    value: float, goal: float, *, at_least: bool, unit: Callable[[float], str] = str
) -> tuple[bool, str]:
    """Whether ``value`` meets ``goal`` and by how much (a factor, and the difference in
    ``unit`` when it does not)."""
    if at_least:
        ok = value >= goal
        if ok:
            return True, f"{value / goal:.2f}{_TIMES} the target"
        factor = goal / value if value > 0 else float("inf")
        return False, f"{value / goal:.0%} of the target; {factor:.1f}{_TIMES} short"
    ok = value <= goal
    if ok:
        return True, f"{value / goal:.0%} of the limit"
    return False, f"{value / goal:.1f}{_TIMES} the limit ({unit(value - goal)} over)"


def _summary_text(summary: Summary, fmt: Callable[[float], str]) -> str:
    if summary.runs == 1:
        return fmt(summary.median)
    return f"{fmt(summary.median)} ({fmt(summary.low)}{_DASH}{fmt(summary.high)})"


def _rate(v: float) -> str:
    return f"{v:,.0f}"


def _ms(v: float) -> str:
    return f"{v * 1000:.1f}" if v < 0.1 else f"{v * 1000:.0f}"


def _s(v: float) -> str:
    return f"{v:.2f}"


def _mib(v: float) -> str:
    return f"{v / _MIB:,.0f} MiB"


def _count(n: int) -> str:
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def _trace_series(results: Results) -> list[IngestSeries]:
    return [s for s in results.ingest if s.signal is Signal.TRACES and s.transport == "http"]


def targets(results: Results) -> list[Target]:
    """The issue's targets, each judged against what this run measured."""
    out: list[Target] = []
    http = _trace_series(results)
    if http:
        best = max(http, key=lambda s: summarize([r.stored_rate for r in s.runs]).median)
        rate = summarize([r.stored_rate for r in best.runs]).median
        ok, gap = judge(rate, 100_000, at_least=True)
        where = f"OTLP/HTTP, {best.senders} sender(s)"
        out.append(Target("ingest", "≥ 100,000 spans/s", f"{rate:,.0f} spans/s ({where})", ok, gap))
        lag = max(summarize([r.queryable_after for r in s.runs]).median for s in http)
        ok, gap = judge(lag, 2.0, at_least=False, unit=lambda v: f"{v:.2f} s")
        out.append(Target("queryable", "≤ 2 s after the last response", f"{lag:.2f} s", ok, gap))
        rss = max(s.peak_rss for s in http)
        ok, gap = judge(rss / _GIB, 1.0, at_least=False, unit=lambda v: _mib(v * _GIB))
        out.append(Target("RSS while ingesting", "≤ 1 GiB", _mib(rss), ok, gap))
    else:
        for name in ("ingest", "queryable", "RSS while ingesting"):
            out.append(Target(name, "", "not measured", None, ""))
    store = max(results.stores, key=lambda s: s.spans, default=None)
    if store is None:
        for name in ("trace by id p99", "attribute search p99", "disk per span"):
            out.append(Target(name, "", "not measured", None, ""))
        return out
    at = f"at {_count(store.spans)} spans"
    provisional = "" if store.spans >= _TARGET_SPANS else f" (target is at 10M; measured {at})"
    by_name = {lat.name: lat for lat in store.latencies}
    for name, query, limit in (
        ("trace by id p99", "trace by id", 0.010),
        ("attribute search p99", "search: service + attribute + duration, last hour", 0.300),
    ):
        latency = by_name.get(query)
        if latency is None:
            out.append(Target(name, "", "not measured", None, ""))
            continue
        p99 = summarize(latency.p99s).median
        ok, gap = judge(p99, limit, at_least=False, unit=lambda v: f"{_ms(v)} ms")
        goal = f"≤ {limit * 1000:g} ms at 10M spans"
        out.append(Target(name, goal, f"{_ms(p99)} ms {at}", ok, gap + provisional))
    per_span = store.disk_bytes / max(1, store.spans)
    ok, gap = judge(per_span, 100, at_least=False, unit=lambda v: f"{v:.0f} B")
    out.append(
        Target(
            "disk per span", "≤ 100 B at 10M spans", f"{per_span:.0f} B {at}", ok, gap + provisional
        )
    )
    return out


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(results: Results) -> str:
    """The whole of BENCHMARKS.md."""
    m = results.machine
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m bench` (`make bench`, or `make bench-quick` for the one-minute",
        "version); do not edit by hand. Every figure is the median of several runs with the",
        f"min{_DASH}max in parentheses. Rates are measured over real sockets from separate",
        "sender processes sending pre-encoded requests. Memory (RSS) is the proportional set",
        "size of the server and every process it started (its flatten worker), sampled every",
        "0.1 s: shared pages are split among the processes sharing them, never counted twice.",
        "",
        f"Run started {results.started_utc}, took {results.elapsed_seconds / 60:.1f} min.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {m.cpu}, {m.cores} cores; RAM {m.ram_bytes / _GIB:.1f} GiB; Linux {m.kernel}",
        f"- load average at the start: {m.load_average[0]:.2f}, {m.load_average[1]:.2f}, "
        f"{m.load_average[2]:.2f} (other work on the machine skews every figure)",
    ]
    if results.load_at_end is not None:
        a, b, c = results.load_at_end
        lines.append(f"- load average at the end: {a:.2f}, {b:.2f}, {c:.2f}")
    lines += [f"- {name}: {value}" for name, value in results.versions.items()]
    lines += ["", "## Commands", "", "```sh", *results.commands, "```", ""]
    lines += [f"- {name}: {value}" for name, value in results.settings.items()]
    lines += ["", "## Targets", ""]
    lines += _table(
        ["target", "goal", "measured", "result", "by how much"],
        [
            [
                t.name,
                t.goal,
                t.measured,
                "—" if t.passed is None else ("pass" if t.passed else "**miss**"),
                t.gap,
            ]
            for t in targets(results)
        ],
    )
    lines += _ingest_section(results)
    lines += _store_section(results)
    lines += _phoenix_section(results)
    lines += _profile_section(results)
    return "\n".join(lines).rstrip() + "\n"


def _ingest_section(results: Results) -> list[str]:
    lines = ["", "## Ingest", ""]
    if not results.ingest:
        return [*lines, "Not run."]
    lines += [
        "Each row: a fresh server, the same requests sent once per run as new data (fresh",
        "trace ids; logs and points moved an hour back per run), one run after another.",
        "*Sustained* counts from the first request until the query API counts every",
        "acknowledged item; *acknowledged* counts until the last response. *Queryable* is the",
        "time from the last response until the count matched: spans, log records and points",
        "alike are counted by polling `/api/count` (stored rows), and the time is taken after",
        "the counting query returned, so it includes that query's latency.",
        "",
    ]
    rows = []
    for s in results.ingest:
        unit = _UNITS[s.signal]
        rows.append(
            [
                f"{s.signal.value}, {_TRANSPORT_NAMES[s.transport]}",
                str(s.senders),
                f"{_count(s.items_per_run)} {unit} in {len(s.runs)} runs",
                _summary_text(summarize([r.stored_rate for r in s.runs]), _rate) + f" {unit}/s",
                _summary_text(summarize([r.acknowledged_rate for r in s.runs]), _rate),
                _summary_text(summarize([r.queryable_after for r in s.runs]), _s) + " s",
                str(sum(r.sent.retries for r in s.runs)),
                _mib(s.peak_rss),
                _mib(s.rest_rss),
            ]
        )
    lines += _table(
        [
            "workload",
            "senders",
            "per run",
            "sustained",
            "acknowledged/s",
            "queryable after",
            "retries",
            "peak RSS",
            "RSS at rest",
        ],
        rows,
    )
    if results.ceiling:
        lines += [
            "",
            "The senders alone, against a receiver that reads each request and answers 200:",
            "",
        ]
        lines += _table(
            ["transport", "senders", "spans/s"],
            [
                [t, str(n), _summary_text(summarize(rates), _rate)]
                for t, n, rates in results.ceiling
            ],
        )
    return lines


def _store_section(results: Results) -> list[str]:
    lines = ["", "## Queries and footprint", ""]
    if not results.stores:
        return [*lines, "Not run."]
    lines += [
        "A fresh store filled over OTLP/HTTP (2 senders) with spans spread over the last 24 h,",
        "oldest first, then stopped cleanly (a checkpoint) to measure the data directory,",
        "restarted, given log records, and queried through the HTTP API, one request at a",
        "time after a short warm-up. Query parameters are picked from the generated data.",
        "",
    ]
    for store in results.stores:
        fill_rate = store.fill.rate
        lines += [
            f"### {_count(store.spans)} spans, {_count(store.logs)} log records",
            "",
            f"- fill: {fill_rate:,.0f} spans/s acknowledged, all queryable "
            f"{store.fill_queryable_after:.1f} s after the last response",
            f"- on disk after a clean shutdown: {store.disk_bytes / _MIB:,.1f} MiB, "
            f"{store.disk_bytes / max(1, store.spans):.0f} B per span",
            f"- restart (open, replay, ready): {store.restart_seconds:.1f} s",
            f"- RSS: peak while filling {_mib(store.peak_rss)}, at rest after the queries "
            f"{_mib(store.rest_rss)}",
            "",
        ]
        rows = [
            [
                lat.name,
                f"`{lat.example}`",
                _summary_text(summarize(lat.p50s), _ms),
                _summary_text(summarize(lat.p99s), _ms),
                f"{len(lat.p50s)} {_TIMES} {lat.requests_per_run}",
                str(lat.result_rows),
            ]
            for lat in store.latencies
        ]
        header = ["query", "example", "p50 ms", "p99 ms", f"runs {_TIMES} requests", "rows"]
        lines += _table(header, rows)
        lines.append("")
    return lines


def _phoenix_section(results: Results) -> list[str]:
    lines = ["", "## Side by side: Arize Phoenix", ""]
    if results.phoenix_skipped:
        return [*lines, results.phoenix_skipped]
    phoenix, ours = results.phoenix, results.phoenix_otelite
    if phoenix is None or ours is None:
        return [*lines, "Not run."]
    if phoenix.sent is None:
        return [*lines, "Phoenix could not be measured:", "", "```", phoenix.error.strip(), "```"]
    otelite_rate = summarize([r.stored_rate for r in ours.runs]).median
    phoenix_rate = phoenix.stored_rate
    lines += [
        f"The same {_count(phoenix.sent.items)} spans over OTLP/HTTP protobuf, "
        f"{ours.senders} sender(s), counted from the first request until every span was",
        "stored (Phoenix: `recordCount` of its projects through GraphQL; it answers 503 while",
        "its queue is full, and the sender retries).",
        "",
    ]
    lines += _table(
        ["system", "spans/s until stored", "retries", "peak RSS"],
        [
            [
                f"otelite ({len(ours.runs)} runs)",
                _summary_text(summarize([r.stored_rate for r in ours.runs]), _rate),
                str(sum(r.sent.retries for r in ours.runs)),
                _mib(ours.peak_rss),
            ],
            [
                f"Arize Phoenix {phoenix.version} (1 run)",
                _rate(phoenix_rate),
                str(phoenix.sent.retries),
                _mib(phoenix.peak_rss),
            ],
        ],
    )
    if phoenix_rate > 0:
        lines += [
            "",
            f"otelite stores **{otelite_rate / phoenix_rate:,.0f}{_TIMES}** as many spans per "
            "second.",
        ]
    return lines


def _profile_section(results: Results) -> list[str]:
    profile = results.profile
    if profile is None:
        return []
    lines = ["", "## Profile of the server during ingest", ""]
    if profile.error:
        return [*lines, f"No profile: {profile.error}"]
    lines += [
        f"`{profile.command}` while OTLP/HTTP senders keep it busy; {profile.samples:,} samples",
        "over all threads of the server and its flatten worker process.",
        "",
    ]
    if profile.cores:
        lines += ["Where the cores went (busy samples per role over the recording):", ""]
        lines += _table(["cores", "role"], [[f"{c:.2f}", r] for r, c in profile.cores])
        lines += [""]
    lines += ["Own time (the frame itself was running):", ""]
    lines += _table(["share", "frame"], [[f"{s:.1%}", f"`{f}`"] for f, s in profile.self_top])
    lines += ["", "Total time of otelite's own frames (the frame was on the stack):", ""]
    lines += _table(["share", "frame"], [[f"{s:.1%}", f"`{f}`"] for f, s in profile.total_top])
    return lines
