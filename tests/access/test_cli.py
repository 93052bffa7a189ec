"""The command line with access control: serve options, and clients with tokens over https."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from otelite._cli._serve import config_from_args
from otelite.access import Right, Tokens
from otelite.cli import build_parser, main
from otelite.config import Access
from otelite.otlp import encode_request_json
from tests.receivers.support import span, traces

from .support import INGEST_TOKEN, QUERY_TOKEN, CertificateFiles, Running


def serve_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def test_serve_reads_tokens_from_files_and_the_environment(
    tmp_path: Path, certificate: CertificateFiles
) -> None:
    ingest = tmp_path / "ingest"
    ingest.write_text(f"# collectors\n{INGEST_TOKEN}\n")
    query = tmp_path / "query"
    query.write_text(QUERY_TOKEN)
    args = serve_args(
        "--ingest-token-file",
        str(ingest),
        "--query-token-file",
        str(query),
        "--tls-cert",
        str(certificate.cert),
        "--tls-key",
        str(certificate.key),
    )
    environ = {"OTELITE_INGEST_TOKENS": "from-env-1,from-env-2", "OTELITE_QUERY_TOKENS": ""}
    access = config_from_args(args, environ).access
    assert (access.tls_cert, access.tls_key) == (certificate.cert, certificate.key)
    tokens = Tokens(access.tokens)
    assert len(tokens) == 4
    for token in ("from-env-1", "from-env-2", INGEST_TOKEN):
        assert rights_of(tokens, token) == {Right.INGEST: None}
    assert rights_of(tokens, QUERY_TOKEN) == {Right.QUERY: None, Right.OPERATOR: None}
    assert config_from_args(serve_args(), {}).access == Access()


def rights_of(tokens: Tokens, token: str) -> dict[Right, frozenset[str] | None]:
    grant = tokens.grant_of(token)
    assert grant is not None, "the token is not accepted"
    return dict(grant.scopes)


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--tls-cert", "cert.pem"], {}, "TLS needs both a certificate and its key"),
        (["--tls-key", "key.pem"], {}, "TLS needs both a certificate and its key"),
        (
            [],
            {"OTELITE_QUERY_TOKENS": "ok,not ok!"},
            "token 3 from $OTELITE_QUERY_TOKENS: not a valid bearer token",
        ),
        (["--ingest-token-file", "/nonexistent/tokens"], {}, "cannot read tokens from"),
    ],
)
def test_serve_refuses_unusable_access_options(
    argv: list[str],
    environ: dict[str, str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--memory", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "not ok!" not in err


def test_client_commands_send_the_token_and_trust_the_ca_cert(
    secured: Running, certificate: CertificateFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--url", secured.api, "--ca-cert", str(certificate.cert)]
    assert main(["services", *url, "--token", QUERY_TOKEN, "--json"]) == 0
    assert capsys.readouterr().out.startswith('{"services":')

    assert main(["services", *url]) == 1
    assert capsys.readouterr().err == (
        "otelite: error: authentication required: send the header 'Authorization: Bearer "
        "<token>'; give a token with --token or $OTELITE_TOKEN "
        f"(HTTP 401 from {secured.api}/api/services)\n"
    )
    assert main(["services", *url, "--token", "no-such-token"]) == 1
    err = capsys.readouterr().err
    assert "the bearer token is not valid; check the token given with --token" in err
    assert "no-such-token" not in err
    assert main(["services", *url, "--token", INGEST_TOKEN]) == 1
    assert capsys.readouterr().err == (
        "otelite: error: this bearer token does not have the right 'query' "
        f"(HTTP 403 from {secured.api}/api/services)\n"
    )


def test_client_commands_read_token_and_ca_cert_from_the_environment(
    secured: Running,
    certificate: CertificateFiles,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTELITE_TOKEN", QUERY_TOKEN)
    monkeypatch.setenv("OTELITE_CA_CERT", str(certificate.cert))
    assert main(["metrics", "--url", secured.api, "--json"]) == 0
    assert capsys.readouterr().out.startswith('{"metrics":')


def test_untrusted_certificate_is_explained(
    secured: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["services", "--url", secured.api, "--token", QUERY_TOKEN]) == 1
    assert capsys.readouterr().err == (
        f"otelite: error: the TLS certificate of {secured.api} is not trusted "
        "(self-signed certificate): pass the server's certificate or CA with --ca-cert or "
        "$OTELITE_CA_CERT\n"
    )


def test_unusable_ca_cert_is_named(
    secured: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = tmp_path / "absent.pem"
    assert main(["services", "--url", secured.api, "--ca-cert", str(absent)]) == 1
    assert capsys.readouterr().err.startswith(f"otelite: error: cannot use --ca-cert {absent}: ")


def test_import_sends_the_ingest_token_over_https(
    secured: Running,
    certificate: CertificateFiles,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = tmp_path / "spans.jsonl"
    lines.write_bytes(encode_request_json(traces(span("imported"))) + b"\n")
    common = ["import", str(lines), "--otlp-url", secured.otlp_http]
    common += ["--ca-cert", str(certificate.cert)]
    assert main([*common, "--token", INGEST_TOKEN]) == 0
    assert "imported 1 requests (1 traces)" in capsys.readouterr().err
    assert main([*common, "--token", "no-such-token"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 401: the bearer token is not valid; check the token given with --token" in err
    assert main([*common, "--token", QUERY_TOKEN]) == 1
    err = capsys.readouterr().err
    assert "HTTP 403: this bearer token does not have the right 'ingest'" in err
    assert QUERY_TOKEN not in err
