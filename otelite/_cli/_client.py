"""A small HTTP client for a running otelite's query API, with errors a person can act on."""

from __future__ import annotations

import argparse
import os
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from otelite._cli import _args

__all__ = [
    "DEFAULT_URL",
    "ApiClient",
    "CliError",
    "Params",
    "add_access_arguments",
    "answer_items",
    "client_options",
    "connect_error",
    "http_client",
    "path_segment",
    "unauthorized_hint",
    "url_default",
]

DEFAULT_URL = "http://127.0.0.1:3200"
Params = Mapping[str, str | int | Sequence[str] | None]


class CliError(Exception):
    """A failure the command line reports as one line on stderr, exiting with status 1."""


def url_default() -> str:
    """The query API address: ``$OTELITE_URL`` when set, else the local default."""
    return os.environ.get("OTELITE_URL") or DEFAULT_URL


def add_access_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--token``, ``--ca-cert`` and ``--tenant``.

    Their defaults are ``$OTELITE_TOKEN``, ``$OTELITE_CA_CERT`` and ``$OTELITE_TENANT``.
    """
    parser.add_argument(
        "--token",
        default=os.environ.get("OTELITE_TOKEN") or None,
        metavar="TOKEN",
        help="bearer token to send (default: $OTELITE_TOKEN, which other users cannot see "
        "the way they can see arguments)",
    )
    parser.add_argument(
        "--ca-cert",
        type=Path,
        default=os.environ.get("OTELITE_CA_CERT") or None,
        metavar="FILE",
        help="PEM certificate or CA to trust for https URLs, e.g. the server's self-signed "
        "one (default: $OTELITE_CA_CERT, else the system's trusted CAs)",
    )
    parser.add_argument(
        "--tenant",
        type=_args.tenant_id,
        # A string default goes through ``type`` too, so a bad variable is reported the same.
        default=os.environ.get("OTELITE_TENANT") or None,
        metavar="TENANT",
        help="the tenant to send as X-Scope-OrgID, for a multi-tenant server "
        "(default: $OTELITE_TENANT, else none)",
    )


def http_client(
    *,
    timeout: float,
    token: str | None = None,
    ca_cert: Path | None = None,
    base_url: str = "",
    tenant: str | None = None,
) -> httpx.Client:
    """An HTTP client that sends ``token`` as a bearer token and ``tenant`` as
    ``X-Scope-OrgID``, and trusts ``ca_cert``."""
    headers, verify = client_options(token=token, ca_cert=ca_cert, tenant=tenant)
    return httpx.Client(base_url=base_url, timeout=timeout, headers=headers, verify=verify)


def client_options(
    *, token: str | None, ca_cert: Path | None, tenant: str | None
) -> tuple[dict[str, str], ssl.SSLContext | bool]:
    """The headers (the bearer ``token``, ``tenant`` as ``X-Scope-OrgID``) and the TLS
    trust (``ca_cert``, else the system's) of a client of the query API."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    if tenant is not None:
        headers["X-Scope-OrgID"] = tenant
    verify: ssl.SSLContext | bool = True
    if ca_cert is not None:
        try:
            verify = ssl.create_default_context(cafile=ca_cert)
        except (OSError, ssl.SSLError) as error:
            reason = error.strerror if error.strerror else str(error)
            raise CliError(f"cannot use --ca-cert {ca_cert}: {reason}") from None
    return headers, verify


def connect_error(url: str, error: httpx.ConnectError, what: str = "otelite") -> CliError:
    """Say why a connection to ``what`` at ``url`` failed: TLS trust, or nobody listening."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return CliError(
            f"the TLS certificate of {url} is not trusted ({cause.verify_message}): "
            "pass the server's certificate or CA with --ca-cert or $OTELITE_CA_CERT"
        )
    if cause is not None:
        return CliError(f"TLS with {url} failed: {cause.reason or cause}")
    return CliError(f"cannot reach {what} at {url}: is `otelite serve` running?")


def unauthorized_hint(response: httpx.Response) -> str:
    """A hint to add to an error message for 401 answers; empty for others."""
    if response.status_code != 401:
        return ""
    if "authorization" in response.request.headers:
        return "; check the token given with --token or $OTELITE_TOKEN"
    return "; give a token with --token or $OTELITE_TOKEN"


def path_segment(value: str) -> str:
    """Quote a value for use as one URL path segment (service names may contain ``/``)."""
    return quote(value, safe="")


class ApiClient:
    """Blocking calls to the query API of the otelite at ``url``."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        token: str | None = None,
        ca_cert: Path | None = None,
        tenant: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._http = http_client(
            timeout=timeout, token=token, ca_cert=ca_cert, base_url=self.url, tenant=tenant
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ApiClient:
        """A client for the ``--url``, ``--timeout``, ``--token``, ``--ca-cert`` and
        ``--tenant`` given."""
        return cls(
            args.url,
            timeout=args.timeout,
            token=args.token,
            ca_cert=args.ca_cert,
            tenant=args.tenant,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def get_bytes(
        self,
        path: str,
        params: Params | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """The body of a successful GET, as received (``headers``: more to send)."""
        with self._errors():
            response = self._http.get(path, params=_query(params), headers=headers)
            _raise_for_status(response)
            return response.content

    def send_bytes(
        self,
        method: str,
        path: str,
        content: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """The body of a successful request that changes something (PUT, POST, DELETE)."""
        with self._errors():
            response = self._http.request(method, path, content=content, headers=headers)
            _raise_for_status(response)
            return response.content

    @contextmanager
    def stream_lines(self, path: str, params: Params | None = None) -> Iterator[Iterator[bytes]]:
        """Stream the non-empty lines of a successful GET, each without its line ending."""
        with self._errors(), self._http.stream("GET", path, params=_query(params)) as response:
            if response.is_error:
                response.read()
                _raise_for_status(response)
            yield (line for line in _lines(response.iter_bytes()) if line.strip())

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.ConnectError as error:
            raise connect_error(self.url, error) from None
        except httpx.TimeoutException:
            raise CliError(f"otelite at {self.url} did not answer in time") from None
        except httpx.TransportError as error:
            raise CliError(f"connection to otelite at {self.url} failed: {error}") from None


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # httpx's iter_lines decodes to text; export lines are passed on as bytes untouched.
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.removesuffix(b"\r")
    if pending:
        yield pending


def _query(params: Params | None) -> httpx.QueryParams:
    """Drop unset parameters; repeat a parameter for each value of a sequence."""
    # Typed as httpx's parameter list is; list is invariant.
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, str | int):
            pairs.append((key, str(value)))
        else:
            pairs.extend((key, item) for item in value)
    return httpx.QueryParams(pairs)


def _raise_for_status(response: httpx.Response) -> None:
    if not response.is_error:
        return
    message = _error_message(response) + unauthorized_hint(response)
    raise CliError(f"{message} (HTTP {response.status_code} from {response.request.url})")


def _error_message(response: httpx.Response) -> str:
    """The ``{"error": ...}`` text the API sends, else a short form of the body."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        text = response.content.decode("utf-8", "replace").strip()
        return text[:200] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return response.reason_phrase


def answer_items(body: bytes, key: str) -> list[Mapping[str, Any]]:
    """The objects of the list under ``key`` in a JSON answer; ``CliError`` for another."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CliError("the server did not answer with JSON") from None
    items = document.get(key) if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise CliError(f"unexpected answer from the server: no {key!r} list")
    return [item for item in items if isinstance(item, Mapping)]
