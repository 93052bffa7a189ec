"""Bearer tokens: how a presented one is checked, and what it grants.

A presented token is compared with every configured token through ``hmac.compare_digest``
over SHA-256 digests, so the time taken says nothing about which token, or how much of
one, matched. Only the digests are kept; tokens are never part of a message, a log line
or a ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from otelite.access._grants import Grant, Right

__all__ = ["Denied", "Guard", "TokenEntry", "Tokens", "bearer_token", "check_token", "digest"]

_log = logging.getLogger("otelite.access")

# RFC 6750's b64token: what a client can put after "Bearer " in a header unchanged.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True, slots=True)
class TokenEntry:
    """One configured token, kept as its SHA-256 digest, and what it grants."""

    digest: bytes = field(repr=False)
    grant: Grant

    @classmethod
    def of(cls, token: str, grant: Grant) -> TokenEntry:
        """The entry for ``token``; ``ValueError`` naming the grant's place if it is invalid."""
        check_token(token, grant.name)
        return cls(digest(token), grant)


class Tokens:
    """The accepted bearer tokens (at least one), each with its grant."""

    __slots__ = ("_entries",)

    def __init__(self, entries: Iterable[TokenEntry]) -> None:
        # The same token configured twice holds what both places grant.
        grants: dict[bytes, Grant] = {}
        for entry in entries:
            known = grants.get(entry.digest)
            grants[entry.digest] = entry.grant if known is None else known.merged(entry.grant)
        if not grants:
            raise ValueError("no tokens given; leave authentication off instead")
        self._entries = tuple(grants.items())

    def __repr__(self) -> str:
        return f"Tokens(<{len(self._entries)} hidden>)"

    def __len__(self) -> int:
        return len(self._entries)

    def grant_of(self, presented: str | None) -> Grant | None:
        """What ``presented`` grants; None when it is not one of the tokens (or is None)."""
        if presented is None:
            return None
        candidate = digest(presented)
        found = None
        # Every token is compared, also after a match, so timing cannot tell which matched.
        for known, grant in self._entries:
            if hmac.compare_digest(known, candidate):
                found = grant
        return found


@dataclass(frozen=True, slots=True)
class Denied:
    """Why a request was refused, in words that are safe to send back."""

    message: str
    invalid_token: bool
    """True when a token was sent but is not accepted; False when none was sent."""
    forbidden: bool = False
    """True when the token is accepted but lacks the right asked for (403, not 401)."""


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

    def check(self, authorization: str | None, where: str, right: Right) -> Grant | Denied:
        """The grant of the header's bearer token when it holds ``right``, else why not.

        ``where`` (a path or method, and the peer when known) goes into the log line.
        """
        token = bearer_token(authorization)
        grant = self.tokens.grant_of(token)
        if grant is not None and grant.holds(right):
            return grant
        if grant is not None:
            denied = Denied(
                f"this bearer token does not have the right {right.value!r}",
                invalid_token=False,
                forbidden=True,
            )
        elif token is None:
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
        if denied.forbidden:
            reason = f"a token without the right needed ({denied.message})"
        else:
            reason = "a wrong token" if denied.invalid_token else "no token"
        _log.warning(
            "%s: refused %d request(s) at the door; the latest had %s (%s)",
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


def check_token(token: str, where: str) -> None:
    """``ValueError`` naming ``where`` (never the token) unless ``token`` is a bearer token."""
    if not _TOKEN.fullmatch(token):
        raise ValueError(
            f"{where}: not a valid bearer token: use letters, digits and - . _ ~ + / "
            "(optionally ending in =)"
        )


def digest(token: str) -> bytes:
    """The SHA-256 digest of ``token``, as tokens are kept."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
