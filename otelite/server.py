"""The composition root: one otelite process, wired from its components.

Start order is downstream first (flatten workers → storage → pipeline, which replays the
write-ahead log → forwarding queues and workers → query API → receivers; per tenant in
multi-tenant mode) and shutdown is the reverse, so nothing is accepted before it can be
stored and everything accepted is stored before the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from otelite.access import Right, ServerCertificate, Tokens
from otelite.analysis import (
    NOTIFIERS,
    OUTBOX_FILE,
    Notifier,
    Notifiers,
    SloCatalog,
    SloCollector,
    SloEvaluator,
    Transition,
    alert_event,
    parse_documents,
)
from otelite.api import (
    AlertReceiverMetrics,
    ForwardingMetrics,
    PipelineReports,
    RedactionMetrics,
    SelfMetrics,
    ServerInfo,
    StoragePerTenant,
    TailSamplingMetrics,
    create_app,
)
from otelite.api.mcp import McpEndpoint
from otelite.config import Config, StorageLocation
from otelite.errors import InvalidRequest, OteliteError
from otelite.pipeline import (
    TENANTS_DIR,
    Consumer,
    FlattenPool,
    IngestPipeline,
    PipelineReport,
    PipelineStages,
    PipelineStats,
    RedactionRules,
    Retention,
    Tenants,
    read_pipeline_file,
)
from otelite.receivers import (
    LOKI_PUSH_PATH,
    SELF_SERVICE,
    GrpcReceiver,
    HttpReceiver,
    LokiPush,
    SelfTelemetry,
    UvicornServer,
)
from otelite.storage import Storage, open_storage
from otelite.storage.duckdb import DATABASE_FILE
from otelite.tenancy import SINGLE_TENANT, TENANT_HEADER

__all__ = ["Endpoints", "Server", "run"]

log = logging.getLogger("otelite")


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a started server listens (ports are the bound ones, also when 0 was asked)."""

    host: str
    api_port: int
    otlp_grpc_port: int
    otlp_http_port: int
    tls: bool = False
    ingest_auth: bool = False
    query_auth: bool = False
    multi_tenant: bool = False

    def describe(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls else "http"
        grpc_note = " (TLS)" if self.tls else ""
        lines = [
            f"  web UI and query API  {scheme}://{host}:{self.api_port}"
            + (" (bearer token required)" if self.query_auth else ""),
            f"  OTLP/gRPC             {host}:{self.otlp_grpc_port}{grpc_note}",
            f"  OTLP/HTTP             {scheme}://{host}:{self.otlp_http_port}",
            f"  Loki push             {scheme}://{host}:{self.api_port}{LOKI_PUSH_PATH}",
            "",
            "Point an OpenTelemetry SDK here with:",
            f"  export OTEL_EXPORTER_OTLP_ENDPOINT={scheme}://{host}:{self.otlp_http_port}",
        ]
        if self.tls:
            lines.append("  export OTEL_EXPORTER_OTLP_CERTIFICATE=<the CA or certificate file>")
        headers = []
        if self.ingest_auth:
            headers.append("authorization=Bearer <token>")
        if self.multi_tenant:
            headers.append("x-scope-orgid=<tenant>")
        if headers:
            lines.append(f'  export OTEL_EXPORTER_OTLP_HEADERS="{",".join(headers)}"')
        return "\n".join(lines)


class Server:
    """Storage, ingest pipeline, receivers and query API of one process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._storage: Storage | None = None
        self._pipeline: IngestPipeline | None = None
        self._stages: PipelineStages | None = None
        self._tenants: Tenants | None = None
        """Multi-tenant mode: every tenant's storage and pipeline, instead of the two above."""
        self._api: UvicornServer | None = None
        self._mcp: McpEndpoint | None = None
        self._grpc: GrpcReceiver | None = None
        self._http: HttpReceiver | None = None
        self._retention: Retention | None = None
        self._slos: SloEvaluator | None = None
        self._notifiers: Notifiers | None = None
        self._self_telemetry: SelfTelemetry | None = None
        # Flattening runs in worker processes shared by every pipeline (one per tenant).
        self._flattener: FlattenPool | None = None
        # For the web UI; set once the receivers listen, so it names their bound ports.
        self._info: ServerInfo | None = None

    @property
    def endpoints(self) -> Endpoints:
        assert self._api and self._grpc and self._http, "server not started"
        access = self.config.access
        return Endpoints(
            self.config.host,
            self._api.port,
            self._grpc.port,
            self._http.port,
            tls=access.tls,
            ingest_auth=bool(access.tokens_for(Right.INGEST)),
            query_auth=bool(access.tokens_for(Right.QUERY, Right.OPERATOR)),
            multi_tenant=self.config.tenancy.enabled,
        )

    async def start(self) -> None:
        config = self.config
        access = config.access
        certificate = None
        # Read first, so that a bad file stops the process before anything starts.
        pipeline_file = (
            None if config.pipeline_file is None else read_pipeline_file(config.pipeline_file)
        )
        if access.tls_cert is not None and access.tls_key is not None:
            # Checked before anything starts, so a bad file stops the process at once.
            certificate = ServerCertificate.load(access.tls_cert, access.tls_key)
        # A port is guarded once some token has a right there; its guard knows every token,
        # so a token without the right is told so (403) rather than called unknown (401).
        every_token = Tokens(access.tokens) if access.tokens else None
        ingest_tokens = every_token if access.tokens_for(Right.INGEST) else None
        query_tokens = every_token if access.tokens_for(Right.QUERY, Right.OPERATOR) else None
        if config.data_dir is not None:
            config.data_dir.mkdir(parents=True, exist_ok=True)
            _warn_about_other_mode(config)
        consumer: Consumer
        stats: PipelineStats
        source: Storage | StoragePerTenant
        self._flattener = FlattenPool()
        await asyncio.to_thread(self._flattener.start)
        tracer = None
        if config.self_telemetry:
            self._self_telemetry = SelfTelemetry(limits=config.limits)
            tracer = self._self_telemetry.tracer
        if config.tenancy.enabled:
            tenants = Tenants(
                config.data_dir,
                limits=config.limits,
                max_tenants=config.tenancy.max_tenants,
                open_storage=self._open_tenant_storage,
                flattener=self._flattener,
                tracer=tracer,
            )
            self._tenants = tenants
            await tenants.start()
            consumer, stats, stats_of = tenants, tenants.stats, tenants.stats_of
            source = StoragePerTenant(config.tenancy, tenants.storage)
            storage_of = tenants.storage
            reports: PipelineReports = tenants.reports
        else:
            storage = await asyncio.to_thread(self._open_storage, config.data_dir)
            self._storage = storage
            wal_dir = None if config.data_dir is None else config.data_dir / "wal"
            pipeline = IngestPipeline(
                storage,
                wal_dir=wal_dir,
                limits=config.limits,
                flattener=self._flattener,
                tracer=tracer,
            )
            self._pipeline = pipeline
            await pipeline.start()
            consumer, stats, source = pipeline, pipeline.stats, storage
            stats_of = None

            def storage_of(tenant: str) -> Storage:
                return storage

            def reports() -> list[PipelineReport]:
                return [pipeline.report(SINGLE_TENANT)]

        self._stages = PipelineStages(
            pipeline_file,
            consumer,
            data_dir=config.data_dir,
            tenant_header=config.tenancy.enabled,
            admit=None if self._tenants is None else self._tenants.admit,
        )
        receiving = await self._stages.start()
        self._slos = SloEvaluator(
            await asyncio.to_thread(self._slo_catalog),
            storage_of,
            interval_seconds=config.slo_interval_seconds,
            timeout_seconds=config.query_timeout_seconds,
            notify=self._notify if config.alert_webhooks else None,
            repeat_seconds=config.alert_repeat_seconds,
        )
        self_metrics = SelfMetrics(reports)
        self_metrics.registry.register(SloCollector(self._slos))
        for processor in self._stages.processors:
            if isinstance(processor, RedactionRules):
                self_metrics.registry.register(RedactionMetrics(processor.counts.copy))
        if self._stages.sampler is not None:
            self_metrics.registry.register(TailSamplingMetrics(self._stages.sampler))
        if config.alert_webhooks:
            # Started once the API listens: notifications link to it (externalURL).
            self._notifiers = Notifiers(self._notifier_of, existing=self._tenants_with_outbox)
            self_metrics.registry.register(AlertReceiverMetrics(self._notifiers))
        if self._stages.forwarding is not None:
            self_metrics.registry.register(ForwardingMetrics(self._stages.forwarding))
        if self._self_telemetry is not None:
            # Its own tenant when tenants are kept apart: nobody's data but otelite's.
            tenant = SELF_SERVICE if config.tenancy.enabled else SINGLE_TENANT
            await self._self_telemetry.start(
                consumer,
                tenant=tenant,
                stats=stats if stats_of is None else stats_of(tenant),
                metrics=self_metrics.registry,
            )
        app = create_app(
            source,
            readiness=self._readiness,
            tokens=query_tokens,
            info=lambda: self._info,
            self_metrics=self_metrics,
            tracer=tracer,
            query_timeout_seconds=config.query_timeout_seconds,
            slo_evaluator=self._slos,
            # Loki clients push to the URL they query: the query port takes pushes too.
            ingest=[
                LokiPush(
                    receiving,
                    limits=config.limits,
                    stats=stats,
                    stats_of=stats_of,
                    tokens=ingest_tokens,
                    tenancy=config.tenancy,
                ).route()
            ],
            alert_receivers=self._notifiers,
            forwarding=self._stages.forwarding,
        )
        self._mcp = app.state.mcp
        self._api = UvicornServer(
            app, host=config.host, port=config.port, certificate=certificate, websockets=True
        )
        await self._api.start()
        self._grpc = GrpcReceiver(
            receiving,
            host=config.host,
            port=config.otlp_grpc_port,
            limits=config.limits,
            stats=stats,
            stats_of=stats_of,
            tokens=ingest_tokens,
            certificate=certificate,
            tenancy=config.tenancy,
        )
        await self._grpc.start()
        self._http = HttpReceiver(
            receiving,
            host=config.host,
            port=config.otlp_http_port,
            limits=config.limits,
            stats=stats,
            stats_of=stats_of,
            tokens=ingest_tokens,
            certificate=certificate,
            tenancy=config.tenancy,
        )
        await self._http.start()
        self._info = ServerInfo(
            config.host,
            self._http.port,
            self._grpc.port,
            tls=access.tls,
            data_dir=None if config.data_dir is None else config.data_dir.absolute(),
            multi_tenant=config.tenancy.enabled,
            tenant_required=config.tenancy.enabled and config.tenancy.default_tenant is None,
        )
        if self._notifiers is not None:
            await self._notifiers.start()
        if config.retention_seconds:
            self._retention = Retention(self._stores, retention_seconds=config.retention_seconds)
            self._retention.start()
        self._slos.start()

    async def shutdown(self) -> None:
        """Stop accepting, store everything accepted, close storage. Safe to call twice."""
        if self._slos is not None:
            await self._slos.shutdown()
            self._slos = None
        if self._retention is not None:
            await self._retention.shutdown()
            self._retention = None
        if self._notifiers is not None:
            await self._notifiers.shutdown()
            self._notifiers = None
        for component in (self._http, self._grpc):
            if component is not None:
                await component.shutdown()
        self._http = self._grpc = None
        if self._stages is not None:
            await self._stages.shutdown()
        if self._self_telemetry is not None:
            await self._self_telemetry.shutdown()
            self._self_telemetry = None
        if self._pipeline is not None:
            await self._pipeline.shutdown()
            self._pipeline = None
        if self._tenants is not None:
            await self._tenants.shutdown()
        if self._flattener is not None:
            await asyncio.to_thread(self._flattener.close)
            self._flattener = None
        if self._api is not None:
            await self._api.shutdown()
            self._api = None
        if self._mcp is not None:
            await self._mcp.shutdown()
            self._mcp = None
        if self._storage is not None:
            await asyncio.to_thread(self._storage.close)
            self._storage = None
        if self._tenants is not None:
            await self._tenants.close()
            self._tenants = None

    def _open_storage(self, data_dir: Path | None, tenant: str | None = None) -> Storage:
        config = self.config
        return open_storage(
            config.storage,
            data_dir,
            tenant=tenant,
            retention_seconds=config.retention_seconds,
            create_schema=config.create_schema,
            cluster=config.clickhouse_cluster,
        )

    def _open_tenant_storage(self, tenant: str | None, directory: Path | None) -> Storage:
        # Tenants not seen yet read one empty in-memory store (queries compile for each
        # store's own dialect, so it need not be of the configured kind).
        if tenant is None:
            return open_storage(StorageLocation(), None)
        return self._open_storage(directory, tenant)

    def _slo_catalog(self) -> SloCatalog:
        """Every tenant's SLOs as kept, with the ``--slo-file`` documents applied (blocking).

        The files are read and checked whole before anything is applied, so that a bad
        one stops the start with its file and field named, and changes nothing."""
        config = self.config
        # With webhooks, each tenant's alert changes are kept until the notifiers have them.
        receivers = (NOTIFIERS,) if config.alert_webhooks else ()
        catalog = SloCatalog(config.data_dir, receivers=receivers)
        catalog.load()
        if not config.slo_files:
            return catalog
        tenant = config.tenancy.default_tenant if config.tenancy.enabled else SINGLE_TENANT
        if tenant is None:
            raise InvalidRequest(
                "--slo-file with --multi-tenant needs --default-tenant: the tenant to apply "
                "them to (or apply them per tenant with `otelite slo apply --tenant`)"
            )
        definitions = []
        for path in config.slo_files:
            try:
                definitions += parse_documents(path.read_bytes())
            except OSError as error:
                raise InvalidRequest(f"--slo-file {path}: {error.strerror or error}") from None
            except InvalidRequest as error:
                raise InvalidRequest(f"--slo-file {path}: {error}") from None
        names = [d.name for d in definitions]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise InvalidRequest(f"--slo-file: SLO {twice[0]!r} is defined twice")
        catalog.book(tenant).put(definitions)
        log.info("%d SLOs applied from --slo-file", len(definitions))
        return catalog

    async def _notify(self, tenant: str, changes: list[Transition]) -> None:
        """Hand a tenant's SLO alert changes to its notifier, which keeps them durably."""
        assert self._notifiers is not None
        await self._notifiers.notify(tenant, [alert_event(change.alert) for change in changes])

    @property
    def notifiers(self) -> Notifiers | None:
        """Where alerts are sent, per tenant (None without ``--alert-webhook``)."""
        return self._notifiers

    def _notifier_of(self, tenant: str) -> Notifier:
        """``tenant``'s notifier, its outbox in the tenant's directory (blocking-free)."""
        directory = self._tenant_dir(tenant)
        external_url = self.config.alert_external_url
        if external_url is None:
            endpoints = self.endpoints
            host = f"[{endpoints.host}]" if ":" in endpoints.host else endpoints.host
            scheme = "https" if endpoints.tls else "http"
            external_url = f"{scheme}://{host}:{endpoints.api_port}"
        return Notifier(
            self.config.alert_webhooks,
            outbox_path=None if directory is None else directory / OUTBOX_FILE,
            external_url=external_url,
            # Receivers of several tenants' alerts tell them apart as queries do.
            headers={TENANT_HEADER: tenant} if self.config.tenancy.enabled else None,
        )

    def _tenant_dir(self, tenant: str) -> Path | None:
        data_dir = self.config.data_dir
        if data_dir is None or not self.config.tenancy.enabled:
            return data_dir
        return data_dir / TENANTS_DIR / tenant

    def _tenants_with_outbox(self) -> list[str]:
        """The tenants whose alerts may wait from before a restart (blocking)."""
        if self._tenants is None:
            return [SINGLE_TENANT]
        return [
            tenant
            for tenant in self._tenants.ids
            if (directory := self._tenant_dir(tenant)) is not None
            and (directory / OUTBOX_FILE).exists()
        ]

    def _readiness(self) -> tuple[bool, str]:
        ingest = self._pipeline or self._tenants
        if ingest is None:
            return False, "not started"
        health = ingest.health()
        return health.ready, health.reason

    def _stores(self) -> list[tuple[Storage, PipelineStats]]:
        """Each storage and where its tenant counts; in multi-tenant mode every tenant's
        (those opened later join the next retention pass)."""
        if self._tenants is None:
            assert self._storage is not None and self._pipeline is not None
            return [(self._storage, self._pipeline.stats)]
        tenants = self._tenants
        return [(tenants.storage(tenant), tenants.stats_of(tenant)) for tenant in tenants.ids]


def _warn_about_other_mode(config: Config) -> None:
    """Data kept in the other tenancy mode is not served: say so instead of hiding it."""
    assert config.data_dir is not None
    if config.tenancy.enabled and (config.data_dir / DATABASE_FILE).exists():
        log.warning(
            "%s holds data stored without --multi-tenant; multi-tenant mode does not serve it",
            config.data_dir,
        )
    if not config.tenancy.enabled and (config.data_dir / TENANTS_DIR).exists():
        log.warning(
            "%s holds tenants' data (%s/); it is served only with --multi-tenant",
            config.data_dir,
            TENANTS_DIR,
        )


async def _serve(config: Config) -> int:
    server = Server(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.start()
    except (OSError, OteliteError) as error:
        print(f"otelite: cannot start: {error}", file=sys.stderr)
        await server.shutdown()
        return 1
    where = "in memory (nothing is kept)" if config.data_dir is None else str(config.data_dir)
    print(
        f"otelite is running; storage: {config.storage.describe()}; data: {where}\n"
        f"{server.endpoints.describe()}",
        flush=True,
    )
    await stop.wait()
    print("otelite: shutting down, storing what was accepted ...", flush=True)
    await server.shutdown()
    print("otelite: stopped", flush=True)
    return 0


def run(config: Config) -> int:
    """Run otelite until SIGINT or SIGTERM; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="otelite: %(message)s")
    # Libraries that log every request at INFO (httpx: the MCP tools' in-process API
    # calls and the alert posts; the MCP SDK: each stateless session): otelite says
    # what matters itself.
    for chatty in ("httpx", "mcp"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return asyncio.run(_serve(config))
