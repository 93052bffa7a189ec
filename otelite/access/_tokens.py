"""Bearer tokens: where they come from, and how a presented one is checked.

A presented token is compared with every configured token through ``hmac.compare_digest``
over SHA-256 digests, so the time taken says nothing about which token, or how much of
one, matched. Tokens are never part of a message, a log line or a ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Denied", "Guard", "Tokens", "bearer_token", "read_tokens"]

_log = logging.getLogger("otelite.access")

# RFC 6750's b64token: what a client can put after "Bearer " in a header unchanged.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_SEPARATORS = re.compile(r"[,\s]+")


class Tokens:
    """A set of accepted bearer tokens (at least one)."""

    __slots__ = ("_digests",)

    def __init__(self, tokens: Iterable[str]) -> None:
        digests = []
        for number, token in enumerate(tokens, start=1):
            _check(token, f"token {number}")
            digests.append(_digest(token))
        if not digests:
            raise ValueError("no tokens given; leave authentication off instead")
        self._digests = tuple(digests)

    def __repr__(self) -> str:
        return f"Tokens(<{len(self._digests)} hidden>)"

    def __len__(self) -> int:
        return len(self._digests)

    def accepts(self, presented: str | None) -> bool:
        """Whether ``presented`` is one of the tokens; None (no token) never is."""
        if presented is None:
            return False
        candidate = _digest(presented)
        accepted = False
        # Every token is compared, also after a match, so timing cannot tell which matched.
        for digest in self._digests:
            accepted |= hmac.compare_digest(digest, candidate)
        return accepted


@dataclass(frozen=True, slots=True)
class Denied:
    """Why a request was refused, in words that are safe to send back."""

    message: str
    invalid_token: bool
    """True when a token was sent but is not accepted; False when none was sent."""


class Guard:
    """Checks the ``Authorization`` of every request to one server.

    ``carrier`` names where clients put the token, for the message to those who sent none.
    Refusals are logged as a warning at most once per ``log_interval`` seconds, with how
    many there were since the last line, so a scanner cannot flood the log.
    """

    def __init__(
        self,
        tokens: Tokens,
        *,
        server: str,
        carrier: str = "the header 'Authorization: Bearer <token>'",
        log_interval: float = 60.0,
    ) -> None:
        self.tokens = tokens
        self._server = server
        self._missing = f"authentication required: send {carrier}"
        self._log_interval = log_interval
        self._refused = 0
        self._logged_at = -math.inf

    def check(self, authorization: str | None, where: str) -> Denied | None:
        """None when the header carries an accepted bearer token, else why not.

        ``where`` (a path or method, and the peer when known) goes into the log line.
        """
        token = bearer_token(authorization)
        if self.tokens.accepts(token):
            return None
        if token is None:
            denied = Denied(self._missing, invalid_token=False)
        else:
            denied = Denied("the bearer token is not valid", invalid_token=True)
        self._note(denied, where)
        return denied

    def _note(self, denied: Denied, where: str) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._logged_at < self._log_interval:
            return
        reason = "a wrong token" if denied.invalid_token else "no token"
        _log.warning(
            "%s: refused %d unauthenticated request(s); the latest had %s (%s)",
            self._server,
            self._refused,
            reason,
            where,
        )
        self._refused = 0
        self._logged_at = now


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value; None for anything else.

    The scheme is case-insensitive (RFC 7235); surrounding spaces are ignored.
    """
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def read_tokens(env_value: str | None, files: Sequence[Path] = ()) -> tuple[str, ...]:
    """Tokens from a comma-separated environment value and from files.

    A file holds tokens separated by newlines or commas; lines starting with ``#`` are
    comments. Raises ``ValueError`` naming the source (never the token) when one cannot be
    read or is not a valid bearer token.
    """
    tokens: list[str] = []
    if env_value:
        tokens += _split(env_value, "the environment")
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise ValueError(f"cannot read tokens from {path}: {reason}") from None
        lines = (line for line in text.splitlines() if not line.lstrip().startswith("#"))
        found = _split("\n".join(lines), str(path))
        if not found:
            raise ValueError(f"{path} holds no tokens")
        tokens += found
    # Order kept, duplicates dropped: the same token in two places is one token.
    return tuple(dict.fromkeys(tokens))


def _split(text: str, source: str) -> list[str]:
    tokens = [token for token in _SEPARATORS.split(text) if token]
    for number, token in enumerate(tokens, start=1):
        _check(token, f"token {number} from {source}")
    return tokens


def _check(token: str, where: str) -> None:
    if not _TOKEN.fullmatch(token):
        raise ValueError(
            f"{where} is not a valid bearer token: use letters, digits and - . _ ~ + / "
            "(optionally ending in =)"
        )


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
