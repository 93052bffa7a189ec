"""The pipeline file's ``exporters:``: what is read, and each problem named by file, line
and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from otelite.pipeline import PipelineFileError, RedactionRules, parse_pipeline
from otelite.types import Signal

BAD = [
    ("exporters: {}\n", "f.yaml:1: exporters: give at least one exporter"),
    ("exporters:\n  a/b: {endpoint: http://x:1}\n", "f.yaml:2: exporters.a/b: a name is"),
    ("exporters:\n  v: {protocol: grpc}\n", "f.yaml:2: exporters.v: endpoint: required"),
    (
        "exporters:\n  v:\n    endpoint: ftp://x:1\n",
        "f.yaml:3: exporters.v.endpoint: must be an http:// or https:// URL",
    ),
    (
        "exporters:\n  v:\n    endpoint: x.example\n    protocol: grpc\n",
        "f.yaml:3: exporters.v.endpoint: gRPC needs host:port",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    protocol: thrift\n",
        "f.yaml:4: exporters.v.protocol: must be one of http/protobuf, http/json, grpc",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    compression: zstd\n",
        "f.yaml:4: exporters.v.compression: must be one of gzip, none",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    headers: {k: '${env:OTELITE_NO_SUCH}'}\n",
        "f.yaml:4: exporters.v.headers.k: $OTELITE_NO_SUCH is not set",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    signals: [traces, spans]\n",
        "f.yaml:4: exporters.v.signals: give some of traces, metrics, logs, not 'spans'",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    timeout: soon\n",
        "f.yaml:4: exporters.v.timeout: must be a duration",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    queue: {max_size: 1KiB}\n",
        "f.yaml:4: exporters.v.queue.max_size: must be at least 1MiB",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    queue: {size: 1GiB}\n",
        "f.yaml:4: exporters.v.queue.size: unknown key",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    queue: {in_flight: 0}\n",
        "f.yaml:4: exporters.v.queue.in_flight: must be a whole number of at least 1",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    queue: {in_flight: 65}\n",
        "f.yaml:4: exporters.v.queue.in_flight: must be at most 64",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    batch: {max_size: 1KiB}\n",
        "f.yaml:4: exporters.v.batch.max_size: must be at least 64KiB",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    batch: {max_requests: 0}\n",
        "f.yaml:4: exporters.v.batch.max_requests: must be a whole number of at least 1",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    tls: {ca_file: /no/such/ca.pem}\n",
        "f.yaml:4: exporters.v.tls.ca_file: /no/such/ca.pem is not a readable file",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    circuit_breaker: {failure_threshold: 0}\n",
        "f.yaml:4: exporters.v.circuit_breaker.failure_threshold: must be a whole number of at "
        "least 1",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    dead_letter: {max_size: 10KiB}\n",
        "f.yaml:4: exporters.v.dead_letter.max_size: must be at least 1MiB",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    processors: {}\n",
        "f.yaml:4: exporters.v.processors: give at least one processor (redaction, tail_sampling)",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    processors: {batch: {}}\n",
        "f.yaml:4: exporters.v.processors.batch: unknown key",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    processors: {tail_sampling: {}}\n",
        "f.yaml:4: exporters.v.processors.tail_sampling: policies: required",
    ),
    (
        "exporters:\n  v:\n    endpoint: http://x:1\n    processors:\n"
        "      redaction: {rules: [{keys: [a], action: burn}]}\n",
        "f.yaml:5: exporters.v.processors.redaction.rules[0].action: must be one of delete, mask,"
        " hash",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_exporters_name_the_line_and_the_key(text: str, message: str) -> None:
    with pytest.raises(PipelineFileError) as caught:
        parse_pipeline(text, "f.yaml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_full_exporter_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VENDOR_KEY", "s3cret")
    (tmp_path / "ca.pem").write_text("-")
    found = parse_pipeline(
        f"""\
exporters:
  vendor:
    endpoint: https://user:pw@otlp.vendor.example:4318/base
    protocol: http/json
    compression: none
    headers: {{api-key: "key ${{env:VENDOR_KEY}}"}}
    tls: {{ca_file: {tmp_path / "ca.pem"}}}
    signals: [logs, traces]
    timeout: 1500ms
    queue: {{max_size: 2GiB, in_flight: 4}}
    batch: {{max_size: 1MiB, max_requests: 50}}
    retry: {{initial_interval: 2s, max_interval: 1m}}
    circuit_breaker: {{failure_threshold: 3, cooldown: 1h}}
    dead_letter: {{max_size: 5MiB}}
    processors:
      redaction: {{rules: [{{keys: [password], action: delete}}]}}
  peer:
    endpoint: otelite-2:4317
    protocol: grpc
    tls: {{insecure: true}}
""",
        "f.yaml",
    )
    vendor, peer = found.exporters
    assert vendor.headers == {"api-key": "key s3cret"}
    assert vendor.signals == {Signal.LOGS, Signal.TRACES}
    assert (vendor.protocol, vendor.compression) == ("http/json", "none")
    assert vendor.timeout_seconds == 1.5
    assert (vendor.max_queue_bytes, vendor.in_flight) == (2 * 1024**3, 4)
    assert (vendor.batch_max_bytes, vendor.batch_max_requests) == (1024**2, 50)
    # The defaults stay under the 4 MiB a gRPC server receives by default.
    assert peer.batch_max_bytes < 4 * 1024**2
    assert (vendor.retry_initial_seconds, vendor.retry_max_seconds) == (2.0, 60.0)
    assert (vendor.failure_threshold, vendor.cooldown_seconds) == (3, 3600.0)
    assert vendor.max_dead_letter_bytes == 5 * 1024**2
    [redaction] = vendor.processors
    assert isinstance(redaction, RedactionRules)
    assert [rule.keys for rule in redaction.key_rules] == [{"password"}]
    assert (peer.max_dead_letter_bytes, peer.processors) == (64 * 1024**2, ())
    assert vendor.shown_endpoint == "https://otlp.vendor.example:4318/base"
    assert (peer.protocol, peer.tls.insecure, peer.compression) == ("grpc", True, "gzip")
    assert peer.signals == set(Signal)
    assert list(found.processors) == []


def test_pipeline_check_lists_exporters_without_header_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from otelite.cli import main

    path = tmp_path / "p.yaml"
    path.write_text(
        "exporters:\n  v:\n    endpoint: http://x:4318\n    headers: {api-key: hidden}\n"
        "    signals: traces\n"
    )
    assert main(["pipeline", "check", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}: ok\n  exporter v: http/protobuf to http://x:4318, signals traces, "
        "compression gzip, queue 1073741824 bytes, headers api-key\n"
    )


def test_pipeline_check_names_an_exporters_own_processors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from otelite.cli import main

    path = tmp_path / "p.yaml"
    path.write_text(
        "exporters:\n  v:\n    endpoint: http://x:4318\n"
        "    processors: {redaction: {rules: [{keys: [password], action: delete}]}}\n"
    )
    assert main(["pipeline", "check", str(path)]) == 0
    assert ", processors redaction" in capsys.readouterr().out
    path.write_text(
        "exporters:\n  v:\n    endpoint: http://x:4318\n    processors:\n"
        "      redaction: {rules: [{keys: [password], action: delete}]}\n"
        "      tail_sampling: {decision_wait: 5s, policies: [{name: e, type: status_code,"
        " status_code: {status_codes: [ERROR]}}]}\n"
    )
    assert main(["pipeline", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert ", processors redaction, tail_sampling" in out
    assert "    tail_sampling: decision_wait 5s, num_traces 50000, policies e\n" in out
