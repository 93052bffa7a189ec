"""Tail sampling: hold each trace's spans for ``decision_wait``, then keep it whole or not.

``TailSampler`` is a ``Consumer`` between the pipeline file's other processors and the
ingest pipeline. Metrics and logs pass straight through. A trace request is held as it
came, as bytes, until every trace it has spans of is decided; what the policies need of
each trace is gathered from its spans once, as the request comes in (``HeldTrace``, see
``_trace_summary``). ``tick`` decides every trace whose first span came
``decision_wait`` ago (by the injected clock); a request whose traces are all decided is
carried out: handed on to the next consumer as it came when all its traces are kept
(its bytes and span count, neither parsed again nor serialized), with only its kept
traces' spans when some are, or not at all. Traces of different tenants are kept apart
(a trace is a tenant and a trace id); ``num_traces`` bounds them all together.

Memory is bounded by ``num_traces``: past it, the oldest held trace is decided at once
(counted as decided early). A held request costs its bytes; a held trace, a few figures.
Since a request's traces all began by the time it came, the requests held are about
those of the last ``decision_wait``. The price of handing requests on whole: a kept
trace's spans that came with a younger trace's first spans wait for that trace's
decision, so every span of a kept trace is stored within twice ``decision_wait`` of its
first (rather than cutting nearly every request apart: most carry a few spans of traces
begun in an earlier one). Decisions are remembered in two bounded LRU caches
(kept, dropped), so spans arriving after their trace was decided follow its decision
(counted as late spans); a request of such spans only is carried out before its client is
answered, without being held. A trace forgotten by the cache starts afresh.

Durability (with a data directory): a request is acknowledged only once it is synced to
the sampler's own log (``SamplingLog``); that it was carried out is recorded there once it
is (its kept spans accepted downstream, which makes them durable in the ingest write-ahead
log), with the decisions of its traces. On start, the requests not carried out are held
again and their traces decided after a fresh ``decision_wait``, or by the decisions the
log still has (a trace decided before the crash, some of whose requests were carried out,
follows its decision). A crash between handing a request on and recording it hands it on
once more after the restart (stored twice, never lost). Shutdown leaves held requests in
the log for the next start. Without a data directory nothing is durable (memory mode):
shutdown decides every held trace and hands the kept spans on. Requests the next consumer
refuses for now (overloaded, unavailable) wait and are offered again on each tick; while
they hold as many kept traces as ``num_traces``, new requests are refused
(``Overloaded``). A tenant the next stages would refuse for good (beyond ``max_tenants``)
is refused before its first request is acknowledged (``admit``).

Concurrency. Held requests are synced together (``HeldCommitter``, one sync at a time, in a
thread); the lock guards only deciding and carrying out, which await the next consumer.
A request is summed up and submitted without the lock (plain code between awaits). It is
registered with its traces only once it is synced, in a callback run on the event loop
before its client is answered (even if the client has gone meanwhile), and only
registered requests are ever carried out. Registering looks at each trace afresh: a trace
decided while the request was being synced gives its decision, and a request whose traces
were all decided so is carried out at once. A failed group sync registers nothing: its
requests are refused (``Unavailable``) and retried by their clients; their sequence
numbers are abandoned, so a sequence reused after a restart is never taken for settled.
(If the failed write reached the disk all the same, a replay hands it on besides the
retry: at least once, as for a crash before a settlement is recorded.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from otelite.errors import Overloaded, PermanentError, RetryableError, Unavailable
from otelite.otlp import only_traces
from otelite.pipeline._consumer import Consumer, parsed, serialized
from otelite.pipeline._decision_cache import DecisionCache, TraceKey
from otelite.pipeline._held_commit import HeldCommitter
from otelite.pipeline._sampling_log import Decision, SamplingLog
from otelite.pipeline._sampling_policies import summarizer_for
from otelite.pipeline._sampling_settings import (
    SamplingReport,
    SamplingStats,
    TailSamplingSettings,
)
from otelite.pipeline._trace_summary import HeldTrace
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, ExportTraceServiceRequest, Signal

__all__ = ["TAIL_SAMPLING_DIR", "TailSampler"]

logger = logging.getLogger(__name__)

TAIL_SAMPLING_DIR = "tail-sampling"
"""The sampler's log, in the data directory."""


