"""What goes wrong in the shop: each failure's exception, stack trace and status codes."""

from __future__ import annotations

from dataclasses import dataclass, field

from otelite.demo._semconv import error_status, exception_event

__all__ = [
    "CATALOG_BUG",
    "CIRCUIT_OPEN",
    "DB_TIMEOUT",
    "INVENTORY_CONFLICT",
    "PROVIDER_ERROR",
    "SHIPPING_DOWN",
    "Failure",
]


@dataclass(frozen=True, slots=True)
class Failure:
    """An error as the service that raised it reports it."""

    exception_type: str
    message: str
    stacktrace: str
    http_code: int
    grpc_code: str
    event: bytes = field(init=False, repr=False)
    """The time-less ``exception`` span event."""
    status: bytes = field(init=False, repr=False)
    """The ERROR span status field."""

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "event", exception_event(self.exception_type, self.message, self.stacktrace)
        )
        object.__setattr__(self, "status", error_status(f"{self.exception_type}: {self.message}"))


def _java(exception_type: str, message: str, frames: list[str]) -> str:
    return f"{exception_type}: {message}\n" + "".join(f"\tat {frame}\n" for frame in frames)


def _python(exception_type: str, message: str, frames: list[tuple[str, int, str, str]]) -> str:
    lines = ["Traceback (most recent call last):"]
    for path, line, function, code in frames:
        lines += [f'  File "{path}", line {line}, in {function}', f"    {code}"]
    return "\n".join([*lines, f"{exception_type}: {message}"])


def _go(message: str, frames: list[tuple[str, str]]) -> str:
    lines = [f"panic: {message}", "", "goroutine 47 [running]:"]
    for function, location in frames:
        lines += [function, f"\t{location}"]
    return "\n".join(lines)


DB_TIMEOUT = Failure(
    "org.postgresql.util.PSQLException",
    "ERROR: canceling statement due to statement timeout",
    _java(
        "org.postgresql.util.PSQLException",
        "ERROR: canceling statement due to statement timeout",
        [
            "org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2725)",
            "org.postgresql.core.v3.QueryExecutorImpl.processResults(QueryExecutorImpl.java:2412)",
            "org.postgresql.jdbc.PgPreparedStatement.executeUpdate(PgPreparedStatement.java:152)",
            "com.zaxxer.hikari.pool.HikariProxyPreparedStatement.executeUpdate(HikariProxyPreparedStatement.java)",
            "shop.order.OrderRepository.save(OrderRepository.java:88)",
            "shop.order.PlaceOrderSaga.run(PlaceOrderSaga.java:54)",
            "shop.order.OrderController.placeOrder(OrderController.java:41)",
        ],
    ),
    http_code=500,
    grpc_code="INTERNAL",
)
PROVIDER_ERROR = Failure(
    "shop.payment.ProviderException",
    "payment provider answered 503 Service Unavailable after 3 attempts",
    _java(
        "shop.payment.ProviderException",
        "payment provider answered 503 Service Unavailable after 3 attempts",
        [
            "shop.payment.ProviderClient.charge(ProviderClient.java:117)",
            "io.github.resilience4j.retry.Retry.lambda$decorateCheckedSupplier$3(Retry.java:245)",
            "io.github.resilience4j.circuitbreaker.CircuitBreaker.lambda$decorateCheckedSupplier$0"
            "(CircuitBreaker.java:70)",
            "shop.payment.PaymentService.charge(PaymentService.java:63)",
            "shop.payment.PaymentGrpc$PaymentImplBase.charge(PaymentGrpc.java:212)",
        ],
    ),
    http_code=502,
    grpc_code="UNAVAILABLE",
)
CIRCUIT_OPEN = Failure(
    "io.github.resilience4j.circuitbreaker.CallNotPermittedException",
    "CircuitBreaker 'payment-provider' is OPEN and does not permit further calls",
    _java(
        "io.github.resilience4j.circuitbreaker.CallNotPermittedException",
        "CircuitBreaker 'payment-provider' is OPEN and does not permit further calls",
        [
            "io.github.resilience4j.circuitbreaker.CallNotPermittedException"
            ".createCallNotPermittedException(CallNotPermittedException.java:48)",
            "io.github.resilience4j.circuitbreaker.internal.CircuitBreakerStateMachine"
            "$OpenState.acquirePermission(CircuitBreakerStateMachine.java:696)",
            "shop.payment.PaymentService.charge(PaymentService.java:58)",
            "shop.payment.PaymentGrpc$PaymentImplBase.charge(PaymentGrpc.java:212)",
        ],
    ),
    http_code=503,
    grpc_code="UNAVAILABLE",
)
INVENTORY_CONFLICT = Failure(
    "inventory.ErrInsufficientStock",
    "insufficient stock for sku",
    _go(
        "insufficient stock for sku",
        [
            (
                "shop/inventory/internal/stock.(*Store).Reserve"
                "(0xc0001a2000, {0x9c4e20, 0xc000412f30})",
                "/src/internal/stock/store.go:142 +0x2a5",
            ),
            (
                "shop/inventory/internal/grpcapi.(*Server).Reserve"
                "(0xc00011e0c0, {0x9c4e20, 0xc000412f30})",
                "/src/internal/grpcapi/server.go:77 +0x1b3",
            ),
        ],
    ),
    http_code=409,
    grpc_code="INTERNAL",
)
SHIPPING_DOWN = Failure(
    "grpc.aio.AioRpcError",
    "carrier API unavailable",
    _python(
        "ConnectionError",
        "carrier API unavailable",
        [
            ("/app/shipping/service.py", 88, "Schedule", "quote = await self.carrier.quote(order)"),
            ("/app/shipping/carrier.py", 41, "quote", "response.raise_for_status()"),
        ],
    ),
    http_code=503,
    grpc_code="UNAVAILABLE",
)
CATALOG_BUG = Failure(
    "KeyError",
    "'price_cents'",
    _python(
        "KeyError",
        "'price_cents'",
        [
            ("/app/catalog/service.py", 57, "GetProduct", "return self.to_proto(product)"),
            ("/app/catalog/mapping.py", 23, "to_proto", 'price=Money(units=row["price_cents"])'),
        ],
    ),
    http_code=500,
    grpc_code="INTERNAL",
)
