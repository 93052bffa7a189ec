"""The shop's traffic: one user action at a time, through every service it touches.

Each handler simulates one operation inside a span and returns ``(end, failure)``: when
it finished (nanoseconds from the start of the trace) and what went wrong, if anything.
Hops (``_http``, ``_rpc``) wrap a handler in the caller's client span and the callee's
server span and turn its failure into status codes, the way instrumentation does.
"""

from __future__ import annotations

import functools
import math
import random
import statistics
from collections.abc import Callable
from functools import partial

from otelite.demo import _wire
from otelite.demo._failures import (
    CATALOG_BUG,
    CIRCUIT_OPEN,
    DB_TIMEOUT,
    INVENTORY_CONFLICT,
    PROVIDER_ERROR,
    SHIPPING_DOWN,
    Failure,
)
from otelite.demo._resilience import OPEN, Bulkhead, CircuitBreaker, retry_delay
from otelite.demo._scenarios import Scenario
from otelite.demo._semconv import (
    Template,
    error_status,
    http_status,
    log_template,
    rpc_status,
    span_attribute,
)
from otelite.demo._templates import ACTIONS, PUBLIC_HOST, LogTemplates, SpanTemplates
from otelite.demo._topology import SERVICES, Instance, build_instances
from otelite.demo._trace import SpanRecord, TraceBuilder

__all__ = ["Traffic"]

Outcome = tuple[int, Failure | None]
Handler = Callable[[TraceBuilder, SpanRecord, int], Outcome]

_MS = 1_000_000
_PARTITIONS = 6
_DB_ERROR = span_attribute("db.response.status_code", "57014") + span_attribute(
    "error.type", "org.postgresql.util.PSQLException"
)
_REJECTED = _wire.field(0x12, b"bulkhead.rejected") + _wire.attribute(
    0x1A, "shop.bulkhead.capacity", 64
)
# Standard normal quantiles at 4096 evenly spaced probabilities: indexing them with random
# bits draws from the normal distribution several times faster than ``random.gauss``.
_NORMAL = [statistics.NormalDist().inv_cdf((k + 0.5) / 4096) for k in range(4096)]
_COMPENSATIONS = {"Reserve": ("inventory", "Release"), "Charge": ("payment", "Refund")}


