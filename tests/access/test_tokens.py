"""Tokens: parsing the header, checking, reading from env and files, never showing them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from otelite.access import Guard, Tokens, bearer_token, read_tokens
from otelite.config import Access, Config

SECRET = "s3cret-Token_value.~+/=="


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Bearer {SECRET}", SECRET),
        (f"bearer {SECRET}", SECRET),
        (f"  BEARER   {SECRET}  ", SECRET),
        ("Bearer", None),
        ("Bearer ", None),
        (f"Basic {SECRET}", None),
        (SECRET, None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token_reads_only_the_bearer_scheme(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_tokens_accept_exactly_the_configured_ones() -> None:
    tokens = Tokens([SECRET, "second"])
    assert tokens.accepts(SECRET)
    assert tokens.accepts("second")
    for wrong in (None, "", SECRET[:-1], SECRET + "x", SECRET.upper(), "secon", " second"):
        assert not tokens.accepts(wrong), wrong
    assert len(tokens) == 2


def test_tokens_never_show_in_repr_or_errors() -> None:
    assert SECRET not in repr(Tokens([SECRET]))
    assert repr(Tokens([SECRET])) == "Tokens(<1 hidden>)"
    config = Config(access=Access(ingest_tokens=(SECRET,), query_tokens=(SECRET,)))
    assert SECRET not in repr(config)
    assert SECRET not in str(config)
    with pytest.raises(ValueError) as error:
        Tokens(["good", "bad token with spaces"])
    assert "token 2 is not a valid bearer token" in str(error.value)
    assert "spaces" not in str(error.value)
    with pytest.raises(ValueError, match="no tokens"):
        Tokens([])


def test_read_tokens_from_the_environment_and_files(tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.write_text("# tokens for the collectors\nalpha\n\n  beta  \n# gamma\n")
    second = tmp_path / "second"
    second.write_text("delta,alpha\n")
    assert read_tokens(" one, two ,,three ", [first, second]) == (
        "one",
        "two",
        "three",
        "alpha",
        "beta",
        "delta",
    )
    assert read_tokens(None) == ()
    assert read_tokens("") == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("# only a comment\n", "holds no tokens"),
        ("fine\nnot:allowed\n", "token 2 from {path} is not a valid bearer token"),
        ("pässwort\n", "token 1 from {path} is not a valid bearer token"),
    ],
)
def test_unusable_token_files_are_named_without_their_content(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "tokens"
    path.write_text(content)
    with pytest.raises(ValueError) as error:
        read_tokens(None, [path])
    assert message.format(path=path) in str(error.value)
    for secret in ("allowed", "pässwort", "fine"):
        assert secret not in str(error.value)


def test_missing_token_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot read tokens from .*: No such file"):
        read_tokens(None, [tmp_path / "absent"])


def test_invalid_environment_token_is_not_echoed() -> None:
    with pytest.raises(ValueError) as error:
        read_tokens("good,bad;token")
    assert str(error.value).startswith("token 2 from the environment is not a valid bearer")
    assert "bad;token" not in str(error.value)


def test_guard_says_why_and_logs_refusals_throttled(caplog: pytest.LogCaptureFixture) -> None:
    guard = Guard(Tokens([SECRET]), server="test server", log_interval=3600)
    caplog.set_level(logging.DEBUG)
    assert guard.check(f"Bearer {SECRET}", "/x") is None
    missing = guard.check(None, "/x from 10.0.0.1")
    wrong = guard.check("Bearer wrong-guess", "/y")
    assert missing is not None and not missing.invalid_token
    assert "Authorization: Bearer <token>" in missing.message
    assert wrong is not None and wrong.invalid_token
    assert wrong.message == "the bearer token is not valid"
    # The first refusal is logged, the second falls in the same interval.
    refusals = [r.getMessage() for r in caplog.records if r.name == "otelite.access"]
    assert refusals == [
        "test server: refused 1 unauthenticated request(s); the latest had no token "
        "(/x from 10.0.0.1)"
    ]
    assert "wrong-guess" not in caplog.text and SECRET not in caplog.text


def test_tls_needs_both_files() -> None:
    with pytest.raises(ValueError, match="both a certificate and its key"):
        Access(tls_cert=Path("cert.pem"))


def test_public_names_exist() -> None:
    import otelite.access

    assert [name for name in otelite.access.__all__ if not hasattr(otelite.access, name)] == []