@dataclass(slots=True, eq=False)
class _Held:
    """A request held until every trace it has spans of is decided."""

    tenant: str
    payload: bytes
    spans: int
    seq: int | None = None
    """Its record in the log (None: memory mode, or carried out without being held)."""
    verdicts: dict[bytes, bool] = field(default_factory=dict)
    """By trace id: kept or not, as its traces are decided."""
    undecided: int = 0


@dataclass(slots=True)
class _Pending:
    """A trace not decided yet: what its spans add up to, and the requests holding them."""

    trace: HeldTrace
    since: float
    requests: list[_Held] = field(default_factory=list)


class TailSampler:
    """A ``Consumer`` holding spans until their trace is decided (see the module docstring).

    ``log_dir`` is where held requests and decisions are kept durably (None: memory only).
    ``clock`` gives seconds (monotonic). ``interval`` is how often the background task
    decides due traces; None runs no task (the caller calls ``tick``). ``admit`` raises
    the ``PermanentError`` the next stages would raise for a tenant's data, so that it is
    raised before a request of a new tenant is acknowledged.
    """

    def __init__(
        self,
        next_consumer: Consumer,
        settings: TailSamplingSettings,
        *,
        log_dir: Path | None,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = 1.0,
        admit: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._next = next_consumer
        self._settings = settings
        self._summarizer = summarizer_for(settings.policies)
        self._log_dir = log_dir
        self._log: SamplingLog | None = None
        self._clock = clock
        self._interval = interval
        self._admit = admit
        self._admitted: set[str] = set()
        self._held: OrderedDict[TraceKey, _Pending] = OrderedDict()
        self._ready: list[_Held] = []
        """Requests whose traces are all decided, to be carried out."""
        self._waiting: list[_Held] = []
        """Requests the next consumer refused for now; offered again on each tick."""
        self._waiting_traces = 0
        """Kept traces in ``_waiting``."""
        self._committer: HeldCommitter | None = None
        self._decisions = DecisionCache(
            settings.sampled_cache_size, settings.non_sampled_cache_size
        )
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._rounds: set[asyncio.Future[None]] = set()
        """Rounds of deciding and carrying out under way (see ``_round``)."""
        self._accepting = False
        """Between ``start`` and ``shutdown``: a request taken after the shutdown would be
        held by nothing."""
        self.stats = SamplingStats()
        for policy in settings.policies:
            self.stats.policies[policy.name] = [0, 0]

    @property
    def held_traces(self) -> int:
        return len(self._held) + self._waiting_traces

    @property
    def held_spans(self) -> int:
        waiting = sum(request.spans for request in self._waiting)
        return waiting + sum(pending.trace.span_count for pending in self._held.values())

    def report(self) -> SamplingReport:
        """A copy of the counts, and what is held now."""
        stats = replace(self.stats, policies={k: list(v) for k, v in self.stats.policies.items()})
        return SamplingReport(stats, self.held_traces, self.held_spans)

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
            for record in records:
                request = ExportTraceServiceRequest.FromString(record.payload)
                traces = self._summarizer.summarize(record.tenant, request)
                held = _Held(record.tenant, record.payload, _spans(traces))
                self.stats.replayed_traces += self._register(held, traces, record.seq)
        if self._interval is not None:
            self._task = asyncio.create_task(self._run(self._interval))
        self._accepting = True

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        if signal is not Signal.TRACES:
            await self._next.consume(signal, request, tenant=tenant, payload=payload, items=items)
            return
        request = parsed(signal, request, payload)
        assert isinstance(request, ExportTraceServiceRequest)
        if not self._accepting:
            raise Unavailable("tail sampling is not running (otelite is starting or stopping)")
        if self._waiting_traces >= self._settings.num_traces:
            raise Overloaded(
                f"tail sampling holds {self._waiting_traces} kept traces storage has not "
                "taken yet; retry later"
            )
        if self._admit is not None and tenant not in self._admitted:
            await self._admit(tenant)
            self._admitted.add(tenant)
        traces = self._summarizer.summarize(tenant, request)
        held = _Held(tenant, serialized(request, payload), _spans(traces))
        if not traces or self._all_decided(held, traces):
            # Nothing to hold: carried out now, before the client is answered.
            await self._hand_on(held, request)
            return
        # No lock here: summing up and registering are plain code between awaits, and the
        # sync is shared with concurrent requests (see "Concurrency" above).
        if self._committer is None:
            self._register(held, traces, None)
        else:
            synced = self._committer.submit(
                held.tenant, held.payload, lambda seq: self._register(held, traces, seq)
            )
            error = await asyncio.shield(synced)
            if error is not None:
                raise Unavailable(f"cannot write the tail-sampling log: {error}") from error
        if len(self._held) > self._settings.num_traces or self._ready:
            await self._round(self._beyond_bound)

    async def tick(self) -> None:
        """Decide every trace whose wait is over; carry out the requests that completes,
        and offer again those refused for now."""
        await self._round(self._due)

    async def _round(self, pick: Callable[[float], list[_Pending]]) -> None:
        """Decide the traces ``pick`` takes off the held ones, and carry out what is ready,
        under the lock. Shielded: a caller cancelled meanwhile (a client gone, the tick
        stopped) must not leave requests taken off the lists and not carried out."""
        task = asyncio.ensure_future(self._locked_round(pick))
        self._rounds.add(task)
        task.add_done_callback(self._rounds.discard)
        await asyncio.shield(task)

    async def _locked_round(self, pick: Callable[[float], list[_Pending]]) -> None:
        async with self._lock:
            now = self._clock()
            self._decide(pick(now), now)
            await self._carry_out()

    def _due(self, now: float) -> list[_Pending]:
        due: list[_Pending] = []
        while self._held:
            oldest = next(iter(self._held.values()))
            if oldest.since + self._settings.decision_wait > now:
                break
            due.append(self._held.popitem(last=False)[1])
        return due

    def _beyond_bound(self, now: float) -> list[_Pending]:
        early: list[_Pending] = []
        while len(self._held) > self._settings.num_traces:
            early.append(self._held.popitem(last=False)[1])
        self.stats.decided_early += len(early)
        return early

    async def shutdown(self) -> None:
        """Stop deciding. With a log, held requests stay in it for the next start; in memory
        mode every held trace is decided now and kept spans handed on. Idempotent."""
        self._accepting = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._committer is not None:
            # Requests being synced are registered first: they stay held in the log, or
            # (memory mode has no committer) are decided below.
            await self._committer.idle()
        # Rounds begun before (their callers may be gone) finish first.
        await asyncio.gather(*self._rounds, return_exceptions=True)
        async with self._lock:
            if self._log is None:
                everything = list(self._held.values())
                self._held.clear()
                self.stats.decided_early += len(everything)
                self._decide(everything, self._clock())
            await self._carry_out()
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

    def _all_decided(self, held: _Held, traces: dict[bytes, HeldTrace]) -> bool:
        """Whether every trace of a request coming in is decided (spans that came late):
        then ``held`` has their verdicts."""
        verdicts: dict[bytes, bool] = {}
        for trace_id in traces:
            key = (held.tenant, trace_id)
            kept = None if key in self._held else self._decisions.get(key)
            if kept is None:
                return False
            verdicts[trace_id] = kept
        held.verdicts = verdicts
        self._count_late(held, traces)
        return True

    def _register(self, held: _Held, traces: dict[bytes, HeldTrace], seq: int | None) -> int:
        """Hold ``held`` with its traces; how many traces it starts holding."""
        held.seq = seq
        now = self._clock()
        started = 0
        late: dict[bytes, HeldTrace] = {}
        for trace_id, trace in traces.items():
            key = (held.tenant, trace_id)
            pending = self._held.get(key)
            if pending is None:
                kept = self._decisions.get(key)
                if kept is not None:
                    # Decided before these spans came (or while they were synced).
                    held.verdicts[trace_id] = kept
                    late[trace_id] = trace
                    continue
                pending = self._held[key] = _Pending(trace, now)
                started += 1
            else:
                pending.trace.merge(trace)
            pending.requests.append(held)
            held.undecided += 1
        self._count_late(held, late)
        if not held.undecided:
            self._ready.append(held)
        return started

    def _count_late(self, held: _Held, traces: dict[bytes, HeldTrace]) -> None:
        for trace_id, trace in traces.items():
            if held.verdicts[trace_id]:
                self.stats.late_kept += trace.span_count
            else:
                self.stats.late_dropped += trace.span_count

    def _decide(self, traces: list[_Pending], now: float) -> None:
        for pending in traces:
            trace = pending.trace
            keep = self._verdict(trace, now)
            self._decisions.put((trace.tenant, trace.trace_id), keep)
            if keep:
                self.stats.kept += 1
            else:
                self.stats.dropped += 1
            for held in pending.requests:
                held.verdicts[trace.trace_id] = keep
                held.undecided -= 1
                if not held.undecided:
                    self._ready.append(held)

    def _verdict(self, trace: HeldTrace, now: float) -> bool:
        keep = drop = False
        for policy in self._settings.policies:
            matched = policy.matches(trace, now)
            keeps = matched != policy.drops
            self.stats.policies[policy.name][0 if keeps else 1] += 1
            if matched:
                drop |= policy.drops
                keep |= not policy.drops
        return keep and not drop

    async def _carry_out(self) -> None:
        """Hand on the kept spans of every decided request (and of those that waited);
        record the ones done."""
        ready = [*self._waiting, *self._ready]
        self._waiting, self._ready, self._waiting_traces = [], [], 0
        if not ready:
            return
        kept = [held for held in ready if any(held.verdicts.values())]
        outcomes = await asyncio.gather(
            *(self._hand_on(held) for held in kept), return_exceptions=True
        )
        refused = set()
        for held, outcome in zip(kept, outcomes, strict=True):
            if isinstance(outcome, PermanentError):
                logger.error("kept spans refused for good, not stored: %s", outcome)
            elif isinstance(outcome, BaseException):
                if not isinstance(outcome, RetryableError):
                    logger.error("kept spans could not be handed on", exc_info=outcome)
                else:
                    logger.warning("kept spans wait: %s", outcome)
                refused.add(id(held))
                self._waiting.append(held)
                self._waiting_traces += sum(held.verdicts.values())
        await self._settle([held for held in ready if id(held) not in refused])

    async def _hand_on(self, held: _Held, request: ExportTraceServiceRequest | None = None) -> None:
        """Hand the kept spans of ``held`` on (``request``: it parsed, when at hand). A
        request kept whole goes on as its bytes, with its span count: not parsed again."""
        kept = {trace_id for trace_id, keep in held.verdicts.items() if keep}
        if not kept and held.verdicts:
            return
        if len(kept) == len(held.verdicts):
            await self._next.consume(
                Signal.TRACES, request, tenant=held.tenant, payload=held.payload, items=held.spans
            )
            return
        if request is None:
            request = ExportTraceServiceRequest.FromString(held.payload)
        cut = only_traces(request, kept)
        await self._next.consume(
            Signal.TRACES, cut, tenant=held.tenant, payload=cut.SerializeToString()
        )

    async def _settle(self, done: list[_Held]) -> None:
        held_done = [held for held in done if held.seq is not None]
        if self._log is None or not held_done:
            return
        decisions = {
            (held.tenant, trace_id): Decision(held.tenant, trace_id, kept)
            for held in held_done
            for trace_id, kept in held.verdicts.items()
        }
        seqs = [held.seq for held in held_done if held.seq is not None]
        try:
            await asyncio.to_thread(self._log.settle, seqs, list(decisions.values()))
        except OSError as error:
            # They stay held in the log: after a restart they are decided again.
            logger.warning("cannot record tail-sampling decisions: %s", error)


def _spans(traces: dict[bytes, HeldTrace]) -> int:
    return sum(trace.span_count for trace in traces.values())
