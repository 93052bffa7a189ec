"""Tail sampling: hold each trace's spans for ``decision_wait``, then keep it whole or not.

``TailSampler`` is a ``Consumer`` between the pipeline file's other processors and the
ingest pipeline. Metrics and logs pass straight through. Spans are cut by trace id
(``otelite.otlp.by_trace``, resource and scope kept) and held; ``tick`` decides every trace
whose first span came ``decision_wait`` ago (by the injected clock) and hands the kept
ones on, one request per tenant, to the next consumer. Traces of different tenants are
kept apart (a trace is a tenant and a trace id); ``num_traces`` bounds them all together.

Memory is bounded by ``num_traces``: past it, the oldest held trace is decided at once
(counted as decided early). With a log, each held piece is also kept as written (about
its size again), so that kept traces are handed on as joined bytes, not copied.
Decisions are remembered in two bounded LRU caches (kept, dropped), so spans arriving
after their trace was decided follow its decision (counted as late spans); a trace
forgotten by the cache starts afresh.

Durability (with a data directory): a request is acknowledged only once the spans held
from it are synced to the sampler's own log (``SamplingLog``); a decision is recorded
there once it is carried out (kept spans accepted downstream, which makes them durable in
the ingest write-ahead log). On start, the held spans of undecided traces are held again
and decided after a fresh ``decision_wait``; spans already carried out are not handed on
again. A crash between handing kept spans on and recording the decision hands them on
once more after the restart (stored twice, never lost). Shutdown leaves held spans in the
log for the next start. Decisions survive a restart while the log still needs them
(until their traces' held records are all deleted); the cache is rebuilt from those.
Without a data directory nothing is durable (memory mode): shutdown decides every held
trace and hands the kept ones on. Kept traces the next consumer refuses for now
(overloaded, unavailable) wait and are offered again on each tick; while as many wait as
``num_traces``, new traces are refused (``Overloaded``). A refusal for good (a tenant
beyond ``max_tenants``) is logged and the trace is let go: the client was answered
before the tenant was checked.

Concurrency. Held pieces of concurrent requests are synced together (``HeldCommitter``,
one sync at a time, in a thread); the lock guards only deciding and carrying out
(``tick``, the early decisions), which await the next consumer. A request is sorted
(late, or to hold) and its pieces are submitted without the lock: both are plain code
between awaits, so nothing interleaves with them. A piece is registered in the held
traces only once it is synced, in a callback run on the event loop before its client is
answered (even if the client has gone meanwhile), and only registered pieces are ever
decided. Hence:

* A failed group sync registers nothing: its requests are refused (``Unavailable``) and
  retried by their clients; no decision names their sequence numbers, which are
  abandoned, so a sequence reused after a restart is never taken for settled. (If the
  failed write reached the disk all the same, a replay hands it on besides the retry:
  at least once, as for a crash before a decision is recorded.)
* A trace decided while one of its pieces is being synced: the piece is registered
  after the decision, as a pending trace of its own, and carried out on a later tick
  following the remembered decision (counted as late spans). If the trace was kept and
  still waits for the next consumer, the piece joins it, so that one decision record
  settles both once handed on: recorded alone, its decision (which names the highest
  sequence) would settle the waiting pieces too, and a crash would lose them.
* A decision recorded for a piece settled alone covers earlier pieces of its trace only
  when they are settled already, or were handed on (or dropped) and their record
  failed: either way a replay must not hand them on again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from otelite.errors import Overloaded, PermanentError, RetryableError, Unavailable
from otelite.otlp import by_trace
from otelite.pipeline._consumer import Consumer
from otelite.pipeline._held_commit import HeldCommitter
from otelite.pipeline._pipeline_file import Node
from otelite.pipeline._sampling_log import Decision, SamplingLog
from otelite.pipeline._sampling_policies import HeldTrace, Policy, parse_policies
from otelite.pipeline._stats import count_items
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, ExportTraceServiceRequest, Signal

__all__ = ["TAIL_SAMPLING_DIR", "SamplingStats", "TailSampler", "TailSamplingSettings"]

logger = logging.getLogger(__name__)

TAIL_SAMPLING_DIR = "tail-sampling"
"""The sampler's log, in the data directory."""

_Key = tuple[str, bytes]


