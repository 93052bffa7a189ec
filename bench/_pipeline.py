"""Ingest through the pipeline file: the same spans into two DuckDB servers, one plain and
one running the file's processors (ten redaction rules), taking turns run by run, so that
the cost of the processors is a ratio of one run's figures, not of two runs'."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bench._format import TIMES, rate, summary_text
from bench._ingest import IngestSeries, ingest_turns
from bench._send import Transport
from bench._server import OteliteProcess
from bench._stats import paired_ratios, summarize
from bench._workload import Pool

__all__ = ["PIPELINE_LIMIT", "PipelineRun", "pipeline_ratios", "pipeline_section", "run_pipeline"]

PIPELINE_LIMIT = 0.85
"""Ingest through the processors keeps at least this share of the plain rate (the
issue: at most 15% slower, in the same run)."""
KEY_ENV = "OTELITE_BENCH_REDACTION_KEY"
PIPELINE_FILE = """\
processors:
  redaction:
    hash_key_env: OTELITE_BENCH_REDACTION_KEY
    rules:
      - {keys: [user.password, http.request.header.authorization, db.password], action: delete}
      - {key_pattern: '(?i)secret|token|passw', action: mask}
      - {keys: [user.id, enduser.id], action: hash}
      - {values: [credit_card], action: mask}
      - {values: [email], action: mask}
      - {values: [bearer_token], action: mask}
      - {values: [jwt], action: mask}
      - {values: [aws_access_key], action: mask}
      - {values: [us_ssn], action: delete}
      - {value_pattern: 'acct-\\d{6}', action: hash}
"""


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """The same trace workload, plain and through the pipeline file."""

    plain: IngestSeries
    processed: IngestSeries
    file_text: str


def run_pipeline(
    pool: Pool, *, transport: Transport, senders: int, runs: int, workdir: Path
) -> PipelineRun:
    """Ingest ``pool`` ``runs`` times into a plain DuckDB server and one with
    ``--pipeline-file``, taking turns."""
    path = workdir / "pipeline.yaml"
    path.write_text(PIPELINE_FILE)
    os.environ.setdefault(KEY_ENV, "bench-key")  # the servers inherit it
    servers = [
        OteliteProcess.under(workdir, "duckdb", label="plain"),
        OteliteProcess.under(
            workdir, "duckdb", label="pipeline", extra_args=("--pipeline-file", str(path))
        ),
    ]
    plain, processed = ingest_turns(servers, pool, transport=transport, senders=senders, runs=runs)
    return PipelineRun(plain, processed, PIPELINE_FILE)


def pipeline_ratios(found: PipelineRun) -> list[float]:
    """Sustained spans/s through the pipeline file over plain, run by run."""
    return paired_ratios(
        [r.stored_rate for r in found.processed.runs], [r.stored_rate for r in found.plain.runs]
    )


def pipeline_section(found: PipelineRun | None) -> list[str]:
    lines = ["", "## Ingest through the pipeline file", ""]
    if found is None:
        return [*lines, "Not run."]
    ratios = pipeline_ratios(found)
    lines += [
        "Traces over OTLP/HTTP from "
        f"{found.plain.senders} senders into two DuckDB servers taking turns run by run: one",
        "plain, one with `--pipeline-file` running the processors below. Sustained spans/s:",
        "",
        "| server | sustained spans/s |",
        "|---|---|",
        f"| plain | {summary_text(summarize([r.stored_rate for r in found.plain.runs]), rate)} |",
        "| through the pipeline file | "
        f"{summary_text(summarize([r.stored_rate for r in found.processed.runs]), rate)} |",
        "",
        f"Through the file over plain, run by run: {summary_text(summarize(ratios), _times)}"
        if ratios
        else "No run to compare.",
        "",
        "The pipeline file:",
        "",
        "```yaml",
        *found.file_text.rstrip().splitlines(),
        "```",
    ]
    return lines


def _times(value: float) -> str:
    return f"{value:.2f}{TIMES}"
