"""The status an ASGI app answered a request with, for middleware that observes it."""

from __future__ import annotations

from starlette.types import Message, Send

__all__ = ["ResponseStatus"]


class ResponseStatus:
    """The status of the response sent through ``watching(send)``; 500 until one starts
    (an app that fails before answering is answered 500 by the server)."""

    def __init__(self) -> None:
        self.status = 500

    def watching(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = int(message["status"])
            await send(message)

        return sending
