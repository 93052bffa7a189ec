"""Reading tokens, and what each grants, from the environment and from token files.

A token file has one token per line, optionally followed by what it grants::

    # the collectors of team a and team b
    Zq7rT2vX9kLm4NpB                     tenant=a,b  rights=ingest
    sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  tenant=a
    Hh3sJ8dWc5YuE1oR                     rights=query,operator

``sha256:<hex>`` stands for the token whose SHA-256 digest that is, so the file need not
hold the token itself (``printf %s "$TOKEN" | sha256sum``). ``tenant=`` lists the tenants
the token may use (``*``, the default, is any); it needs multi-tenancy. ``rights=`` lists
``ingest``, ``query`` and ``operator``; left out, the token has every right the file may
give, except ``operator`` when it names tenants (the operator's ``/metrics`` count every
tenant). A line without options may hold several tokens separated by commas, as files
always could. Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from otelite.access._grants import Grant, Right
from otelite.access._tokens import TokenEntry
from otelite.errors import InvalidRequest
from otelite.tenancy import check_tenant_id

__all__ = ["read_tokens"]

_SEPARATORS = re.compile(r"[,\s]+")
# A b64token can end in '=' but never holds one before another character, so an option
# (name=value) cannot be mistaken for a token.
_OPTION = re.compile(r"([A-Za-z_]+)=([^=].*|)")
_KNOWN = ("tenant", "rights")
_DIGEST = re.compile(r"sha256:([0-9A-Fa-f]{64})")


def read_tokens(
    env_value: str | None,
    files: Sequence[Path] = (),
    *,
    rights: Sequence[Right] = tuple(Right),
    env_name: str = "the environment",
) -> tuple[TokenEntry, ...]:
    """The tokens of a comma-separated environment value and of token files.

    ``rights`` are those this source may give (an ingest token file gives only
    ``ingest``); tokens from the environment have all of them, for any tenant. Raises
    ``ValueError`` naming the source and line (never the token) when one cannot be used.
    """
    entries: list[TokenEntry] = []
    if env_value:
        for number, token in enumerate(_fields(env_value), start=1):
            grant = Grant.of(rights, None, f"token {number} from {env_name}")
            entries.append(TokenEntry.of(token, grant))
    for path in files:
        found = _read_file(path, rights)
        if not found:
            raise ValueError(f"{path} holds no tokens")
        entries += found
    return tuple(entries)


def _read_file(path: Path, rights: Sequence[Right]) -> list[TokenEntry]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ValueError(f"cannot read tokens from {path}: {reason}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        where = f"line {number} of {path}"
        fields = line.split()
        options = [field for field in fields if _is_option(field)]
        if not options:
            grant = Grant.of(rights, None, where)
            entries += [_entry(token, grant) for token in _fields(line)]
            continue
        tokens = [field for field in fields if not _is_option(field)]
        if len(tokens) != 1 or "," in tokens[0]:
            raise ValueError(f"{where}: a line with options holds exactly one token, first")
        entries.append(_entry(tokens[0], _grant(options, rights, where)))
    return entries


def _is_option(field: str) -> bool:
    return _OPTION.fullmatch(field) is not None or field.startswith(tuple(f"{k}=" for k in _KNOWN))


def _grant(options: list[str], allowed: Sequence[Right], where: str) -> Grant:
    values: dict[str, list[str]] = {}
    for option in options:
        name, _, value = option.partition("=")
        if name not in _KNOWN:
            raise ValueError(f"{where}: unknown option {name!r}; a token takes tenant= and rights=")
        if name in values:
            raise ValueError(f"{where}: {name}= given twice")
        items = [item for item in value.split(",") if item]
        if not items:
            raise ValueError(f"{where}: {name}= lists nothing")
        values[name] = items
    tenants = _tenants(values.get("tenant", ["*"]), where)
    if "rights" in values:
        rights = _rights(values["rights"], allowed, where)
        if Right.OPERATOR in rights and tenants is not None:
            raise ValueError(
                f"{where}: the operator right reads /metrics, which count every tenant, "
                "so it cannot be bound to tenants (use tenant=* or leave it out)"
            )
    else:
        rights = [r for r in allowed if tenants is None or r is not Right.OPERATOR]
    return Grant.of(rights, tenants, where)


def _tenants(items: list[str], where: str) -> frozenset[str] | None:
    if "*" in items:
        if len(items) > 1:
            raise ValueError(f"{where}: tenant=* already means any tenant; list no others")
        return None
    for item in items:
        try:
            check_tenant_id(item, what=f"{where}: tenant")
        except InvalidRequest as error:
            raise ValueError(str(error)) from None
    return frozenset(items)


def _rights(items: list[str], allowed: Sequence[Right], where: str) -> list[Right]:
    rights = []
    for item in items:
        try:
            right = Right(item)
        except ValueError:
            known = ", ".join(r.value for r in Right)
            raise ValueError(f"{where}: unknown right {item!r}; the rights are {known}") from None
        if right not in allowed:
            given = ", ".join(r.value for r in allowed)
            raise ValueError(f"{where}: this file's tokens may only have the rights {given}")
        rights.append(right)
    return rights


def _fields(text: str) -> list[str]:
    return [field for field in _SEPARATORS.split(text) if field]


def _entry(token: str, grant: Grant) -> TokenEntry:
    found = _DIGEST.fullmatch(token)
    if found is not None:
        return TokenEntry(bytes.fromhex(found.group(1)), grant)
    return TokenEntry.of(token, grant)
