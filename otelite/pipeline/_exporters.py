"""The pipeline file's ``exporters:``: named OTLP destinations that otelite forwards what
it accepts to (``otelite.pipeline._forwarding``).

    exporters:
      vendor:                                  # a name: letters, digits, - and _
        endpoint: https://otlp.example:4318    # required
        protocol: http/protobuf                # http/protobuf (default) | http/json | grpc
        compression: gzip                      # gzip (default) | none
        headers: {api-key: "${env:API_KEY}"}   # ${env:NAME} is read at start
        tls: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem, insecure: false}
        signals: [traces, logs]                # default: all three
        timeout: 10s                           # per attempt
        queue: {max_size: 1GiB, in_flight: 2}  # bound of the queue on disk (or in memory);
                                               # batches being sent at once
        batch: {max_size: 1MiB, max_requests: 128}  # requests joined into one export
        retry: {initial_interval: 1s, max_interval: 30s}
        circuit_breaker: {failure_threshold: 5, cooldown: 30s}
        dead_letter: {max_size: 64MiB}         # bound of the dead-letter directory
        processors:                            # for this destination only
          redaction: {...}                     # as processors.redaction
          tail_sampling: {...}                 # as processors.tail_sampling

For OTLP/HTTP the endpoint is the base URL: ``/v1/traces`` (``/v1/metrics``,
``/v1/logs``) is added. For gRPC it is ``host:port`` or a URL whose scheme says whether to
use TLS (``http://`` plaintext, ``https://`` TLS); without a scheme, TLS unless
``tls.insecure: true``. Header values may name environment variables, so that secrets
stay out of the file; a variable that is not set is a problem of the file, reported at
start like any other.

Queued requests go out in batches: requests of one signal and tenant, joined into one
export request (``otelite.pipeline._forward_batch``) of at most ``batch.max_size`` bytes
(before compression; a single larger request goes alone) and ``batch.max_requests``
requests. The default size is well under the 4 MiB a gRPC server receives by default,
and was chosen by measurement: forwarding to a second otelite on the same machine, with
3 MiB batches it fell behind storing and asked for pauses (``Retry-After``) in most runs,
with 1 MiB batches in none, at the same delivery rate. A batch the destination refuses
for good is split in halves, and each half sent again, down to single requests, so that
only the requests it refuses become dead letters.
``queue.in_flight`` batches are sent at once (each waits for its own answer); the queue's
sent position still moves only over batches that went through, in queue order, so a
restart sends again, never skips. Order between batches in flight is not kept.

An exporter's ``processors`` run on what is queued for it, after the file's own
processors (which the local store sees too): a destination can be told less than otelite
keeps, never more. Its redaction runs first, then its tail sampling
(``_forward_sampling``), which holds spans before they are queued.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from otelite.pipeline._pipeline_file import Node
from otelite.pipeline._processing import Processor
from otelite.pipeline._redaction import RedactionRules
from otelite.pipeline._sampling_settings import TailSamplingSettings
from otelite.types import Signal

__all__ = ["PROTOCOLS", "ExporterSettings", "TlsSettings", "parse_exporters"]

PROTOCOLS = ("http/protobuf", "http/json", "grpc")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ENV = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_MAX_IN_FLIGHT = 64
_KEYS = (
    "endpoint",
    "protocol",
    "compression",
    "headers",
    "tls",
    "signals",
    "timeout",
    "queue",
    "batch",
    "retry",
    "circuit_breaker",
    "dead_letter",
    "processors",
)


@dataclass(frozen=True, slots=True)
class TlsSettings:
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False
    """gRPC without a URL scheme: plaintext instead of TLS."""


@dataclass(frozen=True, slots=True)
class ExporterSettings:
    """One destination, as the file describes it (header values already expanded)."""

    name: str
    endpoint: str
    protocol: str = "http/protobuf"
    compression: str = "gzip"
    headers: dict[str, str] = field(default_factory=dict)
    tls: TlsSettings = TlsSettings()
    signals: frozenset[Signal] = frozenset(Signal)
    timeout_seconds: float = 10.0
    max_queue_bytes: int = 1024**3
    in_flight: int = 2
    """Batches being sent at once."""
    batch_max_bytes: int = 1024**2
    batch_max_requests: int = 128
    retry_initial_seconds: float = 1.0
    retry_max_seconds: float = 30.0
    failure_threshold: int = 5
    cooldown_seconds: float = 30.0
    max_dead_letter_bytes: int = 64 * 1024**2
    """Bound of the dead-letter directory; over it the oldest letters are removed."""
    processors: tuple[Processor, ...] = ()
    """Run on each request before it is queued for this destination only."""
    tail_sampling: TailSamplingSettings | None = None
    """Tail sampling of this destination's traces, after its processors."""

    @property
    def shown_endpoint(self) -> str:
        """The endpoint without credentials or query (safe to show)."""
        parts = urlsplit(self.endpoint if "//" in self.endpoint else f"//{self.endpoint}")
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{parts.port}" if parts.port else ""
        scheme = f"{parts.scheme}://" if parts.scheme else ""
        return f"{scheme}{host}{port}{parts.path}"


def parse_exporters(node: Node) -> tuple[ExporterSettings, ...]:
    """The destinations of an ``exporters:`` mapping, in the file's order."""
    entries = node.mapping()
    if not entries:
        raise node.problem("give at least one exporter")
    found = []
    for name, entry in entries.items():
        if not _NAME.fullmatch(name):
            raise entry.problem("a name is 1 to 64 letters, digits, - or _")
        found.append(_exporter(name, entry))
    return tuple(found)


