"""The web UI: no-build ES modules under ``static/``, served by the query API's app.

``/`` and the page paths (``/traces``, ``/trace/{id}``, ``/logs``, ``/services``,
``/metrics``, to browsers: programs get otelite's own metrics there) answer the single
page; its modules, styles and vendored libraries are under
``/ui/``. The page reads only the JSON query API, and builds every element from telemetry
with ``textContent``, so names and attributes show as text, never as markup. With query
tokens on, the page and its files stay open (``is_ui_request``) and the page asks for a
token when the API answers 401, keeping it in ``sessionStorage`` for the tab.
"""

from __future__ import annotations

from otelite.ui._routes import STATIC_DIR, is_ui_request, page_or, ui_routes

__all__ = ["STATIC_DIR", "is_ui_request", "page_or", "ui_routes"]
