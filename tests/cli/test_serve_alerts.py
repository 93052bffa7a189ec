"""``otelite serve --alert-webhook`` and ``--alert-external-url`` → ``Config``."""

from __future__ import annotations

from pathlib import Path

import pytest

from otelite._cli._serve import config_from_args
from otelite.cli import build_parser
from otelite.config import Config, Webhook


def config(*options: str) -> Config:
    return config_from_args(build_parser().parse_args(["serve", *options]), environ={})


def test_no_webhooks_by_default() -> None:
    assert config().alert_webhooks == ()
    assert config().alert_external_url is None


def test_webhooks_with_their_options(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\nignored\n")
    parsed = config(
        "--alert-webhook",
        "https://hooks.example:8443/alerts?team=sre",
        "--alert-webhook",
        f"http://127.0.0.1:9000/x name=pager token-file={token} header=X-Team:sre",
        "--alert-external-url",
        "https://otelite.example",
    )
    assert parsed.alert_webhooks == (
        Webhook("https://hooks.example:8443/alerts?team=sre", "hooks.example:8443/alerts"),
        Webhook("http://127.0.0.1:9000/x", "pager", (("X-Team", "sre"),), "s3cret"),
    )
    assert parsed.alert_external_url == "https://otelite.example"
    assert "s3cret" not in repr(parsed)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://example/x", "http"),
        ("http://example/x colour=red", "'colour'"),
        ("http://example/x token-file=/no/such/file", "token-file"),
        ("http://example/x header=nocolon", "'header'"),
    ],
)
def test_bad_webhooks_are_refused_naming_the_option(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        config("--alert-webhook", value)
    assert "--alert-webhook" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        config("--alert-webhook", value)
    assert message in capsys.readouterr().err


def test_two_receivers_need_two_names() -> None:
    with pytest.raises(ValueError, match="same name"):
        config("--alert-webhook", "http://a/x", "--alert-webhook", "http://a/x")
    assert (
        len(
            config(
                "--alert-webhook", "http://a/x", "--alert-webhook", "http://a/x name=b"
            ).alert_webhooks
        )
        == 2
    )