def _exporter(name: str, node: Node) -> ExporterSettings:
    keys = node.mapping(*_KEYS)
    if "endpoint" not in keys:
        raise node.problem("endpoint: required")
    protocol = keys["protocol"].choice(*PROTOCOLS) if "protocol" in keys else "http/protobuf"
    endpoint = _endpoint(keys["endpoint"], grpc=protocol == "grpc")
    settings = ExporterSettings(name, endpoint, protocol)
    values: dict[str, object] = {}
    if "compression" in keys:
        values["compression"] = keys["compression"].choice("gzip", "none")
    if "headers" in keys:
        values["headers"] = {
            key: _expand(value) for key, value in keys["headers"].mapping().items()
        }
    if "tls" in keys:
        values["tls"] = _tls(keys["tls"])
    if "signals" in keys:
        names = keys["signals"].texts()
        unknown = [n for n in names if n not in tuple(Signal)]
        if unknown or not names:
            raise keys["signals"].problem(
                f"give some of {', '.join(Signal)}" + (f", not {unknown[0]!r}" if unknown else "")
            )
        values["signals"] = frozenset(Signal(n) for n in names)
    if "timeout" in keys:
        values["timeout_seconds"] = _positive(keys["timeout"])
    if "queue" in keys:
        queue = keys["queue"].mapping("max_size", "in_flight")
        if "max_size" in queue:
            values["max_queue_bytes"] = _at_least(queue["max_size"], 1024 * 1024)
        if "in_flight" in queue:
            in_flight = queue["in_flight"].integer(minimum=1)
            if in_flight > _MAX_IN_FLIGHT:
                raise queue["in_flight"].problem(f"must be at most {_MAX_IN_FLIGHT}")
            values["in_flight"] = in_flight
    if "batch" in keys:
        batch = keys["batch"].mapping("max_size", "max_requests")
        if "max_size" in batch:
            values["batch_max_bytes"] = _at_least(batch["max_size"], 64 * 1024)
        if "max_requests" in batch:
            values["batch_max_requests"] = batch["max_requests"].integer(minimum=1)
    if "retry" in keys:
        retry = keys["retry"].mapping("initial_interval", "max_interval")
        if "initial_interval" in retry:
            values["retry_initial_seconds"] = _positive(retry["initial_interval"])
        if "max_interval" in retry:
            values["retry_max_seconds"] = _positive(retry["max_interval"])
    if "circuit_breaker" in keys:
        breaker = keys["circuit_breaker"].mapping("failure_threshold", "cooldown")
        if "failure_threshold" in breaker:
            values["failure_threshold"] = breaker["failure_threshold"].integer(minimum=1)
        if "cooldown" in breaker:
            values["cooldown_seconds"] = breaker["cooldown"].duration()
    if "dead_letter" in keys:
        letters = keys["dead_letter"].mapping("max_size")
        if "max_size" in letters:
            values["max_dead_letter_bytes"] = _at_least(letters["max_size"], 1024 * 1024)
    if "processors" in keys:
        processors = keys["processors"].mapping("redaction", "tail_sampling")
        if not processors:
            raise keys["processors"].problem(
                "give at least one processor (redaction, tail_sampling)"
            )
        if "redaction" in processors:
            values["processors"] = (RedactionRules.parse(processors["redaction"]),)
        if "tail_sampling" in processors:
            values["tail_sampling"] = TailSamplingSettings.parse(processors["tail_sampling"])
    return replace(settings, **values)  # type: ignore[arg-type]


def _endpoint(node: Node, *, grpc: bool) -> str:
    text = node.text()
    parts = urlsplit(text if "//" in text or not grpc else f"//{text}")
    if parts.scheme not in (("http", "https", "") if grpc else ("http", "https")):
        raise node.problem("must be an http:// or https:// URL")
    try:
        port = parts.port
    except ValueError:
        raise node.problem("has an invalid port") from None
    if not parts.hostname:
        raise node.problem("names no host")
    if grpc and port is None:
        raise node.problem("gRPC needs host:port")
    if parts.query or parts.fragment:
        raise node.problem("must not have a query or fragment")
    return text


def _expand(node: Node) -> str:
    text = node.text()

    def value(found: re.Match[str]) -> str:
        name = found[1]
        if name not in os.environ:
            raise node.problem(f"${name} is not set")
        return os.environ[name]

    return _ENV.sub(value, text)


def _tls(node: Node) -> TlsSettings:
    keys = node.mapping("ca_file", "cert_file", "key_file", "insecure")
    files: dict[str, Path] = {}
    for key in ("ca_file", "cert_file", "key_file"):
        if key in keys:
            path = Path(keys[key].text())
            if not path.is_file():
                raise keys[key].problem(f"{path} is not a readable file")
            files[key] = path
    if ("cert_file" in files) != ("key_file" in files):
        raise node.problem("cert_file and key_file go together")
    insecure = keys["insecure"].boolean() if "insecure" in keys else False
    return TlsSettings(insecure=insecure, **files)


def _positive(node: Node) -> float:
    seconds = node.duration()
    if seconds <= 0:
        raise node.problem("must be more than 0")
    return seconds


def _at_least(node: Node, minimum: int) -> int:
    size = node.size()
    if size < minimum:
        shown = f"{minimum // 1024**2}MiB" if minimum >= 1024**2 else f"{minimum // 1024}KiB"
        raise node.problem(f"must be at least {shown}")
    return size
