"""Inserts of whole row groups: what is carried, what counts as stored, and replay after a
crash while rows were carried."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

from otelite.pipeline import PipelineStats
from otelite.pipeline._align import ALIGNED_TABLES, Progress, RowGroupAligner
from otelite.pipeline._batcher import QueuedRequest
from otelite.pipeline._flatten import FlattenPool
from otelite.pipeline._stats import count_items
from otelite.pipeline._wal import WriteAheadLog
from otelite.pipeline._writer import BatchWriter
from otelite.types import Signal

from .conftest import (
    RecordingStorage,
    make_logs,
    make_metrics,
    make_pipeline,
    make_traces,
    rows_by_tag,
)

SPANS = ALIGNED_TABLES[Signal.TRACES]
LOGS = ALIGNED_TABLES[Signal.LOGS]
GAUGE = "otel_metrics_gauge"


@dataclass(frozen=True)
class Request:
    seq: int | None
    signal: Signal
    items: int


def rows(first: int, count: int) -> pa.Table:
    return pa.table({"row": list(range(first, first + count))})


def test_a_backlog_inserts_whole_row_groups_and_carries_the_rest() -> None:
    aligner = RowGroupAligner(rows=10)
    a, b = Request(1, Signal.TRACES, 6), Request(2, Signal.TRACES, 7)
    plan = aligner.plan(
        [a, b], {SPANS: rows(0, 13), "otel_traces_trace_id_ts": rows(0, 2)}, drain=False
    )
    assert plan.tables[SPANS].column("row").to_pylist() == list(range(10))
    assert plan.tables["otel_traces_trace_id_ts"].num_rows == 2  # other tables go whole
    assert plan.done == [a]
    assert plan.wal_position == 1
    assert plan.progress == Progress({"traces": 1}, {SPANS: 4})  # 4 of b's 7 rows stored
    aligner.commit(plan)
    assert aligner.carried_rows == 3

    # Points are never carried: stored with their batch, though b still blocks the log.
    c = Request(3, Signal.METRICS, 5)
    plan = aligner.plan([c], {GAUGE: rows(0, 5)}, drain=False)
    assert set(plan.tables) == {GAUGE}
    assert plan.done == [c]
    assert plan.wal_position is None
    assert plan.progress == Progress({"traces": 1, "metrics": 3}, {SPANS: 4})
    aligner.commit(plan)

    # The backlog ends: everything carried goes in.
    plan = aligner.plan([], {}, drain=True)
    assert plan.tables[SPANS].column("row").to_pylist() == [10, 11, 12]
    assert plan.done == [b]
    assert plan.wal_position == 2
    assert plan.progress == Progress({"traces": 2, "metrics": 3}, {})
    aligner.commit(plan)
    assert aligner.carried_rows == 0


def test_signals_are_carried_apart_and_complete_in_order() -> None:
    aligner = RowGroupAligner(rows=4)
    t1, l1, t2 = (
        Request(1, Signal.TRACES, 3),
        Request(2, Signal.LOGS, 5),
        Request(3, Signal.TRACES, 3),
    )
    plan = aligner.plan([t1, l1, t2], {SPANS: rows(0, 6), LOGS: rows(100, 5)}, drain=False)
    assert plan.tables[SPANS].num_rows == 4 and plan.tables[LOGS].num_rows == 4
    assert plan.done == [t1]
    assert plan.wal_position == 1
    assert plan.progress == Progress({"traces": 1}, {SPANS: 1, LOGS: 4})


def test_a_plan_not_committed_changes_nothing() -> None:
    aligner = RowGroupAligner(rows=10)
    request = Request(1, Signal.TRACES, 13)
    first = aligner.plan([request], {SPANS: rows(0, 13)}, drain=False)
    again = aligner.plan([request], {SPANS: rows(0, 13)}, drain=False)  # a retried write
    assert first.tables[SPANS].equals(again.tables[SPANS])
    assert first.progress == again.progress == Progress({}, {SPANS: 10})


def test_replay_drops_the_rows_stored_before_the_crash() -> None:
    stored = Progress.decode(Progress({"traces": 1, "metrics": 3}, {SPANS: 4}).encode())
    assert stored == Progress({"traces": 1, "metrics": 3}, {SPANS: 4})
    assert stored.stored(3, Signal.METRICS) and not stored.stored(2, Signal.TRACES)
    assert Progress.decode("") == Progress()
    aligner = RowGroupAligner(progress=stored, rows=10)
    b = Request(2, Signal.TRACES, 7)  # replayed: 4 of its rows are in storage already
    plan = aligner.plan([b], {SPANS: rows(0, 7)}, drain=True)
    assert plan.tables[SPANS].column("row").to_pylist() == [4, 5, 6]
    assert plan.done == [b]
    assert plan.progress.pending == {}


def test_a_request_stored_in_part_on_both_sides_of_a_replay_batch() -> None:
    aligner = RowGroupAligner(progress=Progress({}, {SPANS: 5}), rows=10)
    first = aligner.plan([Request(1, Signal.TRACES, 3)], {SPANS: rows(0, 3)}, drain=True)
    assert SPANS not in first.tables  # all three were stored before
    assert first.progress.pending == {SPANS: 2}  # the next request's first two still are
    aligner.commit(first)
    second = aligner.plan([Request(2, Signal.TRACES, 4)], {SPANS: rows(0, 4)}, drain=True)
    assert second.tables[SPANS].column("row").to_pylist() == [2, 3]
    assert second.wal_position == 2


@pytest.mark.anyio
async def test_a_crash_while_rows_are_carried_stores_every_row_once(tmp_path: Path) -> None:
    # Requests only the write-ahead log holds (storage frozen), as a process that died.
    frozen = RecordingStorage()
    frozen.freeze()
    first = make_pipeline(frozen, tmp_path)
    await first.start()
    sent = {}
    for i in range(4):
        for tag, request in (
            (f"t{i}", make_traces(f"t{i}", spans=7)),
            (f"l{i}", make_logs(f"l{i}", records=4)),
            (f"m{i}", make_metrics(f"m{i}", points=5)),
        ):
            await first.consume(_signal(tag), request)
            sent[tag] = count_items(request)

    # A writer with row groups of 10 rows stores most of it, carrying the rest; then dies.
    disk = RecordingStorage()
    pool = FlattenPool()
    pool.start()
    try:
        writer = BatchWriter(
            disk,  # type: ignore[arg-type]
            flattener=pool,
            stats=PipelineStats(),
            max_items=1000,
            max_delay=0,
            retry_initial=0.01,
            retry_max=0.01,
            max_insert_items=10,
        )
        wal = WriteAheadLog.open(tmp_path)
        logged = [
            QueuedRequest(
                r.seq,
                r.signal,
                r.payload,
                0,
                count_items(r.signal.request_type.FromString(r.payload)),
            )
            for r in wal.records(0)
        ]
        writer.write(logged[:5], drain=False)
        writer.write(logged[5:9], drain=False)
    finally:
        pool.close()
    assert writer._aligner.carried_rows > 0, "the crash must come while rows are carried"
    assert 0 < disk.wal_position() < len(logged)
    after_crash = disk.clone()

    second = make_pipeline(after_crash, tmp_path, row_group_rows=10)
    await second.start()
    await second.shutdown()
    assert rows_by_tag(after_crash) == sent
    assert after_crash.wal_position() == len(logged)
    frozen.thaw()


def _signal(tag: str) -> Signal:
    return {"t": Signal.TRACES, "l": Signal.LOGS, "m": Signal.METRICS}[tag[0]]
