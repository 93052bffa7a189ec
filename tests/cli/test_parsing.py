"""Every command's options parse into the values the handlers use; bad values exit 2."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from otelite._cli._serve import config_from_args
from otelite.cli import build_parser, main
from otelite.config import Config
from otelite.types import Signal


def parse(*argv: str) -> object:
    return build_parser().parse_args(argv)


def parse_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert "COMMAND" in parse_error(capsys)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("otelite 0.")


def test_serve_defaults_are_the_config_defaults() -> None:
    assert config_from_args(build_parser().parse_args(["serve"])) == Config()


def test_serve_options() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--data-dir",
            "/tmp/x",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--otlp-grpc-port",
            "14317",
            "--otlp-http-port",
            "14318",
            "--retention",
            "36h",
            "--self-telemetry",
        ]
    )
    assert config_from_args(args) == Config(
        data_dir=Path("/tmp/x"),
        host="0.0.0.0",
        port=0,
        otlp_grpc_port=14317,
        otlp_http_port=14318,
        retention_seconds=36 * 3600.0,
        self_telemetry=True,
    )


@pytest.mark.parametrize("off", ["0", "off", "OFF", "never", "0s"])
def test_serve_retention_off(off: str) -> None:
    args = build_parser().parse_args(["serve", "--memory", "--retention", off])
    config = config_from_args(args)
    assert config.retention_seconds is None
    assert config.data_dir is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "70000"], "port 70000 is outside 0-65535"),
        (["serve", "--port", "http"], "not a port number: 'http'"),
        (["serve", "--otlp-http-port", "-1"], "outside 0-65535"),
        (["serve", "--retention", "a week"], "not a duration: 'a week'"),
        (["serve", "--memory", "--data-dir", "d"], "not allowed with argument --memory"),
        (["serve", "--port", "4318"], "--port and --otlp-http-port are both 4318"),
    ],
)
def test_serve_bad_values(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    err = parse_error(capsys, *argv)
    assert message in err
    assert err.startswith("usage: otelite serve")


def test_export() -> None:
    args = build_parser().parse_args(
        ["export", "--signal", "logs", "--start", "1700000000", "--end", "now", "-o", "out.jsonl"]
    )
    assert args.signal is Signal.LOGS
    assert args.start == 1_700_000_000 * 10**9
    assert abs(args.end - time.time_ns()) < 10 * 10**9
    assert args.output == Path("out.jsonl")
    assert args.url == "http://127.0.0.1:3200"


def test_export_needs_a_known_signal(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--signal" in parse_error(capsys, "export")
    assert "invalid Signal value: 'spans'" in parse_error(capsys, "export", "--signal", "spans")


def test_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTELITE_OTLP_URL", raising=False)
    args = build_parser().parse_args(["import", "a.jsonl", "b.jsonl.gz"])
    assert args.files == ["a.jsonl", "b.jsonl.gz"]
    assert args.otlp_url == "http://127.0.0.1:4318"
    args = build_parser().parse_args(["import", "-", "--otlp-url", "http://h:1"])
    assert (args.files, args.otlp_url) == (["-"], "http://h:1")


def test_import_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert "FILE" in parse_error(capsys, "import")


def test_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTELITE_URL", "http://otelite.test:9")
    assert build_parser().parse_args(["services"]).url == "http://otelite.test:9"
    args = build_parser().parse_args(["services", "--url", "http://x:1", "--json"])
    assert (args.url, args.json) == ("http://x:1", True)


def test_operations() -> None:
    args = build_parser().parse_args(["operations", "checkout service"])
    assert args.service == "checkout service"
    assert args.json is False


def test_traces() -> None:
    args = build_parser().parse_args(
        [
            "traces",
            "--service",
            "api",
            "--name",
            "GET /",
            "--attr",
            "http.route=/a",
            "--attr",
            "k=v=w",
            "--min-duration",
            "100ms",
            "--max-duration",
            "2s",
            "--status",
            "error",
            "--start",
            "2023-11-14T22:13:20Z",
            "--limit",
            "5",
        ]
    )
    assert (args.service, args.name) == ("api", "GET /")
    assert args.attr == ["http.route=/a", "k=v=w"]
    assert (args.min_duration, args.max_duration) == ("100ms", "2s")
    assert args.status == "error"
    assert args.start == 1_700_000_000 * 10**9
    assert args.end is None
    assert args.limit == 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["traces", "--attr", "novalue"], "expected key=value, got 'novalue'"),
        (["traces", "--attr", "=v"], "expected key=value"),
        (["traces", "--status", "bad"], "invalid choice: 'bad'"),
        (["traces", "--limit", "0"], "must be at least 1, got 0"),
        (["traces", "--min-duration", "soon"], "not a duration: 'soon'"),
        (["traces", "--start", "yesterday"], "not a time: 'yesterday'"),
        (["trace", "xyz"], "not a trace id: 'xyz'"),
        (["trace", "0" * 32], "all-zero trace id"),
        (["logs", "--trace-id", "1" * 33], "not a trace id"),
        (["operations"], "service"),
        (["series"], "name"),
    ],
)
def test_client_bad_values(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert message in parse_error(capsys, *argv)


def test_trace_id_is_normalised() -> None:
    args = build_parser().parse_args(["trace", "ABCDEF"])
    assert args.trace_id == "0" * 26 + "abcdef"


def test_logs() -> None:
    args = build_parser().parse_args(
        [
            "logs",
            "--service",
            "payments",
            "--severity",
            "warn",
            "--text",
            "declined",
            "--trace-id",
            "5B8EFFF798038103D269B633813FC60C",
            "--attr",
            "card.kind=visa",
            "--end",
            "1h",
            "--limit",
            "20",
        ]
    )
    assert (args.service, args.severity, args.text) == ("payments", "warn", "declined")
    assert args.trace_id == "5b8efff798038103d269b633813fc60c"
    assert args.attr == ["card.kind=visa"]
    assert abs(args.end - (time.time_ns() - 3600 * 10**9)) < 10 * 10**9
    assert args.limit == 20


def test_metrics_and_series() -> None:
    assert build_parser().parse_args(["metrics", "--json"]).json is True
    args = build_parser().parse_args(
        ["series", "http.requests", "--attr", "route=/", "--service", "api", "--start", "2h"]
    )
    assert (args.name, args.attr, args.service) == ("http.requests", ["route=/"], "api")
    assert args.start < time.time_ns()


def test_listings_take_a_time_range() -> None:
    for command in (["services"], ["operations", "api"], ["metrics"]):
        args = build_parser().parse_args([*command, "--start", "1700000000", "--end", "now"])
        assert args.start == 1_700_000_000 * 10**9
        assert args.end > args.start
    args = build_parser().parse_args(["metrics", "--service", "api"])
    assert (args.service, args.start, args.end) == ("api", None, None)
    assert build_parser().parse_args(["series", "m", "--limit", "10"]).limit == 10
