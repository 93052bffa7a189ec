"""``otelite pipeline check FILE``: a pipeline file checked as ``serve`` would, without
starting anything."""

from __future__ import annotations

import argparse
from pathlib import Path

from otelite._cli import _args
from otelite._cli._client import CliError

__all__ = ["register"]


def register(commands: _args.Commands) -> None:
    """Add ``pipeline check``."""
    p = commands.add_parser("pipeline", help="work with pipeline files (--pipeline-file)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="check a pipeline file without starting otelite",
        description="Read FILE as `otelite serve --pipeline-file FILE` would, and say what "
        "it runs, or the first problem (file, line and key) and exit 1.",
    )
    check.add_argument("file", type=Path, metavar="FILE")
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    from otelite.pipeline import PipelineFileError, RedactionRules, read_pipeline_file

    try:
        found = read_pipeline_file(args.file)
    except PipelineFileError as error:
        raise CliError(str(error)) from None
    print(f"{args.file}: ok")
    for processor in found.processors:
        if isinstance(processor, RedactionRules):
            mode = "allow-list" if processor.allow_keys is not None else "rules"
            print(
                f"  redaction ({mode}): {len(processor.key_rules)} key rules, "
                f"{len(processor.value_rules)} value patterns, summary {processor.summary}"
            )
    if found.tail_sampling is not None:
        print(f"  {found.tail_sampling.describe()}")
    for exporter in found.exporters:
        # Headers are named, never shown: their values are often secrets.
        headers = f", headers {', '.join(exporter.headers)}" if exporter.headers else ""
        signals = ", ".join(s for s in ("traces", "metrics", "logs") if s in exporter.signals)
        own = ["redaction"] if exporter.processors else []
        own += ["tail_sampling"] if exporter.tail_sampling is not None else []
        processors = f", processors {', '.join(own)}" if own else ""
        print(
            f"  exporter {exporter.name}: {exporter.protocol} to {exporter.shown_endpoint}, "
            f"signals {signals}, compression {exporter.compression}, "
            f"queue {exporter.max_queue_bytes} bytes{processors}{headers}"
        )
        if exporter.tail_sampling is not None:
            print(f"    {exporter.tail_sampling.describe()}")
    return 0
