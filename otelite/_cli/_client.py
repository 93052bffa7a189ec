"""A small HTTP client for a running otelite's query API, with errors a person can act on."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from urllib.parse import quote

import httpx
import orjson

__all__ = ["DEFAULT_URL", "ApiClient", "CliError", "Params", "path_segment", "url_default"]

DEFAULT_URL = "http://127.0.0.1:3200"
Params = Mapping[str, str | int | Sequence[str] | None]


class CliError(Exception):
    """A failure the command line reports as one line on stderr, exiting with status 1."""


def url_default() -> str:
    """The query API address: ``$OTELITE_URL`` when set, else the local default."""
    return os.environ.get("OTELITE_URL") or DEFAULT_URL


def path_segment(value: str) -> str:
    """Quote a value for use as one URL path segment (service names may contain ``/``)."""
    return quote(value, safe="")


class ApiClient:
    """Blocking calls to the query API of the otelite at ``url``."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def get_bytes(self, path: str, params: Params | None = None) -> bytes:
        """The body of a successful GET, as received."""
        with self._errors():
            response = self._http.get(path, params=_query(params))
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
        except httpx.ConnectError:
            raise CliError(
                f"cannot reach otelite at {self.url}: is `otelite serve` running?"
            ) from None
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
    message = _error_message(response)
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
