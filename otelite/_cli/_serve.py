"""``otelite serve``: options → ``Config`` → the server."""

from __future__ import annotations

import argparse
from pathlib import Path

from otelite._cli import _args
from otelite.config import Config

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
    p.set_defaults(run=_serve, error=p.error)


def config_from_args(args: argparse.Namespace) -> Config:
    """The ``Config`` that ``otelite serve`` options describe."""
    return Config(
        data_dir=None if args.memory else args.data_dir,
        host=args.host,
        port=args.port,
        otlp_grpc_port=args.otlp_grpc_port,
        otlp_http_port=args.otlp_http_port,
        retention_seconds=args.retention,
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
    config = config_from_args(args)
    # Imported here so that client commands do not load the server's dependencies.
    from otelite.server import run

    return run(config)
