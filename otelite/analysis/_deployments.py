"""Deployments: when each service's ``service.version`` changed, with RED before and after.

**What is read.** Per service and per version (the resource attribute ``service.version``;
spans without it take no part), the first and last span start in each *bucket* of the
range ``[start, end)``: one grouped query, whose rows are at most one per service, version
and bucket, with at most ``MAX_BUCKETS`` buckets (``bucket_ns`` is the range over that, and
at least a second) and at most ``MAX_ROWS`` rows. The range may span ``DEPLOYMENTS_MAX_RANGE_NS`` at
most. Every span of a service counts here, not only its requests: a batch job's internal
spans carry its version too.

**How deploys are derived.** Each bucket row stands for two spans of its version, its
first and its last; those points are swept in time order, per service. A version is
*live* from its first span; it is *replaced* once another version of the service has a
span more than ``settle_ns`` after the version's last one (the version stopped serving
while another served). A *deploy* is a span of a version that is not live, other than
the versions the service shows in its first bucket of the range (those were deployed
before the range began, however they overlap there). So:

* a deploy is dated by the **first span of the new version**; ``previous`` are the
  versions live at that moment, and ``rollout_end_ns`` the last span of the last of them
  once all were replaced (None while one is not: a rolling deploy or a canary still in
  progress, or one that ended less than ``settle_ns`` before the data does);
* versions that interleave (a canary, a rolling deploy, a blue/green switch back and
  forth faster than ``settle_ns``) make one deploy, when the newer one first appears;
* a version that comes back after it was replaced (a rollback, or a fix rolled forward
  under an old number) is a deploy again, marked ``rollback``;
* ``settle_ns`` is never below ``bucket_ns``: a version's gap inside one bucket is not
  visible in that bucket's first and last spans, so two deploys closer than a bucket may
  read as one, and a deploy within the service's first bucket is not reported.

**RED before and after.** A request is what ``otelite.query.service_red_plan`` counts (a
service's entry spans), so these figures agree with the services page. The *before*
window ends at the deploy and reaches back ``window_ns`` (15 minutes), but not past the
previous deploy of the service nor the start of the range; the *after* window starts at
the deploy and reaches forward as far, up to the next deploy or the end of the range.
Each window has RED for the whole service and per version (during a rolling deploy the
after window holds both). Only the ``MAX_DEPLOYS`` latest deploys are returned with
their figures (two queries each); ``truncated`` and ``warnings`` say when anything was
cut.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from otelite.errors import InvalidRequest
from otelite.query import (
    Attribute,
    AttributeScope,
    Call,
    Column,
    Compare,
    Exists,
    Literal,
    Op,
    Order,
    Output,
    Plan,
    Select,
    Table,
    TimeRange,
    all_of,
    compile_plan,
    service_red_plan,
)
from otelite.storage import Storage

__all__ = [
    "DEPLOYMENTS_MAX_RANGE_NS",
    "MAX_BUCKETS",
    "MAX_DEPLOYS",
    "MAX_ROWS",
    "SETTLE_NS",
    "VERSION",
    "WINDOW_NS",
    "Deploy",
    "Deployments",
    "Red",
    "RedWindow",
    "VersionSeen",
    "derive_deploys",
    "find_deployments",
    "versions_plan",
]

_SECOND = 1_000_000_000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE

WINDOW_NS = 15 * _MINUTE
"""How far before and after a deploy its RED reaches, at most."""
SETTLE_NS = 5 * _MINUTE
"""How long other versions must serve without a version for it to count as replaced."""
DEPLOYMENTS_MAX_RANGE_NS = 7 * 24 * _HOUR
"""The longest range one answer reads."""
MAX_BUCKETS = 1000
MAX_ROWS = 50_000
MAX_DEPLOYS = 25

VERSION = Attribute("service.version", AttributeScope.RESOURCE)
"""The version a span's service runs."""


@dataclass(frozen=True, slots=True)
class Red:
    """Requests, errors and latency percentiles (ns) over ``seconds``."""

    request_count: int
    error_count: int
    p50_ns: float | None
    p95_ns: float | None
    p99_ns: float | None
    seconds: float

    @property
    def rate_per_second(self) -> float:
        return self.request_count / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_rate(self) -> float:
        """Errors per request (0 without requests)."""
        return self.error_count / self.request_count if self.request_count else 0.0


@dataclass(frozen=True, slots=True)
class RedWindow:
    """RED of a service over ``[start_ns, end_ns)``, in total and per version."""

    start_ns: int
    end_ns: int
    service: Red
    versions: tuple[tuple[str | None, Red], ...]
    """(version, RED) for each version with requests in the window, by version."""


@dataclass(frozen=True, slots=True)
class Deploy:
    """A version of a service that started serving at ``time_ns`` (its first span)."""

    service: str
    version: str
    time_ns: int
    previous: tuple[str, ...]
    """The versions serving when it appeared, by name."""
    rollback: bool = False
    """The version had served in the range before, and was replaced since."""
    rollout_end_ns: int | None = None
    """The last span of the last of ``previous``, once all were replaced; None until
    then (they serve at the end of the range, or stopped less than ``settle_ns`` before
    the last span of the service)."""
    before: RedWindow | None = None
    after: RedWindow | None = None


