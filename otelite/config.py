"""Settings of one otelite process, with their defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

if TYPE_CHECKING:
    from otelite.access import Right, TokenEntry

__all__ = [
    "Access",
    "Config",
    "Limits",
    "StorageLocation",
    "Tenancy",
    "Webhook",
    "parse_duration",
    "parse_size",
    "parse_storage",
    "parse_webhook",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h|d|w)?\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$", re.IGNORECASE)
_UNIT_BYTES = {"b": 1} | {
    f"{prefix}{infix}b": (1024 if infix else 1000) ** power
    for power, prefix in enumerate("kmgt", start=1)
    for infix in ("", "i")
}
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
}


def parse_size(text: str) -> int:
    """``"64MiB"``, ``"512KiB"``, ``"20MB"``, ``"1000"`` → bytes. A bare number is bytes."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 512KiB, 64MiB, 1GiB)")
    number, unit = match.groups()
    return int(float(number) * _UNIT_BYTES[(unit or "b").lower()])


def parse_duration(text: str) -> float:
    """``"7d"``, ``"90m"``, ``"1.5s"``, ``"250ms"`` → seconds. A bare number is seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 6h, 7d)")
    number, unit = match.groups()
    return float(number) * _UNIT_SECONDS[unit or "s"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what clients may send. Defaults follow the OTLP spec and peers.

    ``None`` turns a limit off. SECURITY.md explains each one and how it is enforced.
    """

    max_request_bytes: int = 64 * 1024 * 1024
    """After decompression; the OTLP specification's recommended limit."""
    max_queue_bytes: int = 64 * 1024 * 1024
    """Accepted data waiting to be stored; beyond it, clients are told to retry. About 150k
    typical spans: a burst that size is absorbed, and what is acknowledged is queryable
    within a couple of seconds (the store takes ~30-40 MB/s on two cores)."""
    retry_after_seconds: float = 5.0
    """What refused clients are told to wait when otelite cannot tell better; a full queue
    tells them when half of it will have been stored at the recent rate (1 s up to this)."""
    max_attributes: int | None = 128
    """Per resource, scope, span, event, link and log record; the rest are dropped and
    counted in ``dropped_attributes_count`` (the OpenTelemetry SDK default)."""
    max_events_per_span: int | None = 128
    max_links_per_span: int | None = 128
    max_attribute_value_length: int | None = 64 * 1024
    """Characters of a string value, bytes of a bytes value; longer ones are truncated."""
    max_future_seconds: float | None = 86400.0
    """Records stamped further ahead of the server's clock than this are rejected."""
    max_past_seconds: float | None = None
    """Records stamped further back than this are rejected; off, so old exports import."""
    ingest_rate_bytes: float | None = None
    """Bytes per second (after decompression) one client may send; off by default."""
    ingest_burst_bytes: int | None = None
    """How far a client may run ahead of ``ingest_rate_bytes``; twice the rate if unset."""


@dataclass(frozen=True, slots=True)
class Access:
    """Who may connect. A port no token has a right to stays open; tokens are never shown."""

    tokens: tuple[TokenEntry, ...] = field(default=(), repr=False)
    """Bearer tokens (as digests) with their rights and tenants (``read_tokens``). The OTLP
    receivers need one with the ingest right once any has it; the query API one with the
    query right (``/metrics``: operator) once any has either. /healthz, /readyz and the UI's
    page stay open."""
    tls_cert: Path | None = None
    """PEM certificate (chain) for TLS on all three ports; with ``tls_key``."""
    tls_key: Path | None = None

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate and its key")

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def tokens_for(self, *rights: Right) -> tuple[TokenEntry, ...]:
        """The tokens that hold one of ``rights``; a port guarded by them is open without."""
        return tuple(t for t in self.tokens if any(t.grant.holds(r) for r in rights))


