"""``export`` from a query API and ``import`` into a real OTLP/HTTP receiver."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import orjson
import pytest

from otelite._cli import _import
from otelite._cli._export import count_items
from otelite.cli import main
from otelite.errors import Overloaded
from otelite.otlp import decode_request_json, encode_request_json
from otelite.pipeline import InMemoryConsumer
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, ExportTraceServiceRequest, Signal
from tests.roundtrip import assert_same_telemetry

from . import fake_api
from .support import T0, closed_port_url, sample_logs, sample_metrics, sample_traces

Capture = pytest.CaptureFixture[str]
SAMPLES: dict[Signal, ExportRequest] = {
    Signal.TRACES: sample_traces(),
    Signal.METRICS: sample_metrics(),
    Signal.LOGS: sample_logs(),
}


def write_lines(path: Path, *lines: bytes) -> Path:
    data = b"".join(line + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def test_export_to_stdout(api_url: str, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    code = main(["export", "--signal", "traces", "--start", "1700000000", "--url", api_url])
    out = capfdbinary.readouterr().out
    assert code == 0
    assert fake_api.SEEN[-1] == ("/api/export", [("signal", "traces"), ("start", str(T0))])
    lines = out.splitlines()
    assert len(lines) == 2
    received = [decode_request_json(Signal.TRACES, line) for line in lines]
    assert_same_telemetry(fake_api.EXPORTS[Signal.TRACES], received)


@pytest.mark.parametrize("name", ["traces.jsonl", "traces.jsonl.gz"])
def test_export_to_a_file(api_url: str, tmp_path: Path, capsys: Capture, name: str) -> None:
    target = tmp_path / name
    code = main(["export", "--signal", "traces", "--url", api_url, "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 0
    assert f"exported 2 requests (6 spans) to {target}" in err
    assert "requests" in err.split("exported")[0]  # the progress bar went to stderr
    data = target.read_bytes()
    lines = (gzip.decompress(data) if name.endswith(".gz") else data).splitlines()
    assert [decode_request_json(Signal.TRACES, line) for line in lines] == fake_api.EXPORTS[
        Signal.TRACES
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_failed_export_leaves_no_file(tmp_path: Path, capsys: Capture) -> None:
    target = tmp_path / "out.jsonl"
    code = main(["export", "--signal", "logs", "--url", closed_port_url(), "-o", str(target)])
    assert code == 1
    assert "is `otelite serve` running?" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_count_items() -> None:
    assert [count_items(s, orjson.loads(encode_request_json(r))) for s, r in SAMPLES.items()] == [
        3,
        2,
        2,
    ]


def test_import_mixed_signals_and_gzip(
    tmp_path: Path, otlp_url: str, consumer: InMemoryConsumer, capsys: Capture
) -> None:
    plain = write_lines(
        tmp_path / "a.jsonl",
        encode_request_json(SAMPLES[Signal.TRACES]),
        b"",
        encode_request_json(SAMPLES[Signal.LOGS]),
        b"{}",
    )
    zipped = write_lines(tmp_path / "b.gz", encode_request_json(SAMPLES[Signal.METRICS]))
    code = main(["import", str(plain), str(zipped), "--otlp-url", otlp_url])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"imported 3 requests (1 traces, 1 logs, 1 metrics) into {otlp_url}" in err
    for signal, sent in SAMPLES.items():
        assert_same_telemetry([sent], consumer.requests(signal))


def test_import_from_stdin(
    otlp_url: str, consumer: InMemoryConsumer, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    data = gzip.compress(encode_request_json(SAMPLES[Signal.LOGS]) + b"\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    assert main(["import", "-", "--otlp-url", otlp_url]) == 0
    assert_same_telemetry([SAMPLES[Signal.LOGS]], consumer.requests(Signal.LOGS))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{not json", "bad.jsonl:2: not an OTLP/JSON export request"),
        (b"[1, 2]", "bad.jsonl:2: not an OTLP/JSON export request: expected a JSON object"),
        (b'{"resourceSpans": [], "resourceLogs": []}', "bad.jsonl:2: not an OTLP/JSON export"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}',
            "bad.jsonl:2: resourceSpans[0].scopeSpans[0].spans[0].traceId",
        ),
    ],
)
def test_import_names_the_bad_line(
    tmp_path: Path,
    otlp_url: str,
    consumer: InMemoryConsumer,
    capsys: Capture,
    line: bytes,
    message: str,
) -> None:
    bad = write_lines(tmp_path / "bad.jsonl", encode_request_json(SAMPLES[Signal.LOGS]), line)
    code = main(["import", str(bad), "--otlp-url", otlp_url])
    err = capsys.readouterr().err
    assert code == 1
    assert f"otelite: error: {tmp_path / message}" in err
    # What came before the bad line was sent.
    assert len(consumer.received) == 1


def test_import_of_a_missing_file(capsys: Capture, tmp_path: Path) -> None:
    assert main(["import", str(tmp_path / "nope.jsonl")]) == 1
    assert "cannot read " in capsys.readouterr().err


def test_import_of_a_corrupt_gzip_file(tmp_path: Path, otlp_url: str, capsys: Capture) -> None:
    broken = tmp_path / "x.gz"
    broken.write_bytes(gzip.compress(b'{"resourceLogs": []}\n' * 100)[:30])
    assert main(["import", str(broken), "--otlp-url", otlp_url]) == 1
    assert f"cannot read {broken}" in capsys.readouterr().err


class FlakyConsumer(InMemoryConsumer):
    """Overloaded for the first ``failures`` requests, then accepts."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise Overloaded("queue full", retry_after=0)
        await super().consume(signal, request, tenant=tenant, payload=payload)


