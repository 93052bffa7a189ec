"""Loki's live tail: ``GET /loki/api/v1/tail`` as a WebSocket (``logcli --tail``,
Grafana's live view), over a :class:`~otelite.query.logql.Tail`.

Parameters are Loki's: ``query`` (a log query: its whole pipeline runs), ``limit`` (the
history's lines and each read's, default 100), ``start`` (default an hour ago) and
``delay_for`` (seconds to hold lines back for slow senders, at most 5). Once connected,
the client gets the history, then every second what was stored since, as text frames
``{"streams": [{"stream": {labels}, "values": [["<ns>", "line"], ...]}, ...],
"dropped_entries": [{"timestamp": "<ns>", "labels": {...}}]}`` of at most 100 lines each
(``dropped_entries`` only when some were dropped; with the ``categorize-labels`` encoding
flag, the entries and ``encodingFlags`` as ``query_range`` writes them). The tail ends
when the client closes; a query that fails or runs past the query timeout closes it with
1011 and Loki's message.

Bad parameters are refused before the upgrade, in plain text with Loki's status (400),
as are tails past ``MAX_TAILS`` at once on one server (Loki's default
``max_concurrent_tail_requests``); a plain GET gets 400 too, as from Loki.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from otelite.api._loki import (
    CATEGORIZE_LABELS,
    DEADLINE_EXCEEDED,
    MAX_ENTRIES,
    PREFIX,
    answering,
    check_length,
    stream_list,
    wants_categories,
)
from otelite.api._loki_params import Params
from otelite.api._storage import storage_of
from otelite.errors import Forbidden, InvalidRequest, OteliteError
from otelite.query.logql import Entries, LogQuery, Tail, TailBatch, parse, split_query
from otelite.query.promql import QueryTimeout
from otelite.storage import Storage

__all__ = ["MAX_TAILS", "loki_tail_routes"]

MAX_TAILS = 10
"""Tails one server follows at once: Loki's default ``max_concurrent_tail_requests``."""
MAX_DELAY_S = 5
FRAME_ENTRIES = 100
"""Lines in one frame: Loki's ``maxEntriesPerTailResponse``."""
MAX_DROPPED = 1000
POLL_SECONDS = 1.0
_INTERNAL_ERROR = 1011
NOT_WEBSOCKET = (
    "websocket: the client is not using the websocket protocol: 'upgrade' token not found in"
    " 'Connection' header"
)
_MAX_REASON_BYTES = 123


@dataclass(slots=True)
class _Tails:
    """The tails running on one app."""

    running: int = 0


def _tail_of(params: Params, timeout_s: float | None) -> Tail:
    """The tail ``params`` ask for; ``InvalidRequest`` for a bad one."""
    expr = parse(params.get("query") or "")
    if not isinstance(expr, LogQuery):
        raise InvalidRequest("only log queries can be tailed, not metric queries")
    split_query(expr)  # a pipeline that cannot run is refused now, not after the upgrade
    limit = params.limit()
    if limit > MAX_ENTRIES:
        raise InvalidRequest(
            "max entries limit per query exceeded, limit > max_entries_limit_per_query"
            f" ({limit} > {MAX_ENTRIES})"
        )
    now = time.time_ns()
    start, _ = params.bounds(now)
    check_length(start, now)
    return Tail(
        expr, start_ns=start, limit=limit, delay_ns=_delay(params) * 10**9, timeout_s=timeout_s
    )


def _delay(params: Params) -> int:
    text = params.get("delay_for")
    if text is None:
        return 0
    try:
        delay = int(text)
    except ValueError:
        raise InvalidRequest(f'strconv.Atoi: parsing "{text}": invalid syntax') from None
    if delay > MAX_DELAY_S:
        raise InvalidRequest(f"delay_for can't be greater than {MAX_DELAY_S}")
    return max(delay, 0)


def _frames(batch: TailBatch, categorize: bool) -> list[bytes]:
    """A read's entries as frames of at most ``FRAME_ENTRIES``; the last one tells what
    was dropped."""
    entries = batch.entries
    frames: list[dict[str, Any]] = []
    for at in range(0, len(entries), FRAME_ENTRIES):
        window = slice(at, at + FRAME_ENTRIES)
        part = Entries(entries.times[window], entries.lines[window], entries.labels[window])
        frames.append({"streams": stream_list(part, categorize)})
    if batch.dropped:
        if not frames:
            frames.append({"streams": []})
        frames[-1]["dropped_entries"] = [
            {"timestamp": str(at), "labels": dict(labels)}
            for at, labels in batch.dropped[:MAX_DROPPED]
        ]
    if categorize:
        for frame in frames:
            frame["encodingFlags"] = [CATEGORIZE_LABELS]
    return [orjson.dumps(frame) for frame in frames]


async def _serve(websocket: WebSocket, tails: _Tails) -> None:
    """One tail, from the upgrade to the client's leaving."""
    params = Params(websocket.query_params, [])
    try:
        storage = storage_of(websocket)
        tail = _tail_of(params, websocket.app.state.query_timeout_seconds)
        if tails.running >= MAX_TAILS:
            raise InvalidRequest(
                "max concurrent tail requests limit exceeded, count > limit"
                f" ({tails.running + 1} > {MAX_TAILS})"
            )
    except OteliteError as problem:
        await _refuse(websocket, 403 if isinstance(problem, Forbidden) else 400, str(problem))
        return
    tails.running += 1
    try:
        await websocket.accept()
        await _follow(websocket, storage, tail, wants_categories(websocket))
    finally:
        tails.running -= 1


async def _not_upgraded(request: Request) -> Response:
    """``tail`` without a WebSocket upgrade: its parameters checked, then refused."""
    _tail_of(await Params.of(request), None)
    return PlainTextResponse(NOT_WEBSOCKET, status_code=400)


async def _refuse(websocket: WebSocket, status: int, message: str) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(PlainTextResponse(message, status_code=status))
    else:
        await websocket.close(1008, _reason(message))


async def _follow(websocket: WebSocket, storage: Storage, tail: Tail, categorize: bool) -> None:
    """Send what ``tail`` reads, every ``POLL_SECONDS``, until the client goes."""
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_until_closed, websocket, tasks.cancel_scope)
        try:
            while True:
                batch = await run_in_threadpool(tail.read, storage, time.time_ns())
                for frame in _frames(batch, categorize):
                    await websocket.send_text(frame.decode())
                await anyio.sleep(POLL_SECONDS)
        except WebSocketDisconnect:
            pass
        except QueryTimeout:
            await websocket.close(_INTERNAL_ERROR, _reason(DEADLINE_EXCEEDED))
        except InvalidRequest as problem:
            await websocket.close(_INTERNAL_ERROR, _reason(str(problem)))
        tasks.cancel_scope.cancel()


async def _until_closed(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """Wait for the client to close (what it sends is ignored), then stop the tail."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
    scope.cancel()


def _reason(message: str) -> str:
    """A close reason: at most 123 bytes of UTF-8."""
    return message.encode()[:_MAX_REASON_BYTES].decode(errors="ignore")


def loki_tail_routes() -> list[BaseRoute]:
    """The routes of this module, for ``loki_routes``: each app counts its own tails."""
    tails = _Tails()

    async def tail(websocket: WebSocket) -> None:
        await _serve(websocket, tails)

    return [
        WebSocketRoute(f"{PREFIX}/tail", tail),
        Route(f"{PREFIX}/tail", answering(_not_upgraded), methods=["GET", "POST"]),
    ]