@dataclass(frozen=True, slots=True)
class Tenancy:
    """Multi-tenancy: the ``X-Scope-OrgID`` header picks a tenant with storage of its own.

    Off by default; then the header is ignored and all data is one tenant's, as before.
    """

    enabled: bool = False
    max_tenants: int = 100
    """Tenants that may exist; a request that would create one more is refused (403)."""
    default_tenant: str | None = None
    """Where requests without the header go; None refuses them (400)."""

    def __post_init__(self) -> None:
        if self.max_tenants < 1:
            raise ValueError(f"max_tenants must be at least 1, got {self.max_tenants}")
        if self.default_tenant is not None:
            # Imported here: the tenant id rules import this module.
            from otelite.errors import InvalidRequest
            from otelite.tenancy import check_tenant_id

            try:
                check_tenant_id(self.default_tenant, what="the default tenant")
            except InvalidRequest as error:
                raise ValueError(str(error)) from None


_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_DEFAULT_DATABASE = "otel"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class StorageLocation:
    """A parsed ``--storage`` value."""

    kind: Literal["duckdb", "clickhouse", "chdb"] = "duckdb"
    host: str = ""
    port: int = 8123
    user: str = "default"
    password: str = field(default="", repr=False)
    database: str = _DEFAULT_DATABASE
    secure: bool = False
    path: Path | None = None
    """chDB's directory."""

    def describe(self) -> str:
        """The location as typed, with the password left out (safe to log)."""
        if self.kind == "duckdb":
            return "duckdb"
        if self.kind == "chdb":
            return f"chdb:{self.path}?database={self.database}"
        secret = ":***" if self.password else ""
        query = "?secure=true" if self.secure else ""
        return (
            f"clickhouse://{quote(self.user)}{secret}@{self.host}:{self.port}/"
            f"{self.database}{query}"
        )

    def for_tenant(self, tenant: str) -> StorageLocation:
        """The location of one tenant's data: a database of its own beside this one."""
        return replace(self, database=f"{self.database}_{tenant_database_suffix(tenant)}")


def tenant_database_suffix(tenant: str) -> str:
    """A tenant id as a database-name suffix (ids allow characters names do not)."""
    # "_" is escaped too, so that two tenants never share a name.
    return re.sub(r"[^A-Za-z0-9]", lambda m: f"_{ord(m.group()):02x}", tenant)


def parse_storage(text: str) -> StorageLocation:
    """Parse a ``--storage`` value; raises ``ValueError`` saying what is wrong."""
    text = text.strip()
    if text in ("", "duckdb"):
        return StorageLocation()
    if text.startswith("chdb:"):
        rest = text.removeprefix("chdb:").removeprefix("//")
        path_text, _, query = rest.partition("?")
        if not path_text:
            raise ValueError("--storage chdb:PATH needs a directory for chDB's files")
        options = parse_qs(query)
        database = options.get("database", [_DEFAULT_DATABASE])[0]
        return StorageLocation("chdb", path=Path(path_text), database=_database(database))
    if text.startswith(("clickhouse://", "clickhouses://")):
        url = urlsplit(text)
        if not url.hostname:
            raise ValueError(f"--storage {_redact(text)}: no host")
        options = parse_qs(url.query)
        secure = url.scheme == "clickhouses" or options.get("secure", ["false"])[0] in _TRUE
        database = url.path.strip("/") or _DEFAULT_DATABASE
        try:
            port = url.port or (8443 if secure else 8123)
        except ValueError as error:
            raise ValueError(f"--storage {_redact(text)}: {error}") from None
        return StorageLocation(
            "clickhouse",
            host=url.hostname,
            port=port,
            user=unquote(url.username) if url.username else "default",
            password=unquote(url.password) if url.password else "",
            database=_database(database),
            secure=secure,
        )
    raise ValueError(
        f"--storage {_redact(text)}: expected duckdb, clickhouse://USER:PASSWORD@HOST:8123/DB "
        "or chdb:PATH"
    )


def _database(name: str) -> str:
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"database name {name!r}: letters, digits and _ only, 64 at most")
    return name


