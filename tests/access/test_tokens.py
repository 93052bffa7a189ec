"""Tokens: parsing the header, checking, reading from env and files, never showing them."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from otelite.access import (
    Denied,
    Grant,
    Guard,
    Right,
    TokenEntry,
    Tokens,
    bearer_token,
    read_tokens,
)
from otelite.access._tokens import digest
from otelite.config import Access, Config, Tenancy

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


def entries(*tokens: str) -> tuple[TokenEntry, ...]:
    return read_tokens(",".join(tokens))


def test_tokens_accept_exactly_the_configured_ones() -> None:
    tokens = Tokens(entries(SECRET, "second"))
    assert tokens.grant_of(SECRET) is not None
    assert tokens.grant_of("second") is not None
    for wrong in (None, "", SECRET[:-1], SECRET + "x", SECRET.upper(), "secon", " second"):
        assert tokens.grant_of(wrong) is None, wrong
    assert len(tokens) == 2


def test_tokens_never_show_in_repr_or_errors() -> None:
    assert SECRET not in repr(Tokens(entries(SECRET)))
    assert repr(Tokens(entries(SECRET))) == "Tokens(<1 hidden>)"
    config = Config(access=Access(tokens=entries(SECRET)))
    for shown in (repr(config), str(config), repr(config.access.tokens)):
        assert SECRET not in shown
        assert digest(SECRET).hex() not in shown
    with pytest.raises(ValueError) as error:
        read_tokens("good,bad-token-with-a-!")
    assert "token 2 from the environment: not a valid bearer token" in str(error.value)
    assert "bad-token" not in str(error.value)
    with pytest.raises(ValueError, match="no tokens"):
        Tokens([])


def test_read_tokens_from_the_environment_and_files(tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.write_text("# tokens for the collectors\nalpha\n\n  beta  \n# gamma\n")
    second = tmp_path / "second"
    second.write_text("delta,alpha\n")
    found = read_tokens(" one, two ,,three ", [first, second])
    tokens = Tokens(found)
    assert len(found) == 7 and len(tokens) == 6  # alpha twice is one token
    for token in ("one", "two", "three", "alpha", "beta", "delta"):
        grant = tokens.grant_of(token)
        assert grant is not None and dict(grant.scopes) == dict.fromkeys(Right)
    assert [entry.grant.name for entry in found[3:]] == [
        f"line 2 of {first}",
        f"line 4 of {first}",
        f"line 1 of {second}",
        f"line 1 of {second}",
    ]
    assert read_tokens(None) == ()
    assert read_tokens("") == ()


def test_token_lines_bind_tenants_and_rights(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(
        "collector-a tenant=a,b rights=ingest\n"
        f"sha256:{hashlib.sha256(b'reader-a').hexdigest().upper()}  tenant=a\n"
        "ops rights=operator\n"
        "everything\n"
        "star tenant=*\n"
        # The same token twice: it holds both lines' rights, each for its own tenants.
        "collector-a tenant=c rights=query\n"
    )
    tokens = Tokens(read_tokens(None, [path]))
    ab, a = frozenset({"a", "b"}), frozenset({"a"})
    expected = {
        "collector-a": {Right.INGEST: ab, Right.QUERY: frozenset({"c"})},
        "reader-a": {Right.INGEST: a, Right.QUERY: a},  # no operator: it names tenants
        "ops": {Right.OPERATOR: None},
        "everything": dict.fromkeys(Right),
        "star": dict.fromkeys(Right),
    }
    for token, scopes in expected.items():
        grant = tokens.grant_of(token)
        assert grant is not None and dict(grant.scopes) == scopes, token
    assert tokens.grant_of(f"sha256:{hashlib.sha256(b'reader-a').hexdigest()}") is None
    collector = tokens.grant_of("collector-a")
    assert collector is not None and collector.name == f"line 1 of {path}"
    assert collector.bound and not collector.holds(Right.OPERATOR)
    assert collector.tenants(Right.OPERATOR) == frozenset()


def test_a_file_limits_the_rights_its_tokens_may_have(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("plain\nbound tenant=a\n")
    found = read_tokens(None, [path], rights=[Right.QUERY, Right.OPERATOR])
    assert [dict(entry.grant.scopes) for entry in found] == [
        {Right.QUERY: None, Right.OPERATOR: None},
        {Right.QUERY: frozenset({"a"})},
    ]
    path.write_text("collector rights=ingest,query\n")
    with pytest.raises(ValueError) as error:
        read_tokens(None, [path], rights=[Right.INGEST])
    assert (
        str(error.value) == f"line 1 of {path}: this file's tokens may only have the rights ingest"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("# only a comment\n", "{path} holds no tokens"),
        ("fine\nnot:allowed\n", "line 2 of {path}: not a valid bearer token"),
        ("pässwort\n", "line 1 of {path}: not a valid bearer token"),
        ("fine\nsecret-a,secret-b tenant=a\n", "line 2 of {path}: a line with options holds"),
        ("secret-a secret-b rights=query\n", "line 1 of {path}: a line with options holds"),
        ("tenant=a rights=query\n", "line 1 of {path}: a line with options holds exactly one"),
        ("secret-a tenants=a\n", "line 1 of {path}: unknown option 'tenants'; a token takes"),
        ("secret-a rights=\n", "line 1 of {path}: rights= lists nothing"),
        ("secret-a tenant=a tenant=b\n", "line 1 of {path}: tenant= given twice"),
        ("secret-a rights=read\n", "line 1 of {path}: unknown right 'read'; the rights are"),
        ("secret-a tenant=a/b\n", "line 1 of {path}: tenant 'a/b' contains '/'"),
        ("secret-a tenant=*,a\n", "line 1 of {path}: tenant=* already means any tenant"),
        (
            "secret-a tenant=a rights=query,operator\n",
            "line 1 of {path}: the operator right reads /metrics, which count every tenant",
        ),
        ("sha256:abc tenant=a\n", "line 1 of {path}: not a valid bearer token"),
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
    for secret in ("allowed", "pässwort", "fine", "secret-a", "secret-b", "abc"):
        assert secret not in str(error.value)


def test_missing_token_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot read tokens from .*: No such file"):
        read_tokens(None, [tmp_path / "absent"])


def test_invalid_environment_token_is_not_echoed() -> None:
    with pytest.raises(ValueError) as error:
        read_tokens("good,bad;token", env_name="$OTELITE_TOKENS")
    assert str(error.value).startswith("token 2 from $OTELITE_TOKENS: not a valid bearer")
    assert "bad;token" not in str(error.value)


def test_tenant_bound_tokens_need_multi_tenancy() -> None:
    bound = TokenEntry.of("reader", Grant.of([Right.QUERY], frozenset({"a"}), "line 4 of f"))
    with pytest.raises(ValueError, match=r"^line 4 of f: tenant= needs multi-tenancy"):
        Config(access=Access(tokens=(bound,)))
    assert Config(access=Access(tokens=(bound,)), tenancy=Tenancy(enabled=True))


def test_guard_says_why_and_logs_refusals_throttled(caplog: pytest.LogCaptureFixture) -> None:
    reader = TokenEntry.of("reader", Grant.of([Right.QUERY], None, "line 2 of f"))
    guard = Guard(Tokens((*entries(SECRET), reader)), server="test server", log_interval=3600)
    caplog.set_level(logging.DEBUG)
    assert isinstance(guard.check(f"Bearer {SECRET}", "/x", Right.INGEST), Grant)
    missing = guard.check(None, "/x from 10.0.0.1", Right.QUERY)
    wrong = guard.check("Bearer wrong-guess", "/y", Right.QUERY)
    lacking = guard.check("Bearer reader", "/z", Right.INGEST)
    assert isinstance(missing, Denied) and not missing.invalid_token and not missing.forbidden
    assert "Authorization: Bearer <token>" in missing.message
    assert isinstance(wrong, Denied) and wrong.invalid_token and not wrong.forbidden
    assert wrong.message == "the bearer token is not valid"
    assert lacking == Denied(
        "this bearer token does not have the right 'ingest'", invalid_token=False, forbidden=True
    )
    # The first refusal is logged, the others fall in the same interval.
    refusals = [r.getMessage() for r in caplog.records if r.name == "otelite.access"]
    assert refusals == [
        "test server: refused 1 request(s) at the door; the latest had no token (/x from 10.0.0.1)"
    ]
    assert "wrong-guess" not in caplog.text and SECRET not in caplog.text


def test_tls_needs_both_files() -> None:
    with pytest.raises(ValueError, match="both a certificate and its key"):
        Access(tls_cert=Path("cert.pem"))


def test_public_names_exist() -> None:
    import otelite.access

    assert [name for name in otelite.access.__all__ if not hasattr(otelite.access, name)] == []