@dataclass(frozen=True, slots=True)
class TailSamplingSettings:
    """``processors: tail_sampling:`` of the pipeline file."""

    policies: tuple[Policy, ...]
    decision_wait: float = 30.0
    num_traces: int = 50_000
    sampled_cache_size: int = 100_000
    non_sampled_cache_size: int = 100_000

    @classmethod
    def parse(cls, node: Node) -> TailSamplingSettings:
        given = node.mapping("decision_wait", "num_traces", "decision_cache", "policies")
        if "policies" not in given:
            raise node.problem("policies: required")
        policies = parse_policies(given["policies"])
        options: dict[str, float | int] = {}
        if "decision_wait" in given:
            options["decision_wait"] = given["decision_wait"].duration()
        if "num_traces" in given:
            options["num_traces"] = given["num_traces"].integer(minimum=1)
        if "decision_cache" in given:
            cache = given["decision_cache"].mapping("sampled_cache_size", "non_sampled_cache_size")
            for name, value in cache.items():
                options[name] = value.integer()
        return cls(policies, **options)  # type: ignore[arg-type]

    def describe(self) -> str:
        """One line for ``otelite pipeline check``."""
        names = ", ".join(policy.name for policy in self.policies)
        return (
            f"tail_sampling: decision_wait {self.decision_wait:g}s, num_traces "
            f"{self.num_traces}, policies {names}"
        )


@dataclass(slots=True)
class SamplingStats:
    """What the sampler counts, for otelite's own metrics."""

    kept: int = 0
    dropped: int = 0
    decided_early: int = 0
    """Traces decided before their wait was over, to stay within ``num_traces``."""
    late_kept: int = 0
    late_dropped: int = 0
    """Spans that came after their trace's decision, handed on or dropped with it."""
    replayed_traces: int = 0
    policies: dict[str, list[int]] = field(default_factory=dict)
    """By policy name: [traces it alone would keep, traces it alone would drop]."""


@dataclass(slots=True)
class _Pending:
    trace: HeldTrace
    since: float
    seqs: list[int] = field(default_factory=list)
    serialized: list[bytes] = field(default_factory=list)
    """The pieces as written to the log (with one): handed on as they are."""


class _Decisions:
    """Two bounded LRU maps of decided traces: kept and dropped."""

    def __init__(self, kept_size: int, dropped_size: int) -> None:
        self._maps = {True: OrderedDict[_Key, None](), False: OrderedDict[_Key, None]()}
        self._sizes = {True: kept_size, False: dropped_size}

    def get(self, key: _Key) -> bool | None:
        for kept, decided in self._maps.items():
            if key in decided:
                decided.move_to_end(key)
                return kept
        return None

    def put(self, key: _Key, kept: bool) -> None:
        self._maps[not kept].pop(key, None)
        decided = self._maps[kept]
        decided[key] = None
        decided.move_to_end(key)
        while len(decided) > self._sizes[kept]:
            decided.popitem(last=False)


