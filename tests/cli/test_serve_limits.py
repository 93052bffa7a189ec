"""``otelite serve`` limit options → ``Limits``."""

from __future__ import annotations

import pytest

from otelite._cli._serve import config_from_args
from otelite.cli import build_parser
from otelite.config import Limits, parse_size


def limits(*options: str) -> Limits:
    return config_from_args(build_parser().parse_args(["serve", *options]), environ={}).limits


def test_defaults_are_the_limits_defaults() -> None:
    assert limits() == Limits()


def test_every_limit_option() -> None:
    assert limits(
        "--max-request-size",
        "20MB",
        "--max-queue-size",
        "1GiB",
        "--ingest-rate",
        "10MiB",
        "--ingest-burst",
        "15MiB",
        "--max-attributes",
        "off",
        "--max-attribute-value-length",
        "2048",
        "--max-future",
        "10m",
        "--max-past",
        "30d",
    ) == Limits(
        max_request_bytes=20_000_000,
        max_queue_bytes=1 << 30,
        ingest_rate_bytes=10 << 20,
        ingest_burst_bytes=15 << 20,
        max_attributes=None,
        max_attribute_value_length=2048,
        max_future_seconds=600.0,
        max_past_seconds=30 * 86400.0,
    )


def test_limits_can_be_turned_off() -> None:
    assert limits("--max-future", "off", "--ingest-rate", "off") == Limits(max_future_seconds=None)


@pytest.mark.parametrize(
    ("text", "size"),
    [("1000", 1000), ("512KiB", 512 << 10), ("1.5 MiB", 3 << 19), ("2gb", 2 * 10**9)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("option", ["--max-request-size", "--max-attributes"])
def test_bad_values_are_usage_errors(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        build_parser().parse_args(["serve", option, "lots"])
    assert raised.value.code == 2
    assert "lots" in capsys.readouterr().err
