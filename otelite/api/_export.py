"""``GET /api/export``: stored data of one signal as OTLP/JSON lines (NDJSON)."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from otelite.api._params import Params
from otelite.api._storage import storage_of
from otelite.errors import InvalidRequest
from otelite.otlp import encode_request_json
from otelite.types import Signal

__all__ = ["export"]


async def export(request: Request) -> Response:
    """One ``Export*ServiceRequest`` per line, oldest first; ``start``/``end`` optional.

    Streams from storage in a worker thread, so memory holds about one request at a time.
    """
    params = Params(request.query_params)
    value = params.text("signal")
    try:
        signal = Signal(value or "")
    except ValueError:
        raise InvalidRequest(
            f"signal: expected traces, metrics or logs, got {value!r:.40}"
        ) from None
    time = params.time_range(default_window=False)
    storage = storage_of(request)

    def lines() -> Iterator[bytes]:
        for exported in storage.export(signal, start=time.start, end=time.end):
            yield encode_request_json(exported) + b"\n"

    # A plain iterator: Starlette runs each step of it in a worker thread.
    return StreamingResponse(lines(), media_type="application/x-ndjson")
