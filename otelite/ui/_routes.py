"""Routes that serve the single page and its static files."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "is_ui_request", "ui_routes"]

STATIC_DIR = Path(__file__).parent / "static"
"""The page, its modules (``js/``), styles and vendored libraries (``vendor/``)."""

PAGES = ("/", "/traces", "/trace/{traceId}", "/logs", "/services", "/metrics")
"""Paths the page handles itself (history routing); each answers ``index.html``."""

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
    return scope["type"] == "http" and any(
        route.matches(scope)[0] is not Match.NONE for route in _SHELL
    )