@dataclass(frozen=True, slots=True)
class VersionSeen:
    """The first and last span start of one version of a service in the range."""

    service: str
    version: str
    first_ns: int
    last_ns: int


@dataclass(frozen=True, slots=True)
class Deployments:
    """The deploys found in ``[start_ns, end_ns)``, oldest first, and how they were found."""

    start_ns: int
    end_ns: int
    bucket_ns: int
    settle_ns: int
    window_ns: int
    deploys: tuple[Deploy, ...]
    versions: tuple[VersionSeen, ...]
    truncated: bool = False
    warnings: tuple[str, ...] = ()


def versions_plan(
    time: TimeRange, bucket_ns: int, service: str | None = None, *, limit: int = MAX_ROWS
) -> Select:
    """Per service (``name``), version and bucket (``bucket_ns``): the first and last span
    start (``first_ns``, ``last_ns``), oldest bucket first."""
    start: Call = Call("timestamp_to_ns", (Column("Timestamp"),))
    return Select(
        Table.SPANS,
        (
            Output("name", Column("ServiceName")),
            Output("version", VERSION),
            Output("bucket_ns", Call("time_bucket_ns", (Column("Timestamp"), Literal(bucket_ns)))),
            Output("first_ns", Call("min", (start,))),
            Output("last_ns", Call("max", (start,))),
        ),
        where=all_of(
            Exists(VERSION),
            None if service is None else Compare(Column("ServiceName"), Op.EQ, service),
        ),
        time=time,
        group_by=("name", "version", "bucket_ns"),
        order_by=(Order("bucket_ns"), Order("name"), Order("version")),
        limit=limit,
    )


def derive_deploys(rows: Iterable[dict[str, Any]], settle_ns: int) -> list[Deploy]:
    """The deploys that ``versions_plan``'s rows show, oldest first (see the module
    docstring); without RED."""
    by_service: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_service[row["name"]].append(row)
    found: list[Deploy] = []
    for service, seen in sorted(by_service.items()):
        found.extend(_service_deploys(service, seen, settle_ns))
    found.sort(key=lambda d: (d.time_ns, d.service, d.version))
    return found


def _service_deploys(service: str, rows: list[dict[str, Any]], settle_ns: int) -> list[Deploy]:
    first_bucket = min(row["bucket_ns"] for row in rows)
    initial = {row["version"] for row in rows if row["bucket_ns"] == first_bucket}
    points = sorted((t, row["version"]) for row in rows for t in {row["first_ns"], row["last_ns"]})
    live: dict[str, int] = {}  # version → its last span so far
    ever: set[str] = set()
    replaced: list[tuple[str, int, int]] = []  # (version, its last span, when noticed)
    deploys: list[Deploy] = []
    for t, version in points:
        if version not in live and (version in ever or version not in initial):
            # Before the versions it replaces are retired: after a pause in traffic, the
            # new version's first span is what shows the old one gone.
            previous = tuple(sorted(live))
            deploys.append(Deploy(service, version, t, previous, rollback=version in ever))
        for other, last in list(live.items()):
            if other != version and t - last > settle_ns:
                del live[other]
                replaced.append((other, last, t))
        live[version] = t
        ever.add(version)
    return [replace(d, rollout_end_ns=_rollout_end(d, replaced)) for d in deploys]


def _rollout_end(deploy: Deploy, replaced: list[tuple[str, int, int]]) -> int | None:
    ends = []
    for version in deploy.previous:
        last = next(
            (last for v, last, at in replaced if v == version and at >= deploy.time_ns), None
        )
        if last is None:
            return None
        ends.append(last)
    return max(ends, default=None)


