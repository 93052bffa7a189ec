"""The ``otelite`` command line.

``otelite serve`` runs the server. Every other command is a client of a running server:
the embedded database has a single writer, so clients go through the HTTP query API
(``--url``, default ``$OTELITE_URL`` or ``http://127.0.0.1:3200``) or, for ``import``, the
OTLP/HTTP receiver.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from otelite import __version__
from otelite._cli import (
    _compare,
    _critical_path,
    _demo,
    _deployments,
    _export,
    _import,
    _logql,
    _mcp,
    _pipeline,
    _promql,
    _query,
    _serve,
    _slo,
    _trace,
    _traceql,
)
from otelite._cli._client import CliError, add_access_arguments, url_default

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; each sets ``run`` to its handler."""
    parser = argparse.ArgumentParser(
        prog="otelite",
        description="An OpenTelemetry-native backend: OTLP traces, metrics and logs, "
        "stored in DuckDB.",
    )
    parser.add_argument("--version", action="version", version=f"otelite {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--url",
        default=url_default(),
        help="the otelite query API (default: $OTELITE_URL or %(default)s)",
    )
    connection.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for an answer (default: %(default)s)",
    )
    add_access_arguments(connection)
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument(
        "--json", action="store_true", help="print the server's JSON answer as it is"
    )

    _serve.register(commands)
    _export.register(commands, connection)
    _import.register(commands)
    _demo.register(commands)
    _query.register(commands, [connection, output])
    _trace.register(commands, [connection, output])
    _compare.register(commands, [connection, output])
    _traceql.register(commands, [connection, output])
    _promql.register(commands, [connection, output])
    _logql.register(commands, [connection, output])
    _deployments.register(commands, [connection, output])
    _critical_path.register(commands, [connection, output])
    _slo.register(commands, [connection, output])
    _mcp.register(commands, [connection])
    _pipeline.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``otelite`` command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except CliError as error:
        print(f"otelite: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("otelite: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`otelite logs | head`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code