class TailSampler:
    """A ``Consumer`` holding spans until their trace is decided (see the module docstring).

    ``log_dir`` is where held spans and decisions are kept durably (None: memory only).
    ``clock`` gives seconds (monotonic). ``interval`` is how often the background task
    decides due traces; None runs no task (the caller calls ``tick``).
    """

    def __init__(
        self,
        next_consumer: Consumer,
        settings: TailSamplingSettings,
        *,
        log_dir: Path | None,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = 1.0,
    ) -> None:
        self._next = next_consumer
        self._settings = settings
        self._log_dir = log_dir
        self._log: SamplingLog | None = None
        self._clock = clock
        self._interval = interval
        self._held: OrderedDict[_Key, _Pending] = OrderedDict()
        self._handing: dict[_Key, _Pending] = {}
        """Kept traces the next consumer refused for now; retried on each tick."""
        self._committer: HeldCommitter | None = None
        self._decisions = _Decisions(settings.sampled_cache_size, settings.non_sampled_cache_size)
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.stats = SamplingStats()
        for policy in settings.policies:
            self.stats.policies[policy.name] = [0, 0]

    @property
    def held_traces(self) -> int:
        return len(self._held) + len(self._handing)

    @property
    def held_spans(self) -> int:
        return sum(p.trace.span_count for p in (*self._held.values(), *self._handing.values()))

    async def start(self) -> None:
        """Open the log and hold again what it holds undecided; start deciding."""
        if self._log_dir is not None:
            log_dir = self._log_dir
            try:
                self._log = await asyncio.to_thread(SamplingLog, log_dir)
                decisions, records = await asyncio.to_thread(self._log.replay)
                self._committer = HeldCommitter(self._log)
            except OSError as error:
                raise Unavailable(
                    f"cannot open the tail-sampling log in {log_dir}: {error}"
                ) from error
            for decision in decisions:
                self._decisions.put((decision.tenant, decision.trace_id), decision.kept)
            now = self._clock()
            for record in records:
                pending = self._pending((record.tenant, record.trace_id), now)
                if not pending.seqs:
                    self.stats.replayed_traces += 1
                pending.trace.pieces.append(record.piece)
                pending.trace.span_count += count_items(record.piece)
                pending.seqs.append(record.seq)
                pending.serialized.append(record.serialized)
        if self._interval is not None:
            self._task = asyncio.create_task(self._run(self._interval))

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
    ) -> None:
        if signal is not Signal.TRACES:
            await self._next.consume(signal, request, tenant=tenant, payload=payload)
            return
        assert isinstance(request, ExportTraceServiceRequest)
        # No lock here: sorting and registering are plain code between awaits, and the
        # sync is shared with concurrent requests (see "Concurrency" above).
        if len(self._handing) >= self._settings.num_traces:
            raise Overloaded(
                f"tail sampling holds {len(self._handing)} kept traces storage has not "
                "taken yet; retry later"
            )
        late: list[ExportTraceServiceRequest] = []
        hold: list[tuple[bytes, ExportTraceServiceRequest]] = []
        for trace_id, piece in by_trace(request).items():
            key = (tenant, trace_id)
            kept = None if key in self._held else self._decisions.get(key)
            if kept is None:
                hold.append((trace_id, piece))
            elif kept:
                late.append(piece)
            else:
                self.stats.late_dropped += count_items(piece)
        if late:
            await self._next.consume(Signal.TRACES, _joined(late), tenant=tenant)
            self.stats.late_kept += sum(count_items(piece) for piece in late)
        if not hold:
            return
        if self._committer is None:
            self._register(tenant, hold, [], [])
        else:
            serialized = [piece.SerializeToString() for _, piece in hold]
            synced = self._committer.submit(
                [(tenant, payload) for payload in serialized],
                lambda seqs: self._register(tenant, hold, seqs, serialized),
            )
            error = await asyncio.shield(synced)
            if error is not None:
                raise Unavailable(f"cannot write the tail-sampling log: {error}") from error
        if len(self._held) > self._settings.num_traces:
            async with self._lock:
                early: list[_Pending] = []
                while len(self._held) > self._settings.num_traces:
                    early.append(self._held.popitem(last=False)[1])
                if early:
                    self.stats.decided_early += len(early)
                    await self._carry_out(early, self._clock())

    async def tick(self) -> None:
        """Decide every trace whose wait is over; retry handing on refused kept traces."""
        async with self._lock:
            now = self._clock()
            due: list[_Pending] = []
            while self._held:
                oldest = next(iter(self._held.values()))
                if oldest.since + self._settings.decision_wait > now:
                    break
                due.append(self._held.popitem(last=False)[1])
            if self._handing:
                retry, self._handing = self._handing, {}
                await self._hand_on(list(retry.values()))
            if due:
                await self._carry_out(due, now)

    async def shutdown(self) -> None:
        """Stop deciding. With a log, held spans stay in it for the next start; in memory
        mode every held trace is decided now and kept ones handed on. Idempotent."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._committer is not None:
            # Requests being synced are registered first: their spans stay held in the
            # log, or (memory mode has no committer) are decided below.
            await self._committer.idle()
        async with self._lock:
            if self._log is None:
                everything = list(self._held.values())
                self._held.clear()
                self.stats.decided_early += len(everything)
                await self._carry_out(everything, self._clock())
            elif self._handing:
                retry, self._handing = self._handing, {}
                await self._hand_on(list(retry.values()))
            if self._committer is not None:
                await asyncio.to_thread(self._committer.close)
                self._committer = None
            if self._log is not None:
                await asyncio.to_thread(self._log.close)
                self._log = None

    async def _run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick()
            except Exception:
                logger.exception("tail sampling could not decide; trying again")

    def _register(
        self,
        tenant: str,
        hold: list[tuple[bytes, ExportTraceServiceRequest]],
        seqs: list[int],
        serialized: list[bytes],
    ) -> None:
        # Pieces whose trace was decided while they were being synced start a pending
        # trace of their own; _carry_out has it follow the decision.
        now = self._clock()
        for index, (trace_id, piece) in enumerate(hold):
            pending = self._pending((tenant, trace_id), now)
            pending.trace.pieces.append(piece)
            pending.trace.span_count += count_items(piece)
            if seqs:
                pending.seqs.append(seqs[index])
                pending.serialized.append(serialized[index])

    def _pending(self, key: _Key, now: float) -> _Pending:
        pending = self._held.get(key)
        if pending is None:
            pending = self._held[key] = _Pending(HeldTrace(*key), now)
        return pending

    def _decide(self, trace: HeldTrace, now: float) -> bool:
        keep = drop = False
        for policy in self._settings.policies:
            matched = policy.matches(trace, now)
            keeps = matched != policy.drops
            self.stats.policies[policy.name][0 if keeps else 1] += 1
            if matched:
                drop |= policy.drops
                keep |= not policy.drops
        return keep and not drop

    async def _carry_out(self, traces: list[_Pending], now: float) -> None:
        kept: list[_Pending] = []
        dropped: list[_Pending] = []
        for pending in traces:
            key = (pending.trace.tenant, pending.trace.trace_id)
            waiting = self._handing.get(key)
            if waiting is not None:
                # Its trace was kept and waits for the next consumer: join it, so that
                # one decision record settles both once they are handed on together.
                waiting.trace.pieces += pending.trace.pieces
                waiting.trace.span_count += pending.trace.span_count
                waiting.seqs += pending.seqs
                waiting.serialized += pending.serialized
                self.stats.late_kept += pending.trace.span_count
                continue
            keep = self._decisions.get(key)
            if keep is not None:
                # Pieces synced while their trace was being decided follow the decision.
                if keep:
                    self.stats.late_kept += pending.trace.span_count
                else:
                    self.stats.late_dropped += pending.trace.span_count
            else:
                keep = self._decide(pending.trace, now)
                self._decisions.put(key, keep)
                if keep:
                    self.stats.kept += 1
                else:
                    self.stats.dropped += 1
            (kept if keep else dropped).append(pending)
        await self._settle(dropped, kept=False)
        await self._hand_on(kept)

    async def _hand_on(self, kept: list[_Pending]) -> None:
        by_tenant: dict[str, list[_Pending]] = {}
        for pending in kept:
            by_tenant.setdefault(pending.trace.tenant, []).append(pending)
        for tenant, group in by_tenant.items():
            request, payload = _merged(group)
            try:
                await self._next.consume(Signal.TRACES, request, tenant=tenant, payload=payload)
            except RetryableError as error:
                logger.warning("kept traces wait: %s", error)
                for pending in group:
                    self._handing[(pending.trace.tenant, pending.trace.trace_id)] = pending
                continue
            except PermanentError as error:
                logger.error("kept traces refused for good, not stored: %s", error)
            await self._settle(group, kept=True)

    async def _settle(self, traces: list[_Pending], *, kept: bool) -> None:
        if self._log is None or not traces:
            return
        decisions = [
            Decision(p.trace.tenant, p.trace.trace_id, max(p.seqs), kept) for p in traces if p.seqs
        ]
        seqs = [seq for p in traces for seq in p.seqs]
        try:
            await asyncio.to_thread(self._log.settle, decisions, seqs)
        except OSError as error:
            # Their spans stay held in the log: after a restart they are decided again.
            logger.warning("cannot record tail-sampling decisions: %s", error)


def _merged(group: list[_Pending]) -> tuple[ExportTraceServiceRequest, bytes | None]:
    """One request of the group's pieces, and its serialized form when known.

    Serialized requests concatenated are the serialization of one request holding all
    their resources, so pieces written to the log are joined as bytes and parsed once (in
    C), rather than copied resource by resource; the next consumer (the ingest log, an
    exporter's queue) takes the bytes as they are.
    """
    if all(len(p.serialized) == len(p.trace.pieces) for p in group):
        payload = b"".join(blob for p in group for blob in p.serialized)
        return ExportTraceServiceRequest.FromString(payload), payload
    return _joined([piece for p in group for piece in p.trace.pieces]), None


def _joined(pieces: list[ExportTraceServiceRequest]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    for piece in pieces:
        request.resource_spans.extend(piece.resource_spans)
    return request
