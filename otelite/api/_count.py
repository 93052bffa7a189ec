"""``GET /api/count``: how many items of one signal are stored in a time range."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from otelite.api._json import JSONResponse
from otelite.api._params import Params
from otelite.api._storage import rows
from otelite.errors import InvalidRequest
from otelite.query import count_plan
from otelite.types import Signal

__all__ = ["count"]

_SIGNALS = "|".join(signal.value for signal in Signal)


async def count(request: Request) -> Response:
    """Stored spans, log records or metric data points in ``[start, end)``.

    ``signal`` is required; ``start``/``end`` default to the last hour. The answer echoes
    the range it counted in Unix ns, as strings (as OTLP/JSON writes 64-bit times).
    """
    params = Params(request.query_params)
    signal = params.choice("signal", Signal)
    if signal is None:
        raise InvalidRequest(f"signal: required, one of {_SIGNALS}")
    time = params.time_range()
    assert time.start is not None and time.end is not None  # the default window bounds both
    [row] = await rows(request, count_plan(signal, time))
    return JSONResponse(
        {
            "signal": signal.value,
            "count": row["count"],
            "startUnixNano": str(time.start),
            "endUnixNano": str(time.end),
        }
    )
