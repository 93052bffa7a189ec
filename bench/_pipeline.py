"""Ingest through the pipeline file: the same spans into two DuckDB servers, one plain and
one running the file's processors (ten redaction rules, then tail sampling), taking turns
run by run, so that the cost of the processors is a ratio of one run's figures, not of
two runs'.

The ratio is of sustained spans/s (until every span is stored), with the decision wait
taken out of the processed server's wait for storage. Acknowledged rates would be unfair
to every processor: a plain server answers once a request is in its write-ahead log and
stores it afterwards, while processors run before the answer (ten redaction rules alone
cost a quarter of the acknowledged rate and nothing of the sustained one). But tail
sampling stores each trace ``decision_wait`` after its first span by design, which a run
of a few seconds would count as slowness; that configured wait, and only it, is taken
out. The decision tick (up to a second after the wait, half on average) still counts
against the sampler."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bench._format import TIMES, rate, summary_text
from bench._ingest import IngestRun, IngestSeries, ingest_turns
from bench._send import Transport
from bench._server import OteliteProcess
from bench._stats import paired_ratios, summarize
from bench._workload import Pool

__all__ = [
    "DECISION_WAIT_SECONDS",
    "PIPELINE_LIMIT",
    "PipelineRun",
    "pipeline_ratios",
    "pipeline_section",
    "run_pipeline",
    "waited_out",
]

PIPELINE_LIMIT = 0.85
"""Ingest through the processors keeps at least this share of the plain sustained rate
(at most 15% slower, in the same run; the decision wait taken out)."""
KEY_ENV = "OTELITE_BENCH_REDACTION_KEY"
DECISION_WAIT_SECONDS = 1.0
"""The file's ``decision_wait``."""
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
  # Each run waits until every acknowledged span is stored, so a sampler that drops
  # traces could not be measured: the last policy keeps what the others do not, and all
  # three run on every trace. A short wait keeps each run's wait for storage short.
  tail_sampling:
    decision_wait: 1s
    policies:
      - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
      - {name: slow, type: latency, latency: {threshold_ms: 1000}}
      - {name: rest, type: probabilistic, probabilistic: {sampling_percentage: 100}}
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
    """Sustained spans/s through the pipeline file (the decision wait taken out) over
    plain, run by run."""
    return paired_ratios(
        [waited_out(r) for r in found.processed.runs], [r.stored_rate for r in found.plain.runs]
    )


def waited_out(run: IngestRun) -> float:
    """Sustained spans/s of a run through the file, ``DECISION_WAIT_SECONDS`` taken out of
    its wait for storage."""
    lag = max(0.0, run.queryable_after - DECISION_WAIT_SECONDS)
    return run.sent.items / (run.sent.seconds + lag)


def pipeline_section(found: PipelineRun | None) -> list[str]:
    lines = ["", "## Ingest through the pipeline file", ""]
    if found is None:
        return [*lines, "Not run."]
    ratios = pipeline_ratios(found)
    lines += [
        "Traces over OTLP/HTTP from "
        f"{found.plain.senders} senders into two DuckDB servers taking turns run by run: one",
        "plain, one with `--pipeline-file` running the processors below. Judged on",
        "sustained spans/s (until every span is stored), with the file's decision wait",
        f"({DECISION_WAIT_SECONDS:g} s: tail sampling stores each trace that long after its",
        "first span, by design) taken out of its wait for storage; the decision tick (up",
        "to a second more) still counts. Stored after: seconds from the last",
        "acknowledgement until every span was stored.",
        "",
        "| server | acknowledged spans/s | stored after (s) | sustained spans/s | judged |",
        "|---|---|---|---|---|",
        _row("plain", found.plain, [r.stored_rate for r in found.plain.runs]),
        _row(
            "through the pipeline file",
            found.processed,
            [waited_out(r) for r in found.processed.runs],
        ),
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


def _row(name: str, series: IngestSeries, judged: list[float]) -> str:
    acknowledged = summarize([r.acknowledged_rate for r in series.runs])
    after = summarize([r.queryable_after for r in series.runs])
    sustained = summarize([r.stored_rate for r in series.runs])
    return (
        f"| {name} | {summary_text(acknowledged, rate)} | {summary_text(after, _seconds)} | "
        f"{summary_text(sustained, rate)} | {summary_text(summarize(judged), rate)} |"
    )


def _seconds(value: float) -> str:
    return f"{value:.1f}"


def _times(value: float) -> str:
    return f"{value:.2f}{TIMES}"