@pytest.mark.parametrize("consumer", [FlakyConsumer(failures=2)])
def test_import_retries_when_told_to(
    tmp_path: Path, otlp_url: str, consumer: FlakyConsumer, capsys: Capture
) -> None:
    data = write_lines(tmp_path / "t.jsonl", encode_request_json(SAMPLES[Signal.TRACES]))
    assert main(["import", str(data), "--otlp-url", otlp_url]) == 0
    assert consumer.calls == 3
    assert_same_telemetry([SAMPLES[Signal.TRACES]], consumer.requests(Signal.TRACES))


def test_import_reports_a_partial_success(
    tmp_path: Path, otlp_url: str, consumer: InMemoryConsumer, capsys: Capture
) -> None:
    request = sample_traces()
    request.resource_spans[0].scope_spans[0].spans[0].trace_id = bytes(16)
    data = write_lines(tmp_path / "t.jsonl", encode_request_json(request))
    code = main(["import", str(data), "--otlp-url", otlp_url])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{data}:1: the receiver rejected 1 items: " in err
    assert "trace_id must not be all zeros" in err
    assert "the receiver rejected 1 items\n" in err
    (stored,) = consumer.requests(Signal.TRACES)
    assert isinstance(stored, ExportTraceServiceRequest)
    assert [s.name for r in stored.resource_spans for ss in r.scope_spans for s in ss.spans] == [
        "charge",
        "render",
    ]


def test_import_with_no_receiver(tmp_path: Path, capsys: Capture) -> None:
    data = write_lines(tmp_path / "l.jsonl", encode_request_json(SAMPLES[Signal.LOGS]))
    url = closed_port_url()
    assert main(["import", str(data), "--otlp-url", url]) == 1
    assert (
        capsys.readouterr().err
        == f"otelite: error: cannot reach the OTLP receiver at {url}/v1/logs: "
        "is `otelite serve` running?\n"
    )


def test_import_shows_progress_for_large_files(
    tmp_path: Path, otlp_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    monkeypatch.setattr(_import, "_PROGRESS_MIN_BYTES", 0)
    data = write_lines(tmp_path / "l.jsonl", encode_request_json(SAMPLES[Signal.LOGS]))
    assert main(["import", str(data), "--otlp-url", otlp_url]) == 0
    err = capsys.readouterr().err
    assert f"import {data}" in err
    assert f"/{data.stat().st_size} [" in err


def test_export_then_import_round_trip(
    api_url: str, otlp_url: str, consumer: InMemoryConsumer, tmp_path: Path
) -> None:
    for signal in Signal:
        target = tmp_path / f"{signal.value}.jsonl.gz"
        assert main(["export", "--signal", signal.value, "--url", api_url, "-o", str(target)]) == 0
        assert main(["import", str(target), "--otlp-url", otlp_url]) == 0
        assert_same_telemetry(fake_api.EXPORTS[signal], consumer.requests(signal))


def test_a_bad_line_on_stdin_is_named(
    otlp_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(b"\n42\n"))))
    assert main(["import", "-", "--otlp-url", otlp_url]) == 1
    assert "otelite: error: <stdin>:2: not an OTLP/JSON export request" in capsys.readouterr().err
