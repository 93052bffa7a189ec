"""``otelite serve``: options → ``Config`` → the server."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from otelite._cli import _args
from otelite.config import (
    Access,
    Config,
    Limits,
    StorageLocation,
    Tenancy,
    Webhook,
    parse_storage,
    parse_webhook,
)

__all__ = ["config_from_args", "register"]


def register(commands: _args.Commands) -> None:
    """Add the ``serve`` command."""
    defaults = Config()
    retention_default = (
        "off" if defaults.retention_seconds is None else f"{defaults.retention_seconds / 86400:g}d"
    )
    p = commands.add_parser(
        "serve",
        help="run the server: OTLP receivers, storage, query API and UI",
        description="Receive OTLP traces, metrics and logs, store them, and serve queries.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--data-dir",
        type=Path,
        default=defaults.data_dir,
        metavar="DIR",
        help=f"where data is kept (default: {defaults.data_dir})",
    )
    where.add_argument(
        "--memory", action="store_true", help="keep everything in memory; nothing survives exit"
    )
    store = p.add_argument_group(
        "storage",
        "Where telemetry is stored. --data-dir keeps the write-ahead log (and the writer's "
        "identity) whatever the store is.",
    )
    store.add_argument(
        "--storage",
        type=_storage,
        # A string default goes through ``type`` too, so a bad $OTELITE_STORAGE is an error.
        default=os.environ.get("OTELITE_STORAGE", "duckdb"),
        metavar="URL",
        help="duckdb (the default: a file under --data-dir), "
        "clickhouse://USER:PASSWORD@HOST:8123/DATABASE[?secure=true], or chdb:PATH "
        "(ClickHouse's engine in this process); also $OTELITE_STORAGE",
    )
    store.add_argument(
        "--no-create-schema",
        dest="create_schema",
        action="store_false",
        help="ClickHouse: use the tables as they are (an operator manages the DDL)",
    )
    store.add_argument(
        "--clickhouse-cluster",
        metavar="NAME",
        help="ClickHouse: create replicated tables ON CLUSTER NAME",
    )
    p.add_argument(
        "--host", default=defaults.host, help=f"address to listen on (default: {defaults.host})"
    )
    p.add_argument(
        "--port",
        type=_args.port,
        default=defaults.port,
        help=f"web UI and query API port (default: {defaults.port})",
    )
    p.add_argument(
        "--otlp-grpc-port",
        type=_args.port,
        default=defaults.otlp_grpc_port,
        metavar="PORT",
        help=f"OTLP/gRPC port (default: {defaults.otlp_grpc_port})",
    )
    p.add_argument(
        "--otlp-http-port",
        type=_args.port,
        default=defaults.otlp_http_port,
        metavar="PORT",
        help=f"OTLP/HTTP port (default: {defaults.otlp_http_port})",
    )
    p.add_argument(
        "--retention",
        type=_args.retention,
        default=defaults.retention_seconds,
        metavar="DURATION",
        help="drop data older than this, e.g. 12h, 7d, 4w; 0 or off keeps everything "
        f"(default: {retention_default})",
    )
    p.add_argument(
        "--query-timeout",
        type=_args.retention,
        default=defaults.query_timeout_seconds,
        metavar="DURATION",
        help="stop a PromQL query that runs longer, e.g. 30s, 2m; 0 or off: no limit (default: 2m)",
    )
    p.add_argument(
        "--self-telemetry",
        action="store_true",
        help="also store otelite's own traces (queries, storage writes) and metrics, as the "
        "service 'otelite' (with --multi-tenant, in the tenant 'otelite')",
    )
    _add_pipeline(p.add_argument_group("pipeline", "See README.md, 'The pipeline file'."))
    _add_slos(p.add_argument_group("SLOs", "See README.md, section SLOs."))
    _add_limits(p.add_argument_group("limits", "See SECURITY.md for what each limit does."))
    access = p.add_argument_group(
        "access",
        "A token file has a token (or sha256:<its digest>) per line, optionally followed by "
        "tenant=a,b (needs --multi-tenant) and rights=ingest,query,operator; see SECURITY.md. "
        "Plain tokens are also read, comma-separated, from $OTELITE_TOKENS, "
        "$OTELITE_INGEST_TOKENS and $OTELITE_QUERY_TOKENS (never from arguments, which other "
        "users can see). /healthz, /readyz and the web UI's page and static files stay open.",
    )
    access.add_argument(
        "--token-file",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="bearer tokens with their tenants and rights (repeatable)",
    )
    access.add_argument(
        "--ingest-token-file",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="bearer tokens with the ingest right only (repeatable)",
    )
    access.add_argument(
        "--query-token-file",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="bearer tokens with the query (and operator) rights only (repeatable)",
    )
    access.add_argument(
        "--tls-cert", type=Path, metavar="FILE", help="PEM certificate: serve every port over TLS"
    )
    access.add_argument(
        "--tls-key", type=Path, metavar="FILE", help="the certificate's unencrypted PEM key"
    )
    tenants = p.add_argument_group(
        "tenants",
        "With --multi-tenant, the X-Scope-OrgID header (gRPC metadata x-scope-orgid) picks a "
        "tenant on ingest and on every query, and each tenant's data is kept apart, in "
        "DATA_DIR/tenants/<tenant>/. Without it the header is ignored.",
    )
    tenants.add_argument(
        "--multi-tenant", action="store_true", help="keep each tenant's data apart (default: off)"
    )
    tenants.add_argument(
        "--max-tenants",
        type=_args.positive_int,
        default=Tenancy().max_tenants,
        metavar="N",
        help="refuse (403) writes that would add a tenant past N (default: %(default)s)",
    )
    tenants.add_argument(
        "--default-tenant",
        type=_args.tenant_id,
        metavar="TENANT",
        help="the tenant of requests without X-Scope-OrgID (default: none; they are refused)",
    )
    alerts = p.add_argument_group(
        "alerts",
        "Firing and resolved alerts are posted to each webhook in Alertmanager's webhook "
        "format, retried until delivered, and kept in DATA_DIR (each tenant's own) until "
        "then; see README.md, 'Alert notifications'.",
    )
    alerts.add_argument(
        "--alert-webhook",
        type=_alert_webhook,
        action="append",
        default=[],
        metavar="'URL [name=NAME] [token-file=FILE] [header=NAME:VALUE]'",
        help="a receiver of alert notifications (repeatable); the token file's first line "
        "is sent as a bearer token",
    )
    alerts.add_argument(
        "--alert-external-url",
        metavar="URL",
        help="the externalURL of notifications (default: the query API's URL)",
    )
    alerts.add_argument(
        "--alert-repeat-interval",
        type=_args.optional(_args.positive_duration),
        default=Config().alert_repeat_seconds,
        metavar="DURATION",
        help="send an alert that keeps firing again after this long, as Alertmanager's "
        "repeat_interval; off or e.g. 1h (default: 4h)",
    )
    p.set_defaults(run=_serve, error=p.error)


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> Config:
    """The ``Config`` that ``otelite serve`` options (and token variables) describe.

    Raises ``ValueError`` for tokens that cannot be read or used, for a TLS
    certificate without its key or the reverse, and for tenant options without
    ``--multi-tenant``.
    """
    # Imported here so that client commands do not load the server's dependencies.
    from otelite.access import Right, read_tokens

    if not args.multi_tenant and args.default_tenant is not None:
        raise ValueError("--default-tenant needs --multi-tenant")
    return Config(
        data_dir=None if args.memory else args.data_dir,
        host=args.host,
        port=args.port,
        otlp_grpc_port=args.otlp_grpc_port,
        otlp_http_port=args.otlp_http_port,
        retention_seconds=args.retention,
        storage=args.storage,
        create_schema=args.create_schema,
        clickhouse_cluster=args.clickhouse_cluster,
        self_telemetry=args.self_telemetry,
        query_timeout_seconds=args.query_timeout,
        pipeline_file=args.pipeline_file,
        slo_files=tuple(args.slo_file),
        slo_interval_seconds=args.slo_interval,
        alert_webhooks=tuple(args.alert_webhook),
        alert_external_url=args.alert_external_url,
        alert_repeat_seconds=args.alert_repeat_interval,
        limits=_limits_from_args(args),
        access=Access(
            tokens=(
                read_tokens(
                    environ.get("OTELITE_TOKENS"), args.token_file, env_name="$OTELITE_TOKENS"
                )
                + read_tokens(
                    environ.get("OTELITE_INGEST_TOKENS"),
                    args.ingest_token_file,
                    rights=[Right.INGEST],
                    env_name="$OTELITE_INGEST_TOKENS",
                )
                + read_tokens(
                    environ.get("OTELITE_QUERY_TOKENS"),
                    args.query_token_file,
                    rights=[Right.QUERY, Right.OPERATOR],
                    env_name="$OTELITE_QUERY_TOKENS",
                )
            ),
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
        ),
        tenancy=Tenancy(
            enabled=args.multi_tenant,
            max_tenants=args.max_tenants,
            default_tenant=args.default_tenant,
        ),
    )


def _add_pipeline(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--pipeline-file",
        type=Path,
        metavar="FILE",
        help="processors to run on everything accepted, before it is stored (redaction); "
        "see README.md, 'The pipeline file'. Check one with `otelite pipeline check FILE`",
    )


def _add_slos(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--slo-file",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="OpenSLO documents (YAML) to apply at start, as `otelite slo apply` does; with "
        "--multi-tenant, to the --default-tenant (repeatable)",
    )
    group.add_argument(
        "--slo-interval",
        type=_args.positive_duration,
        default=Config().slo_interval_seconds,
        metavar="DURATION",
        help="how often every SLO's burn-rate alerts are evaluated (default: 1m)",
    )


def _add_limits(group: argparse._ArgumentGroup) -> None:
    limits = Limits()
    group.add_argument(
        "--max-request-size",
        type=_args.size,
        default=limits.max_request_bytes,
        metavar="SIZE",
        help="largest OTLP request, after decompression (default: 64MiB)",
    )
    group.add_argument(
        "--max-queue-size",
        type=_args.size,
        default=limits.max_queue_bytes,
        metavar="SIZE",
        help="accepted data waiting for storage before clients are told to retry (default: 64MiB)",
    )
    group.add_argument(
        "--ingest-rate",
        type=_args.optional(_args.size),
        default=limits.ingest_rate_bytes,
        metavar="SIZE",
        help="bytes per second one client (tenant header, else address) may send; "
        "off or a size such as 10MiB (default: off)",
    )
    group.add_argument(
        "--ingest-burst",
        type=_args.size,
        default=limits.ingest_burst_bytes,
        metavar="SIZE",
        help="how far a client may run ahead of --ingest-rate (default: twice the rate)",
    )
    group.add_argument(
        "--max-attributes",
        type=_args.optional(_args.positive_int),
        default=limits.max_attributes,
        metavar="N",
        help=f"attributes kept per span, event, link, log record, resource or scope; "
        f"off or a number (default: {limits.max_attributes})",
    )
    group.add_argument(
        "--max-attribute-value-length",
        type=_args.optional(_args.positive_int),
        default=limits.max_attribute_value_length,
        metavar="N",
        help="longer string (characters) and bytes values are truncated; off or a number "
        f"(default: {limits.max_attribute_value_length})",
    )
    group.add_argument(
        "--max-future",
        type=_args.retention,
        default=limits.max_future_seconds,
        metavar="DURATION",
        help="reject records stamped further ahead of this server's clock; off or e.g. 10m "
        "(default: 1d)",
    )
    group.add_argument(
        "--max-past",
        type=_args.retention,
        default=limits.max_past_seconds,
        metavar="DURATION",
        help="reject records stamped further back; off or e.g. 30d (default: off, so that "
        "old exports can be imported)",
    )


def _limits_from_args(args: argparse.Namespace) -> Limits:
    return Limits(
        max_request_bytes=args.max_request_size,
        max_queue_bytes=args.max_queue_size,
        max_attributes=args.max_attributes,
        max_attribute_value_length=args.max_attribute_value_length,
        max_future_seconds=args.max_future,
        max_past_seconds=args.max_past,
        ingest_rate_bytes=args.ingest_rate,
        ingest_burst_bytes=args.ingest_burst,
    )


def _serve(args: argparse.Namespace) -> int:
    ports = {
        "--port": args.port,
        "--otlp-grpc-port": args.otlp_grpc_port,
        "--otlp-http-port": args.otlp_http_port,
    }
    taken: dict[int, str] = {}
    for option, number in ports.items():
        if number and number in taken:
            args.error(f"{taken[number]} and {option} are both {number}; give each its own port")
        taken[number] = option
    try:
        config = config_from_args(args)
        if config.pipeline_file is not None:
            # Checked here too, so that a mistake reads as one, not as a failed start.
            from otelite.pipeline import read_pipeline_file

            read_pipeline_file(config.pipeline_file)
    except ValueError as error:
        args.error(str(error))
    # Imported here so that client commands do not load the server's dependencies.
    from otelite.server import run

    return run(config)


def _storage(text: str) -> StorageLocation:
    try:
        return parse_storage(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _alert_webhook(text: str) -> Webhook:
    try:
        return parse_webhook(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
