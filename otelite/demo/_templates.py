"""Every span and log template of the shop, built once per generator."""

from __future__ import annotations

from otelite.demo._semconv import (
    CONSUMER,
    INTERNAL,
    PRODUCER,
    db_client,
    http_client,
    http_server,
    log_template,
    messaging,
    redis_client,
    rpc_client,
    rpc_server,
    span_template,
)
from otelite.demo._topology import SERVICES

__all__ = ["ACTIONS", "LogTemplates", "SpanTemplates"]

ACTIONS = (
    ("list", "GET", "/api/products", 0.40),
    ("product", "GET", "/api/products/{id}", 0.30),
    ("checkout", "POST", "/api/orders", 0.15),
    ("order", "GET", "/api/orders/{id}", 0.15),
)
"""What users do: name, method, route, share of requests."""

PUBLIC_HOST = "shop.example.com"
PROVIDER_HOST = "api.payments.example.com"
_CATALOG = "shop.catalog.v1.CatalogService"
_INVENTORY = "shop.inventory.v1.InventoryService"
_PAYMENT = "shop.payment.v1.PaymentService"
_SHIPPING = "shop.shipping.v1.ShippingService"


class SpanTemplates:
    """The span templates, by operation."""

    def __init__(self) -> None:
        svc = {s.name: s for s in SERVICES}
        gateway, bff, order = svc["api-gateway"], svc["bff"], svc["order"]
        self.client = {a: http_client(m, r, PUBLIC_HOST, 443) for a, m, r, _ in ACTIONS}
        self.gateway = {a: http_server(gateway, m, r) for a, m, r, _ in ACTIONS}
        self.to_bff = {
            a: http_client(m, r, "bff.shop.svc.cluster.local", 3000) for a, m, r, _ in ACTIONS
        }
        self.bff = {a: http_server(bff, m, r) for a, m, r, _ in ACTIONS}
        self.to_order = {
            "checkout": http_client("POST", "/orders", "order.shop.svc.cluster.local", 8080),
            "order": http_client("GET", "/orders/{id}", "order.shop.svc.cluster.local", 8080),
        }
        self.order = {
            "checkout": http_server(order, "POST", "/orders"),
            "order": http_server(order, "GET", "/orders/{id}"),
        }
        self.rpc = {
            (name, method): (rpc_client(svc[name], rpc, method), rpc_server(svc[name], rpc, method))
            for name, rpc, method in (
                ("catalog", _CATALOG, "ListProducts"),
                ("catalog", _CATALOG, "GetProduct"),
                ("inventory", _INVENTORY, "GetStock"),
                ("inventory", _INVENTORY, "Reserve"),
                ("inventory", _INVENTORY, "Release"),
                ("payment", _PAYMENT, "Charge"),
                ("payment", _PAYMENT, "Refund"),
                ("shipping", _SHIPPING, "Schedule"),
            )
        }
        self.db = {
            "featured": db_client(
                "SELECT",
                "products",
                "SELECT id, name, price_cents FROM products WHERE featured ORDER BY rank LIMIT $1",
            ),
            "product": db_client(
                "SELECT", "products", "SELECT id, name, price_cents FROM products WHERE id = $1"
            ),
            "stock": db_client(
                "SELECT", "stock", "SELECT sku, available FROM stock WHERE sku = $1"
            ),
            "reserve": db_client(
                "UPDATE",
                "stock",
                "UPDATE stock SET available = available - $1 WHERE sku = $2 AND available >= $1",
            ),
            "release": db_client(
                "UPDATE", "stock", "UPDATE stock SET available = available + $1 WHERE sku = $2"
            ),
            "insert_order": db_client(
                "INSERT",
                "orders",
                "INSERT INTO orders (id, customer_id, total_cents, status) VALUES ($1, $2, $3, $4)",
            ),
            "update_order": db_client(
                "UPDATE", "orders", "UPDATE orders SET status = $1 WHERE id = $2"
            ),
            "select_order": db_client(
                "SELECT", "orders", "SELECT id, status, total_cents FROM orders WHERE id = $1"
            ),
            "insert_payment": db_client(
                "INSERT",
                "payments",
                "INSERT INTO payments (order_id, provider_ref, amount_cents) VALUES ($1, $2, $3)",
            ),
            "insert_shipment": db_client(
                "INSERT",
                "shipments",
                "INSERT INTO shipments (order_id, carrier, status) VALUES ($1, $2, $3)",
            ),
        }
        self.cache_get = redis_client("GET", "GET product:?")
        self.cache_set = redis_client("SET", "SET product:? ? EX ?")
        self.provider = http_client("POST", "/v1/charges", PROVIDER_HOST, 443)
        self.compensate = span_template(
            "compensate PlaceOrder", INTERNAL, {"shop.saga.name": "PlaceOrder"}
        )
        self.publish = messaging(PRODUCER, "send", "orders", None)
        self.consume = messaging(CONSUMER, "process", "orders", "shipping")


class LogTemplates:
    """The log templates, by message; ``None`` bodies are written per record."""

    def __init__(self) -> None:
        self.access = log_template(9, "INFO", None, {"log.logger": "gateway.access"})
        self.rejected = log_template(
            13,
            "WARN",
            "bulkhead full: rejecting request with 429",
            {"log.logger": "gateway.bulkhead", "shop.bulkhead.capacity": 64},
        )
        self.cache_hit = log_template(
            5, "DEBUG", "product cache hit", {"log.logger": "catalog.cache", "shop.cache.hit": True}
        )
        self.cache_miss = log_template(
            5,
            "DEBUG",
            "product cache miss, loading from the database",
            {"log.logger": "catalog.cache", "shop.cache.hit": False},
        )
        self.slow_query = log_template(13, "WARN", None, {"log.logger": "db.pool"})
        self.retry = log_template(13, "WARN", None, {"log.logger": "payment.provider"})
        self.breaker = log_template(13, "WARN", None, {"log.logger": "payment.circuitbreaker"})
        self.order_placed = log_template(9, "INFO", None, {"log.logger": "order.saga"})
        self.order_failed = log_template(17, "ERROR", None, {"log.logger": "order.saga"})
        self.shipment = log_template(9, "INFO", None, {"log.logger": "shipping.consumer"})
        self._handled: dict[str, bytes] = {}

    def handled(self, operation: str) -> bytes:
        """The DEBUG line a server writes when it has handled ``operation``."""
        found = self._handled.get(operation)
        if found is None:
            found = self._handled[operation] = log_template(
                5, "DEBUG", f"handled {operation}", {"log.logger": "server"}
            )
        return found
