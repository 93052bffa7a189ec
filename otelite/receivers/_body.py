"""Reading an HTTP request body within a size limit, decompressing it as it streams in.

The limit holds after decompression: a gzip body is inflated chunk by chunk with the
output capped at one byte over what is left of the limit, so a few hundred kilobytes that
would inflate to gigabytes stop at the limit instead of filling memory.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

from otelite.errors import InvalidRequest, RequestTooLarge, UnsupportedMediaType

__all__ = ["ACCEPTED_ENCODINGS", "content_coding", "read_body", "too_large"]

ACCEPTED_ENCODINGS = ("gzip", "identity")
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def content_coding(header: str | None) -> str:
    """The one content coding named by a ``Content-Encoding`` header: gzip or identity."""
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return "identity"
    if codings in (["gzip"], ["x-gzip"]):
        return "gzip"
    raise UnsupportedMediaType(
        f"Content-Encoding {header!r} is not supported; use one of: "
        + ", ".join(ACCEPTED_ENCODINGS)
    )


async def read_body(
    chunks: AsyncIterator[bytes], *, coding: str, content_length: str | None, limit: int
) -> bytes:
    """Collect the body from ``chunks``, decoded per ``coding``, failing past ``limit`` bytes.

    ``content_length`` (the header, if sent) is checked first, so a body declared too large
    is refused before any of it is read. The limit applies to the body as sent as well as
    after decompression.
    """
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise InvalidRequest(f"Content-Length {content_length!r} is not a number") from None
        if declared > limit:
            raise too_large(limit, declared=declared)
    sink = _Inflated(limit) if coding == "gzip" else _Plain()
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        sink.feed(chunk)
    return sink.finish()


def too_large(limit: int, *, declared: int | None = None) -> RequestTooLarge:
    """The error for a body over ``limit`` bytes: by its ``declared`` Content-Length, or
    after decompression."""
    why = f"Content-Length {declared}" if declared is not None else "after decompression"
    return RequestTooLarge(
        f"request body is over the limit of {_human(limit)} ({why}); send smaller batches"
    )


def _human(limit: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


class _Plain:
    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def feed(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    def finish(self) -> bytes:
        return b"".join(self._chunks)


class _Inflated:
    """A gzip stream (one or more members, as RFC 1952 allows) inflated up to a limit."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._chunks: list[bytes] = []
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self._started = False

    def feed(self, data: bytes) -> None:
        while data:
            self._started = True
            if self._inflater.eof:
                self._inflater = zlib.decompressobj(_GZIP_WBITS)
            try:
                # Never ask for more than one byte past the limit: that is the bound.
                out = self._inflater.decompress(data, self._limit - self._size + 1)
            except zlib.error as error:
                raise InvalidRequest(f"body is not valid gzip: {error}") from None
            self._size += len(out)
            if self._size > self._limit:
                raise too_large(self._limit)
            self._chunks.append(out)
            inflater = self._inflater
            data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail

    def finish(self) -> bytes:
        if self._started and not self._inflater.eof:
            raise InvalidRequest("body is not valid gzip: the stream ends early")
        return b"".join(self._chunks)
