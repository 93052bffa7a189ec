"""A real Prometheus over given series: the reference otelite's PromQL answers must equal.

The series are written as OpenMetrics text, turned into TSDB blocks by Debian's ``promtool
tsdb create-blocks-from openmetrics``, and served by Debian's ``prometheus`` (2.42) on a
free port, with no scrape targets and the default lookback delta (5m).

promtool forgives too much to be fed carelessly: a sample older than the one before it in
its series, or a second sample at the same time, is dropped without a word. So
``openmetrics`` refuses such input, and ``Reference`` checks that the blocks hold every
sample it wrote.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeAlias

import httpx

from tests.e2e.conftest import free_port, wait_for

__all__ = [
    "LOOKBACK_MS",
    "PROMETHEUS",
    "PROMTOOL",
    "MetricType",
    "PrometheusError",
    "Reference",
    "Series",
    "openmetrics",
]

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
LOOKBACK_MS = 5 * 60 * 1000
"""Prometheus's default ``--query.lookback-delta``, which the reference keeps."""

MetricType: TypeAlias = Literal["counter", "gauge", "histogram"]

# The sample names each family type allows, as suffixes of the family's name.
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
}
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass(frozen=True)
class Series:
    """One Prometheus series.

    ``family`` is the name of its OpenMetrics family (``http_requests`` for the sample name
    ``http_requests_total``, ``latency`` for ``latency_bucket``), ``type`` the family's type,
    ``labels`` every label including ``__name__`` (and ``le`` on a bucket), ``samples``
    (Unix milliseconds, value) pairs in time order.
    """

    family: str
    type: MetricType
    labels: Mapping[str, str]
    samples: Sequence[tuple[int, float]]

    @property
    def name(self) -> str:
        return self.labels["__name__"]