def _redact(text: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", text)


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where alert notifications go: a URL that takes Alertmanager's webhook posts."""

    url: str
    name: str
    """How the receiver is named in payloads, metrics and the outbox (unique)."""
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    bearer_token: str | None = field(default=None, repr=False)


def parse_webhook(text: str) -> Webhook:
    """Parse an ``--alert-webhook`` value: ``URL [name=NAME] [token-file=FILE]
    [header=NAME:VALUE]...``; raises ``ValueError`` saying what is wrong. The name defaults
    to the URL's host, port and path; the token file's first line is sent as a bearer token.
    """
    if not text.split():
        raise ValueError("--alert-webhook: expected a URL")
    url, *options = text.split()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--alert-webhook {_redact(url)}: expected an http(s)://HOST/PATH URL")
    name = f"{parts.hostname}{'' if parts.port is None else f':{parts.port}'}{parts.path}"
    headers: list[tuple[str, str]] = []
    token = None
    for option in options:
        key, _, value = option.partition("=")
        if key == "name" and value:
            name = value
        elif key == "token-file" and value:
            try:
                token = Path(value).read_text().strip().splitlines()[0].strip()
            except (OSError, IndexError) as error:
                raise ValueError(
                    f"--alert-webhook token-file={value}: unreadable or empty"
                ) from error
        elif key == "header" and ":" in value:
            header, _, header_value = value.partition(":")
            headers.append((header.strip(), header_value.strip()))
        else:
            raise ValueError(
                f"--alert-webhook: {option.split('=')[0]!r}: expected name=NAME, "
                "token-file=FILE or header=NAME:VALUE after the URL"
            )
    return Webhook(url, name, tuple(headers), token)


@dataclass(frozen=True, slots=True)
class Config:
    """Everything ``otelite serve`` can be told."""

    data_dir: Path | None = Path("otelite-data")
    """None keeps everything in memory (``--memory``): nothing survives a restart."""
    host: str = "127.0.0.1"
    port: int = 3200
    otlp_grpc_port: int = 4317
    otlp_http_port: int = 4318
    retention_seconds: float | None = 7 * 86400.0
    limits: Limits = Limits()
    access: Access = Access()
    tenancy: Tenancy = Tenancy()
    storage: StorageLocation = StorageLocation()
    create_schema: bool = True
    """False: the ClickHouse tables exist already (``--no-create-schema``)."""
    clickhouse_cluster: str | None = None
    """Create replicated tables ``ON CLUSTER`` this cluster, with Distributed ones over them."""
    self_telemetry: bool = False
    """Store otelite's own traces and metrics in itself, as the service ``otelite``."""
    query_timeout_seconds: float | None = 120.0
    """How long one query language query may run (PromQL today); None: no limit."""
    pipeline_file: Path | None = None
    """The processors to run on what is accepted (``--pipeline-file``); None: none."""
    slo_files: tuple[Path, ...] = ()
    """OpenSLO documents applied at start (``--slo-file``), to the default tenant."""
    slo_interval_seconds: float = 60.0
    """How often every SLO is evaluated for its burn-rate alerts."""
    alert_webhooks: tuple[Webhook, ...] = ()
    """Where firing and resolved alerts are sent (``--alert-webhook``)."""
    alert_external_url: str | None = None
    """The ``externalURL`` of alert notifications; None: the query API's own URL."""
    alert_repeat_seconds: float | None = 4 * 3600.0
    """How long an alert fires before it is sent again (``repeat_interval``); None: never."""

    def __post_init__(self) -> None:
        if self.slo_interval_seconds <= 0:
            raise ValueError(f"the SLO interval must be positive, got {self.slo_interval_seconds}")
        if self.alert_repeat_seconds is not None and self.alert_repeat_seconds <= 0:
            raise ValueError(
                f"the alert repeat interval must be positive, got {self.alert_repeat_seconds}"
            )
        names = [w.name for w in self.alert_webhooks]
        if len(set(names)) != len(names):
            raise ValueError("--alert-webhook: two receivers have the same name; give name=")
        bound = next((t.grant.name for t in self.access.tokens if t.grant.bound), None)
        if bound is not None and not self.tenancy.enabled:
            raise ValueError(
                f"{bound}: tenant= needs multi-tenancy (--multi-tenant); without it every "
                "token reads and writes the one tenant there is"
            )
