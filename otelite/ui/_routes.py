"""Routes that serve the single page and its static files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "Endpoint", "is_ui_request", "page_or", "ui_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]

STATIC_DIR = Path(__file__).parent / "static"
"""The page, its modules (``js/``), styles and vendored libraries (``vendor/``)."""

PAGES = (
    "/",
    "/traces",
    "/trace/{traceId}",
    "/logs",
    "/services",
    "/metrics",
    "/compare",
    "/critical-path",
    "/map",
    "/slos",
)
"""Paths the page handles itself (history routing); each answers ``index.html``."""

_SHARED = frozenset({"/metrics"})
"""Page paths the server also answers for programs (``/metrics``: otelite's own metrics,
where Prometheus looks for them); the page goes to browsers, which ask for HTML."""

# Defence in depth behind textContent: no inline or foreign script can run, even if some
# telemetry string did end up parsed as markup. Styles may be inline (the chart library
# sizes its canvases with style attributes).
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


async def _index(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", headers=_HEADERS)


def ui_routes() -> list[BaseRoute]:
    """The page at each of ``PAGES``, and the static files under ``/ui/``."""
    pages: list[BaseRoute] = [Route(path, _index) for path in PAGES]
    return [*pages, Mount("/ui", app=StaticFiles(directory=STATIC_DIR), name="ui")]


_SHELL = ui_routes()


def is_ui_request(scope: Scope) -> bool:
    """Whether an HTTP request is for the page or one of its static files.

    These carry no telemetry (the page reads it from ``/api/...``), so they may be served
    without a query token: the page itself asks for the token when the API wants one.
    """
    if scope["type"] != "http":
        return False
    if scope["path"] in _SHARED and not _accepts_html(scope):
        return False
    return any(route.matches(scope)[0] is not Match.NONE for route in _SHELL)


def page_or(endpoint: Endpoint) -> Endpoint:
    """An endpoint for a page path the server also answers for programs: the page to a
    browser (a request that accepts HTML), ``endpoint`` to anything else."""

    async def either(request: Request) -> Response:
        if _accepts_html(request.scope):
            return await _index(request)
        return await endpoint(request)

    return either


def _accepts_html(scope: Scope) -> bool:
    return any(
        name == b"accept" and b"text/html" in value.lower() for name, value in scope["headers"]
    )