class PrometheusError(Exception):
    """An error answer of Prometheus's HTTP API: its ``errorType`` and ``error``."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


def openmetrics(series: Iterable[Series]) -> str:
    """The OpenMetrics text of ``series``: each family once, after its ``# TYPE`` line, its
    series one after another, each sample with its timestamp; then ``# EOF``.

    Raises ``ValueError`` for what promtool would drop or misread: samples out of time order
    or at the same time, a series twice, a sample name that does not belong to its family,
    an empty label value, a timestamp that does not survive the parser's seconds → ms.
    """
    families: dict[str, list[Series]] = {}
    types: dict[str, MetricType] = {}
    seen: set[frozenset[tuple[str, str]]] = set()
    for one in series:
        _check(one)
        if types.setdefault(one.family, one.type) != one.type:
            raise ValueError(f"family {one.family!r} is both {types[one.family]} and {one.type}")
        key = frozenset(one.labels.items())
        if key in seen:
            raise ValueError(f"series {dict(one.labels)} appears twice")
        seen.add(key)
        families.setdefault(one.family, []).append(one)
    lines = []
    for family, members in families.items():
        lines.append(f"# TYPE {family} {types[family]}")
        for one in members:
            labels = ",".join(
                f'{name}="{_escape(value)}"'
                for name, value in sorted(one.labels.items())
                if name != "__name__"
            )
            prefix = f"{one.name}{{{labels}}}" if labels else one.name
            lines.extend(f"{prefix} {_value(v)} {_timestamp(t)}" for t, v in one.samples)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _check(series: Series) -> None:
    name = series.labels.get("__name__", "")
    if not any(name == series.family + suffix for suffix in _SUFFIXES[series.type]):
        raise ValueError(f"{name!r} is not a sample name of the {series.type} {series.family!r}")
    if not _METRIC_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a Prometheus metric name")
    for label, value in series.labels.items():
        if label != "__name__" and not _LABEL_NAME.fullmatch(label):
            raise ValueError(f"{name}: {label!r} is not a Prometheus label name")
        if value == "":
            raise ValueError(f"{name}: label {label!r} is empty; Prometheus has no empty labels")
    if (name == series.family + "_bucket") != ("le" in series.labels):
        raise ValueError(f"{name}: a histogram's buckets, and only they, carry an le label")
    times = [t for t, _ in series.samples]
    if any(later <= earlier for earlier, later in itertools.pairwise(times)):
        raise ValueError(f"{name} {dict(series.labels)}: samples must be in strict time order")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _timestamp(ms: int) -> str:
    # OpenMetrics timestamps are seconds; Prometheus's parser takes int64(seconds * 1000),
    # which truncates, so a millisecond that float arithmetic cannot carry is refused here.
    text = f"{ms // 1000}.{ms % 1000:03d}"
    if ms < 0 or int(float(text) * 1000) != ms:
        raise ValueError(f"timestamp {ms} ms would not survive promtool's parser")
    return text


class Reference:
    """Prometheus serving ``series``, from files in ``directory``; a context manager.

    Times given to ``query`` and ``query_range`` are Unix seconds (floats), as Prometheus's
    HTTP API takes them; Prometheus keeps milliseconds.
    """

    def __init__(self, series: Iterable[Series], directory: Path) -> None:
        series = list(series)
        directory.mkdir(parents=True, exist_ok=True)
        source = directory / "series.om"
        source.write_text(openmetrics(series))
        tsdb = directory / "tsdb"
        _create_blocks(source, tsdb, expected=sum(len(one.samples) for one in series))
        config = directory / "prometheus.yml"
        config.write_text("global: {}\nscrape_configs: []\n")
        self._log = directory / "prometheus.log"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self._log.open("wb") as log:
            # A file, not a pipe: nobody reads while Prometheus runs, and a full pipe blocks it.
            self._process = subprocess.Popen(
                [
                    str(PROMETHEUS),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tsdb}",
                    # promtool's blocks are as old as their samples; keep them all.
                    "--storage.tsdb.retention.time=100y",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._http = httpx.Client(base_url=self.url, timeout=30)
        try:
            wait_for(self._ready, timeout=30, what="prometheus to become ready")
        except BaseException:
            self.close()
            raise

    def query(self, expr: str, time: float) -> dict[str, Any]:
        """``/api/v1/query``: the ``data`` of the answer (``resultType`` and ``result``)."""
        return self._get("/api/v1/query", query=expr, time=_seconds(time))

    def query_range(self, expr: str, start: float, end: float, step: float) -> dict[str, Any]:
        """``/api/v1/query_range``: the ``data`` of the answer (a matrix)."""
        return self._get(
            "/api/v1/query_range",
            query=expr,
            start=_seconds(start),
            end=_seconds(end),
            step=_seconds(step),
        )

    @property
    def output(self) -> str:
        """Everything Prometheus logged so far."""
        return self._log.read_text(errors="replace")

    def close(self) -> None:
        self._http.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> Reference:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _get(self, path: str, **params: str) -> dict[str, Any]:
        response = self._http.get(path, params=params)
        try:
            body = response.json()
        except ValueError:
            response.raise_for_status()
            raise
        if body.get("status") != "success":
            raise PrometheusError(body.get("errorType", ""), body.get("error", response.text))
        data: dict[str, Any] = body["data"]
        return data

    def _ready(self) -> bool:
        if self._process.poll() is not None:
            raise AssertionError(
                f"prometheus exited with {self._process.returncode}:\n{self.output}"
            )
        try:
            return self._http.get("/-/ready", timeout=1).status_code == 200
        except httpx.TransportError:
            return False


def _create_blocks(source: Path, tsdb: Path, *, expected: int) -> None:
    """Run promtool, and check its table of blocks counts ``expected`` samples."""
    done = subprocess.run(
        [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics", str(source), str(tsdb)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"promtool failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    # BLOCK ULID  MIN TIME  MAX TIME  DURATION  NUM SAMPLES  NUM CHUNKS  NUM SERIES  SIZE
    rows = done.stdout.splitlines()[1:]
    written = sum(int(row.split()[4]) for row in rows if row.strip())
    if written != expected:
        raise RuntimeError(f"promtool kept {written} of {expected} samples:\n{done.stdout}")


def _seconds(value: float) -> str:
    return f"{value:.3f}"