def find_deployments(
    storage: Storage,
    time: TimeRange,
    service: str | None = None,
    *,
    settle_ns: int = SETTLE_NS,
    window_ns: int = WINDOW_NS,
    max_rows: int = MAX_ROWS,
    max_deploys: int = MAX_DEPLOYS,
) -> Deployments:
    """The deploys of ``service`` (every service when None) in ``time``, with RED before
    and after each; see the module docstring. Blocks: run it off the event loop.
    ``max_rows`` and ``max_deploys`` are the caps on version rows read and on deploys
    given with their RED.

    Raises ``InvalidRequest`` for an unbounded range, one longer than ``DEPLOYMENTS_MAX_RANGE_NS``,
    or a non-positive ``settle_ns`` or ``window_ns``.
    """
    if time.start is None or time.end is None:
        raise InvalidRequest("start, end: deployments need a bounded range")
    span = time.end - time.start
    if span > DEPLOYMENTS_MAX_RANGE_NS:
        raise InvalidRequest(
            f"start: a deployments range spans at most {DEPLOYMENTS_MAX_RANGE_NS // _HOUR}h,"
            f" got {span / _HOUR:.1f}h"
        )
    if settle_ns <= 0:
        raise InvalidRequest("settle: must be a positive duration")
    if window_ns <= 0:
        raise InvalidRequest("window: must be a positive duration")
    bucket_ns = max(_SECOND, -(-span // MAX_BUCKETS))
    settle_ns = max(settle_ns, bucket_ns)
    warnings: list[str] = []
    rows = _rows(storage, versions_plan(time, bucket_ns, service, limit=max_rows + 1))
    if len(rows) > max_rows:
        # Rows come oldest bucket first: keep the buckets read whole.
        cut_at = rows[max_rows]["bucket_ns"]
        rows = [row for row in rows[:max_rows] if row["bucket_ns"] < cut_at]
        when = datetime.fromtimestamp(cut_at / _SECOND, UTC).isoformat(timespec="seconds")
        warnings.append(f"more than {max_rows} version rows: versions read until {when} only")
    deploys = derive_deploys(rows, settle_ns)
    windows = _windows(deploys, time.start, time.end, window_ns)
    if len(deploys) > max_deploys:
        warnings.append(f"{len(deploys)} deploys: only the latest {max_deploys} are given")
        deploys, windows = deploys[-max_deploys:], windows[-max_deploys:]
    return Deployments(
        start_ns=time.start,
        end_ns=time.end,
        bucket_ns=bucket_ns,
        settle_ns=settle_ns,
        window_ns=window_ns,
        deploys=tuple(
            _with_red(storage, d, start, end)
            for d, (start, end) in zip(deploys, windows, strict=True)
        ),
        versions=_versions_seen(rows),
        truncated=bool(warnings),
        warnings=tuple(warnings),
    )


def _versions_seen(rows: Sequence[dict[str, Any]]) -> tuple[VersionSeen, ...]:
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for row in rows:
        key = (row["name"], row["version"])
        first, last = spans.get(key, (row["first_ns"], row["last_ns"]))
        spans[key] = (min(first, row["first_ns"]), max(last, row["last_ns"]))
    return tuple(
        VersionSeen(service, version, first, last)
        for (service, version), (first, last) in sorted(
            spans.items(), key=lambda item: (item[0][0], item[1][0])
        )
    )


def _windows(
    deploys: list[Deploy], start_ns: int, end_ns: int, window_ns: int
) -> list[tuple[int, int]]:
    """Where each deploy's before window starts and its after window ends: ``window_ns``
    either side, but not past the service's neighbouring deploys nor the range."""
    times: dict[str, list[int]] = defaultdict(list)
    for d in deploys:
        times[d.service].append(d.time_ns)
    found = []
    for d in deploys:
        own = times[d.service]
        earlier = [t for t in own if t < d.time_ns]
        later = [t for t in own if t > d.time_ns]
        found.append(
            (
                max(d.time_ns - window_ns, *earlier[-1:], start_ns),
                min(d.time_ns + window_ns, *later[:1], end_ns),
            )
        )
    return found


def _with_red(storage: Storage, deploy: Deploy, start_ns: int, end_ns: int) -> Deploy:
    """The deploy with the RED of ``[start_ns, deploy)`` and ``[deploy, end_ns)``: one
    query for the service, one per version, each split at the deploy."""
    whole = service_red_plan(TimeRange(start_ns, end_ns), deploy.service)
    side = Output("after", Compare(Column("Timestamp"), Op.GE, deploy.time_ns))
    totals = replace(
        whole, outputs=(*whole.outputs, side), group_by=(*whole.group_by, "after"), order_by=()
    )
    per_version = replace(
        totals,
        outputs=(*totals.outputs, Output("version", VERSION)),
        group_by=(*totals.group_by, "version"),
    )
    service_rows = _rows(storage, totals)
    version_rows = _rows(storage, per_version)
    windows = []
    for after, (start, end) in (
        (False, (start_ns, deploy.time_ns)),
        (True, (deploy.time_ns, end_ns)),
    ):
        seconds = (end - start) / _SECOND
        total = next((r for r in service_rows if bool(r["after"]) is after), None)
        versions = sorted(
            ((r["version"], _red(r, seconds)) for r in version_rows if bool(r["after"]) is after),
            key=lambda item: (item[0] is None, item[0] or ""),
        )
        red = _red(total, seconds) if total else Red(0, 0, None, None, None, seconds)
        windows.append(RedWindow(start, end, red, tuple(versions)))
    return replace(deploy, before=windows[0], after=windows[1])


def _red(row: dict[str, Any], seconds: float) -> Red:
    return Red(
        request_count=row["request_count"],
        error_count=row["error_count"],
        p50_ns=row["p50_ns"],
        p95_ns=row["p95_ns"],
        p99_ns=row["p99_ns"],
        seconds=seconds,
    )


def _rows(storage: Storage, plan: Plan) -> list[dict[str, Any]]:
    statement = compile_plan(plan, storage.dialect)
    table = storage.query(statement.sql, statement.params, types=statement.types)
    found: list[dict[str, Any]] = table.to_pylist()
    return found
