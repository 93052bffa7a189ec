from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from otelite.receivers import UvicornServer


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


async def slow(request: Request) -> PlainTextResponse:
    await asyncio.sleep(30)
    return PlainTextResponse("too late")


APP = Starlette(routes=[Route("/", hello), Route("/slow", slow)])


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_serves_in_the_callers_loop_without_taking_signals() -> None:
    async def serve_once() -> tuple[str, object, object]:
        server = UvicornServer(APP, port=0)
        before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
        await server.start()
        try:
            during = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
            async with httpx.AsyncClient() as client:
                response = await client.get(f"http://127.0.0.1:{server.port}/")
        finally:
            await server.shutdown()
        return response.text, before, during

    assert threading.current_thread() is threading.main_thread()
    text, before, during = asyncio.run(serve_once())
    assert text == "hello"
    assert during == before


def test_port_in_use_raises_os_error() -> None:
    async def clash() -> None:
        first = UvicornServer(APP, port=0)
        await first.start()
        try:
            with pytest.raises(OSError):
                await UvicornServer(APP, port=first.port).start()
        finally:
            await first.shutdown()

    asyncio.run(clash())


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_binds_ipv6() -> None:
    async def serve_once() -> str:
        server = UvicornServer(APP, host="::1", port=0)
        await server.start()
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"http://[::1]:{server.port}/")).text
        finally:
            await server.shutdown()

    assert asyncio.run(serve_once()) == "hello"


def test_shutdown_gives_up_on_requests_after_the_grace_period() -> None:
    async def cut_short() -> tuple[float, int]:
        server = UvicornServer(APP, port=0, grace_seconds=1)
        await server.shutdown()  # not started yet: nothing to do
        await server.start()
        async with httpx.AsyncClient() as client:
            request = asyncio.create_task(client.get(f"http://127.0.0.1:{server.port}/slow"))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            await server.shutdown()
            took = time.monotonic() - started
            response = await request
        await server.shutdown()  # already stopped: nothing to do
        return took, response.status_code

    took, status = asyncio.run(cut_short())
    assert took >= 1.0  # the grace period was given
    assert status == 500  # then the request was cancelled, not left hanging
