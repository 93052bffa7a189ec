"""Loki's push API with bearer tokens: pushing needs the ingest right on whichever port
takes it, even where queries need no token at all."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest

from otelite.config import Access

from .support import INGEST_TOKEN, QUERY_TOKEN, Running, ingest_tokens

PUSH = "/loki/api/v1/push"
BODY = orjson.dumps(
    {"streams": [{"stream": {"job": "a"}, "values": [["1700000000000000000", "x"]]}]}
)


def push(url: str, token: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(url + PUSH, content=BODY, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("wrong-token-value", 401), (QUERY_TOKEN, 403), (INGEST_TOKEN, 204)],
)
@pytest.mark.parametrize("port", ["api", "otlp_http"])
def test_pushing_needs_the_ingest_right(
    guarded: Running, port: str, token: str | None, status: int
) -> None:
    response = push(getattr(guarded, port), token)
    assert response.status_code == status, response.text
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_query_port_answers_refusals_in_plain_text(guarded: Running) -> None:
    response = push(guarded.api, QUERY_TOKEN)
    assert response.headers["content-type"].startswith("text/plain")
    assert "ingest" in response.text


@pytest.fixture(scope="module")
def ingest_only() -> Iterator[Running]:
    """Tokens for ingest only: queries are open."""
    running = Running(Access(tokens=ingest_tokens(INGEST_TOKEN)))
    yield running
    running.close()


def test_an_open_query_port_still_guards_pushes(ingest_only: Running) -> None:
    with ingest_only.api_client(token=None) as api:
        assert api.get("/api/services").status_code == 200
    assert push(ingest_only.api, None).status_code == 401
    assert push(ingest_only.api, INGEST_TOKEN).status_code == 204


def test_otelite_serve_tells_where_to_push(guarded: Running) -> None:
    url = f"http://127.0.0.1:{guarded.endpoints.api_port}{PUSH}"
    assert f"  Loki push             {url}\n" in guarded.endpoints.describe()