class Traffic:
    """Simulates user actions against the shop; see the module docstring.

    ``error_rate`` is roughly the share of requests that fail for ordinary reasons (spread
    over the database, inventory and shipping calls); the scenario's fault, if any, starts
    ``fault_after`` seconds into the run.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        error_rate: float,
        scenario: Scenario | None,
        fault_after: float,
        record_logs: bool,
    ) -> None:
        self._rng = rng
        self._site_error = error_rate / 3
        self._scenario = scenario
        self._fault_after = fault_after
        self._record_logs = record_logs
        self.deploy = scenario.deploy if scenario is not None else None
        self.instances = build_instances(
            rng, {} if self.deploy is None else {self.deploy.service: self.deploy.version}
        )
        self._versions = {s.name: s.version for s in SERVICES}
        self.breaker = CircuitBreaker()
        self.bulkhead = Bulkhead()
        self.active = False
        self.db_slowdown = 1.0
        self.now = 0.0
        self._offsets = [rng.randrange(10**6) for _ in range(_PARTITIONS)]
        self._followups: list[TraceBuilder] = []
        self._spans = SpanTemplates()
        self._logs = LogTemplates()
        self._exception_logs: dict[str, bytes] = {}
        self._weights = [share for *_, share in ACTIONS]

    def request(self, now: float) -> list[TraceBuilder]:
        """One user action ``now`` seconds into the run: its trace, then any trace it
        caused downstream (the shipping consumer's), on one relative time axis."""
        if not self.active and self._scenario is not None and now >= self._fault_after:
            self._activate(self._scenario)
        self.now = now
        self._followups = []
        rng = self._rng
        trace = TraceBuilder(rng, record_logs=self._record_logs)
        action, method, route, _ = rng.choices(ACTIONS, self._weights)[0]
        path = route.replace("{id}", str(rng.randrange(1, 5000)))
        client = self._pick("web-frontend" if rng.random() < 0.7 else "mobile-app")
        root = trace.span(client, self._spans.client[action], None, 0)
        root.extra.append(
            _wire.attribute(_wire.SPAN_ATTRIBUTE, "url.full", _url(PUBLIC_HOST, path))
        )
        start = self._ms(12, 0.5)
        gateway = trace.span(self._pick("api-gateway"), self._spans.gateway[action], root, start)
        gateway.extra.append(_wire.attribute(_wire.SPAN_ATTRIBUTE, "url.path", path))
        in_flight = self.bulkhead.in_flight(now, rng)
        gateway.extra.append(span_attribute("shop.bulkhead.in_flight", in_flight))
        failure: Failure | None = None
        if self.bulkhead.admits(in_flight):
            handler = partial(self._bff, action, path)
            end, failure = self._http(
                trace, gateway, self._spans.to_bff[action], "bff", self._spans.bff[action],
                start + self._ms(0.4), handler, path,
            )  # fmt: skip
            gateway.end = end + self._ms(0.2)
            code = (201 if method == "POST" else 200) if failure is None else failure.http_code
        else:
            gateway.end = start + self._ms(0.3)
            gateway.events.append((start + 50_000, _REJECTED))
            trace.log(gateway, gateway.end, self._logs.rejected)
            code = 429
        gateway.extra.append(http_status(code))
        if failure is not None and code >= 500:
            gateway.extra.append(failure.status)
        took = (gateway.end - start) / _MS
        # A JSON access log, as gateways write them: LogQL's `| json | duration > 250ms`.
        access = f'{{"method":"{method}","path":"{path}","status":{code},'
        access += f'"duration":"{took:.1f}ms"}}'
        trace.log(gateway, gateway.end, self._logs.access, access)
        root.end = gateway.end + self._ms(12, 0.5)
        root.extra.append(http_status(code))
        if code >= 400:
            root.extra.append(error_status(f"HTTP {code}"))
        return [trace, *self._followups]

    def _activate(self, scenario: Scenario) -> None:
        self.active = True
        self.db_slowdown = scenario.db_slowdown
        if scenario.deploy is not None:
            self._versions[scenario.deploy.service] = scenario.deploy.version

    def provider_failure(self, now: float) -> float:
        """The payment provider's failure probability per call at ``now``: it browns out
        for eight seconds every ninety, unless a scenario says otherwise."""
        scenario = self._scenario
        if self.active and scenario is not None and scenario.provider_failure is not None:
            return scenario.provider_failure
        return 0.8 if 30 <= now % 90 < 38 else 0.03

    # -- hops ------------------------------------------------------------------------------

    def _http(
        self,
        trace: TraceBuilder,
        parent: SpanRecord,
        client_template: Template,
        service: str,
        server_template: Template,
        start: int,
        handler: Handler,
        path: str,
        ok: int = 200,
    ) -> Outcome:
        client = trace.span(parent.instance, client_template, parent, start)
        server_start = start + self._ms(0.3)
        server = trace.span(self._pick(service), server_template, client, server_start)
        server.extra.append(_wire.attribute(_wire.SPAN_ATTRIBUTE, "url.path", path))
        end, failure = handler(trace, server, server_start + self._ms(0.2))
        server.end = end + self._ms(0.2)
        trace.log(server, end, self._logs.handled(server_template.name))
        code = ok if failure is None else failure.http_code
        status = http_status(code)
        server.extra.append(status)
        client.extra.append(status)
        if failure is not None:
            client.extra.append(failure.status)
            if code >= 500:
                server.extra.append(failure.status)
        client.end = server.end + self._ms(0.3)
        return client.end, failure

    def _rpc(
        self,
        trace: TraceBuilder,
        parent: SpanRecord,
        service: str,
        method: str,
        start: int,
        handler: Handler,
    ) -> Outcome:
        client_template, server_template = self._spans.rpc[service, method]
        client = trace.span(parent.instance, client_template, parent, start)
        server_start = start + self._ms(0.25)
        server = trace.span(self._pick(service), server_template, client, server_start)
        end, failure = handler(trace, server, server_start + self._ms(0.1))
        server.end = end + self._ms(0.1)
        trace.log(server, end, self._logs.handled(server_template.name))
        status = rpc_status("OK" if failure is None else failure.grpc_code)
        server.extra.append(status)
        client.extra.append(status)
        if failure is not None:
            server.extra.append(failure.status)
            client.extra.append(failure.status)
        client.end = server.end + self._ms(0.25)
        return client.end, failure

    # -- services --------------------------------------------------------------------------

    def _bff(self, action: str, path: str, trace: TraceBuilder, bff: SpanRecord, t: int) -> Outcome:
        if action == "list":
            return self._rpc(trace, bff, "catalog", "ListProducts", t, self._catalog)
        if action == "product":
            t, failure = self._rpc(trace, bff, "catalog", "GetProduct", t, self._catalog)
            if failure is not None:
                return t, failure
            return self._rpc(trace, bff, "inventory", "GetStock", t, self._db_handler("stock", 2))
        order_path = path.removeprefix("/api")
        if action == "checkout":
            return self._http(
                trace, bff, self._spans.to_order[action], "order", self._spans.order[action],
                t, self._place_order, order_path, ok=201,
            )  # fmt: skip
        return self._http(
            trace, bff, self._spans.to_order[action], "order", self._spans.order[action],
            t, self._db_handler("select_order", 2), order_path,
        )  # fmt: skip

    def _catalog(self, trace: TraceBuilder, server: SpanRecord, t: int) -> Outcome:
        """Cache-aside: read the cache; on a miss, read the database and fill the cache."""
        hit = self._rng.random() < (0.9 if server.template.name.endswith("ListProducts") else 0.7)
        get = trace.span(server.instance, self._spans.cache_get, server, t)
        get.end = t + self._ms(0.4)
        get.extra.append(span_attribute("shop.cache.hit", hit))
        trace.log(server, get.end, self._logs.cache_hit if hit else self._logs.cache_miss)
        t = get.end
        if not hit:
            query = "featured" if server.template.name.endswith("ListProducts") else "product"
            t, failure = self._db(trace, server, query, t + self._ms(0.1), 3)
            if failure is not None:
                return t, failure
            put = trace.span(server.instance, self._spans.cache_set, server, t)
            put.end = t + self._ms(0.3)
            t = put.end
        deploy = self.deploy
        if deploy is not None and server.instance.version == deploy.version:
            t += int(self._ms(1.5) * deploy.latency)
            if self._rng.random() < deploy.error_rate:
                return t, self._raise(trace, server, t, CATALOG_BUG)
        else:
            t += self._ms(1.5)
        return t, None

    def _place_order(self, trace: TraceBuilder, order: SpanRecord, t: int) -> Outcome:
        """The order saga: reserve stock, charge, schedule shipping; compensate on failure."""
        order_id = self._rng.randrange(10**6, 10**7)
        t, failure = self._db(trace, order, "insert_order", t, 4)
        if failure is not None:
            return t, failure
        done: list[str] = []
        steps: list[tuple[str, str, Handler]] = [
            ("inventory", "Reserve", self._reserve),
            ("payment", "Charge", self._charge),
            ("shipping", "Schedule", self._schedule),
        ]
        for service, method, handler in steps:
            t, failure = self._rpc(trace, order, service, method, t + self._ms(0.2), handler)
            if failure is not None:
                t = self._compensate(trace, order, t, done, method)
                undone = ", ".join(reversed(done)) or "nothing"
                trace.log(
                    order,
                    t,
                    self._logs.order_failed,
                    f"order {order_id} failed at {method} ({failure.exception_type}); "
                    f"compensated: {undone}",
                )
                return t, failure
            done.append(method)
        t, failure = self._db(trace, order, "update_order", t, 3)
        if failure is not None:
            return t, failure
        t = self._publish(trace, order, t, order_id)
        trace.log(order, t, self._logs.order_placed, f"order {order_id} placed")
        return t, None

    def _compensate(
        self, trace: TraceBuilder, order: SpanRecord, t: int, done: list[str], failed: str
    ) -> int:
        span = trace.span(order.instance, self._spans.compensate, order, t)
        span.extra.append(span_attribute("shop.saga.failed_step", failed))
        t += self._ms(0.1)
        for step in reversed(done):
            service, method = _COMPENSATIONS[step]
            query = "release" if step == "Reserve" else "insert_payment"
            t, _ = self._rpc(trace, span, service, method, t, self._db_handler(query, 3))
        t, _ = self._db(trace, span, "update_order", t, 3)
        span.end = t + self._ms(0.1)
        return span.end

    def _reserve(self, trace: TraceBuilder, server: SpanRecord, t: int) -> Outcome:
        if self._rng.random() < self._site_error:
            return t + self._ms(1), self._raise(trace, server, t + self._ms(1), INVENTORY_CONFLICT)
        return self._db(trace, server, "reserve", t, 4)

    def _schedule(self, trace: TraceBuilder, server: SpanRecord, t: int) -> Outcome:
        t += self._ms(20)
        if self._rng.random() < self._site_error:
            return t, self._raise(trace, server, t, SHIPPING_DOWN)
        return t, None

    def _charge(self, trace: TraceBuilder, server: SpanRecord, t: int) -> Outcome:
        """Charge through the circuit breaker, retrying with jittered exponential backoff."""
        rng, breaker, now = self._rng, self.breaker, self.now
        allowed, changes = breaker.allow(now)
        self._breaker_changes(trace, server, t, changes)
        server.extra.append(span_attribute("shop.circuit_breaker.state", breaker.state))
        if not allowed:
            return t + self._ms(0.05), self._raise(trace, server, t, CIRCUIT_OPEN)
        failure_rate = self.provider_failure(now)
        for attempt in range(3):
            call = trace.span(server.instance, self._spans.provider, server, t)
            call.extra.append(span_attribute("shop.circuit_breaker.state", breaker.state))
            if attempt:
                call.extra.append(span_attribute("http.request.resend_count", attempt))
            ok = rng.random() >= failure_rate
            if ok:
                call.end, code = t + self._ms(180, 0.3), 200
            elif rng.random() < 0.7:
                call.end, code = t + self._ms(60), 503
            else:
                call.end, code = t + 1000 * _MS, 504
            call.extra.append(http_status(code))
            if not ok:
                call.extra.append(error_status(f"HTTP {code}"))
            t = call.end
            self._breaker_changes(trace, server, t, breaker.record(ok, now))
            if ok:
                return self._db(trace, server, "insert_payment", t + self._ms(0.2), 3)
            if breaker.state == OPEN or attempt == 2:
                break
            delay = int(retry_delay(attempt + 1, rng) * 1e9)
            server.events.append((t, _retry_event(attempt + 1)))
            trace.log(
                server,
                t,
                self._logs.retry,
                f"payment provider answered {code}; retry {attempt + 1} of 2 "
                f"in {delay / _MS:.0f} ms",
            )
            t += delay
        return t, self._raise(trace, server, t, PROVIDER_ERROR)

    def _breaker_changes(
        self, trace: TraceBuilder, span: SpanRecord, t: int, changes: list[tuple[str, str]]
    ) -> None:
        for before, after in changes:
            span.events.append((t, _state_change_event(before, after)))
            trace.log(
                span,
                t,
                self._logs.breaker,
                f"circuit breaker payment-provider: {before} -> {after}",
            )

    def _publish(self, trace: TraceBuilder, order: SpanRecord, t: int, order_id: int) -> int:
        """Send ``orders`` to Kafka; the shipping consumer processes it in a trace of its own,
        linked to the producer span."""
        partition = order_id % _PARTITIONS
        span = trace.span(order.instance, self._spans.publish, order, t)
        span.extra.append(span_attribute("messaging.destination.partition.id", str(partition)))
        span.extra.append(
            _wire.attribute(_wire.SPAN_ATTRIBUTE, "messaging.kafka.message.key", str(order_id))
        )
        span.end = t + self._ms(1.5)
        consumer_trace = TraceBuilder(self._rng, record_logs=self._record_logs)
        start = span.end + self._ms(8, 0.6)
        consumer = consumer_trace.span(self._pick("shipping"), self._spans.consume, None, start)
        self._offsets[partition] += 1
        consumer.extra += [
            span_attribute("messaging.destination.partition.id", str(partition)),
            _wire.attribute(
                _wire.SPAN_ATTRIBUTE, "messaging.kafka.offset", self._offsets[partition]
            ),
            _wire.link(trace.trace_id, span.span_id),
        ]
        end, failure = self._db(
            consumer_trace, consumer, "insert_shipment", start + self._ms(0.5), 4
        )
        consumer.end = end + self._ms(0.3)
        if failure is None:
            consumer_trace.log(
                consumer,
                consumer.end,
                self._logs.shipment,
                f"shipment created for order {order_id}",
            )
        else:
            consumer.extra.append(failure.status)
        self._followups.append(consumer_trace)
        return span.end

    # -- shared ----------------------------------------------------------------------------

    def _db_handler(self, query: str, median: float) -> Handler:
        def handler(trace: TraceBuilder, server: SpanRecord, t: int) -> Outcome:
            return self._db(trace, server, query, t, median)

        return handler

    def _db(
        self, trace: TraceBuilder, parent: SpanRecord, query: str, t: int, median: float
    ) -> Outcome:
        template = self._spans.db[query]
        span = trace.span(parent.instance, template, parent, t)
        took = int(self._ms(median, 0.5) * self.db_slowdown)
        failure = None
        if self._rng.random() < self._site_error:
            failure = DB_TIMEOUT
            took = 2000 * _MS + self._ms(1)  # the statement timeout
            span.extra += [_DB_ERROR, failure.status]
            span.events.append((t + took, failure.event))
            self._log_exception(trace, span, t + took, failure)
        span.end = t + took
        if failure is None and took > 250 * _MS:
            message = f"slow query: {template.name} took {took / _MS:.0f} ms"
            trace.log(span, span.end, self._logs.slow_query, message)
        return span.end, failure

    def _raise(self, trace: TraceBuilder, span: SpanRecord, t: int, failure: Failure) -> Failure:
        """Record ``failure`` as an exception thrown in ``span`` at ``t``."""
        span.events.append((t, failure.event))
        self._log_exception(trace, span, t, failure)
        return failure

    def _log_exception(
        self, trace: TraceBuilder, span: SpanRecord, t: int, failure: Failure
    ) -> None:
        template = self._exception_logs.get(failure.exception_type)
        if template is None:
            template = log_template(
                17,
                "ERROR",
                f"{failure.exception_type}: {failure.message}",
                {
                    "exception.type": failure.exception_type,
                    "exception.message": failure.message,
                    "exception.stacktrace": failure.stacktrace,
                },
            )
            self._exception_logs[failure.exception_type] = template
        trace.log(span, t, template)

    def version(self, service: str) -> str:
        """The version of ``service`` running now."""
        return self._versions[service]

    def _pick(self, service: str) -> Instance:
        group = self.instances[service, self._versions[service]]
        return group[self._rng.randrange(len(group))] if len(group) > 1 else group[0]

    def _ms(self, median: float, sigma: float = 0.35) -> int:
        """A log-normal duration around ``median`` milliseconds, in nanoseconds."""
        return int(median * _MS * math.exp(sigma * _NORMAL[self._rng.getrandbits(12)]))


def _url(host: str, path: str) -> str:
    return f"https://{host}{path}"


@functools.cache
def _retry_event(attempt: int) -> bytes:
    return _wire.field(0x12, b"retry") + _wire.attribute(0x1A, "shop.retry.attempt", attempt)


@functools.cache
def _state_change_event(before: str, after: str) -> bytes:
    return (
        _wire.field(0x12, b"circuit_breaker.state_change")
        + _wire.attribute(0x1A, "shop.circuit_breaker.previous_state", before)
        + _wire.attribute(0x1A, "shop.circuit_breaker.state", after)
    )
