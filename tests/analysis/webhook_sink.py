"""A real webhook receiver for the notifier's tests: a Starlette app served by uvicorn
(``tests.api.served``) that records every post and answers as it is told."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.api.served import Served


@dataclass(frozen=True, slots=True)
class Post:
    body: dict[str, Any]
    headers: dict[str, str]
    status: int


@dataclass(slots=True)
class Sink:
    """Answers the next posts from ``script`` ("ok", "400", "500", "429:SECONDS", "stall"
    until ``release`` is set, "ok+kill" to answer 200 and then SIGKILL ``kill_pid``),
    then "ok"; records each post with the status it answered."""

    script: list[str] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    stalled: int = 0
    kill_pid: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: Request) -> Response:
        body = json.loads(await request.body())
        with self.lock:
            step = self.script.pop(0) if self.script else "ok"
        if step == "stall":
            self.stalled += 1
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            step = "ok"
        background = None
        if step == "ok+kill":
            pid = self.kill_pid
            assert pid is not None
            # After the 200 has gone out: the sender dies before or after its mark.
            background = BackgroundTask(os.kill, pid, signal.SIGKILL)
            step = "ok"
        status, _, wait = step.partition(":")
        code = 200 if status == "ok" else int(status)
        headers = {"Retry-After": wait} if wait else {}
        with self.lock:
            self.posts.append(Post(body, dict(request.headers), code))
        return Response(f"answer {code}", code, headers=headers, background=background)

    def delivered(self) -> list[Post]:
        """The posts answered 2xx."""
        with self.lock:
            return [p for p in self.posts if p.status == 200]

    def delivered_alerts(self) -> list[dict[str, Any]]:
        return [alert for post in self.delivered() for alert in post.body["alerts"]]


@contextmanager
def serve_sink(sink: Sink) -> Iterator[str]:
    """``sink`` served on a free port; its URL."""
    served = Served(Starlette(routes=[Route("/hook", sink.handle, methods=["POST"])]))
    try:
        yield f"{served.url}/hook"
    finally:
        sink.release.set()
        served.close()
