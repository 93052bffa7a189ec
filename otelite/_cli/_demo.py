"""``otelite demo``: run the simulated shop and send its telemetry to an OTLP receiver."""

from __future__ import annotations

import argparse
import contextlib
import ssl
import sys
import time

from tqdm import tqdm

from otelite._cli import _args
from otelite._cli._client import CliError, add_access_arguments
from otelite.config import parse_duration
from otelite.demo import SCENARIOS, SERVICES, Sender, SendError, Shop
from otelite.demo._send import DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT
from otelite.types import Signal

__all__ = ["register"]

_FOREVER_FAULT_AFTER = 60.0
"""When the run has no end, its scenario's fault starts this many seconds in."""


def register(commands: _args.Commands) -> None:
    """Add the ``demo`` command."""
    scenarios = "; ".join(f"{s.name}: {s.description}" for s in SCENARIOS.values())
    p = commands.add_parser(
        "demo",
        help="run a simulated microservice shop that sends OTLP traces, logs and metrics",
        description="Simulate a shop (web and mobile clients, API gateway, BFF, order, "
        "payment, inventory, shipping, catalog; PostgreSQL, Redis, Kafka) and send its "
        "traces, logs and metrics as OTLP to otelite or any OTLP receiver.",
        epilog=f"Scenarios: {scenarios}.",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help=f"where to send (default: {DEFAULT_HTTP_ENDPOINT} for http, "
        f"{DEFAULT_GRPC_ENDPOINT} for grpc)",
    )
    p.add_argument("--protocol", choices=("http", "grpc"), default="http", help="(default: http)")
    p.add_argument(
        "--rate",
        type=_positive_float,
        default=1000.0,
        metavar="SPANS_PER_S",
        help="spans per second (default: %(default)g)",
    )
    p.add_argument(
        "--duration",
        type=_args.duration,
        default="60s",
        help="how long to run, e.g. 30s, 10m; 0 runs until interrupted (default: %(default)s)",
    )
    p.add_argument(
        "--services",
        type=_services,
        metavar="NAME,...",
        help=f"only these services report (default: all of {', '.join(s.name for s in SERVICES)})",
    )
    p.add_argument(
        "--error-rate",
        type=_fraction,
        default=0.02,
        metavar="FRACTION",
        help="share of requests that fail for ordinary reasons (default: %(default)s)",
    )
    p.add_argument("--scenario", choices=sorted(SCENARIOS), help="inject a known fault")
    p.add_argument(
        "--fault-after",
        type=_args.duration,
        metavar="DURATION",
        help="when the scenario's fault starts (default: a third of the duration)",
    )
    p.add_argument("--seed", type=int, default=1, help="same seed, same shop (default: 1)")
    add_access_arguments(p)
    p.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    duration = parse_duration(args.duration)
    if args.fault_after is not None:
        fault_after = parse_duration(args.fault_after)
    else:
        fault_after = duration / 3 if duration > 0 else _FOREVER_FAULT_AFTER
    rate: float = args.rate
    # Several requests a second at low rates; the usual 500-span requests at high ones.
    batch_size = max(1, min(500, int(rate / 4)))
    shop = Shop(
        seed=args.seed,
        services=args.services,
        error_rate=args.error_rate,
        scenario=args.scenario,
        fault_after=fault_after,
        batch_size=batch_size,
    )
    headers = {} if args.token is None else {"authorization": f"Bearer {args.token}"}
    if args.tenant is not None:
        headers["x-scope-orgid"] = args.tenant
    try:
        sender = Sender(
            args.endpoint,
            protocol=args.protocol,
            headers=headers,
            ca_cert=args.ca_cert,
            seed=args.seed,
        )
    except (OSError, ssl.SSLError) as error:
        raise CliError(f"cannot use --ca-cert {args.ca_cert}: {error}") from None
    try:
        with sender:
            sender.connect()
            started = time.monotonic()
            _run(shop, sender, rate=rate, duration=duration)
            took = time.monotonic() - started
    except SendError as error:
        raise CliError(str(error)) from None
    stats = sender.stats
    accepted = stats.accepted
    print(
        f"otelite demo: sent {accepted[Signal.TRACES]} spans, {accepted[Signal.LOGS]} log "
        f"records and {accepted[Signal.METRICS]} data points to {sender.endpoint} in "
        f"{took:.1f}s ({accepted[Signal.TRACES] / max(took, 1e-9):.0f} spans/s)",
        file=sys.stderr,
    )
    rejected = sum(stats.rejected.values())
    if rejected:
        print(
            f"otelite demo: the receiver rejected {rejected} items: {stats.last_rejection}",
            file=sys.stderr,
        )
    return 0


def _run(shop: Shop, sender: Sender, *, rate: float, duration: float) -> None:
    """Send the shop's stream at ``rate`` spans/s for ``duration`` seconds (0: until ^C)."""
    start = time.monotonic()
    deadline = start + duration if duration > 0 else float("inf")
    interval = min(10.0, max(1.0, duration / 4)) if duration > 0 else 10.0
    total = int(rate * duration) if duration > 0 else None
    spans = 0
    with (
        tqdm(total=total, unit="span", unit_scale=True, desc="otelite demo", leave=True) as bar,
        contextlib.suppress(KeyboardInterrupt),
    ):
        for batch in shop.stream(metrics_interval=interval):
            if batch.signal is Signal.TRACES:
                ahead = spans / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(min(ahead, max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                break
            sender.send(batch)
            if batch.signal is Signal.TRACES:
                spans += batch.items
                bar.update(batch.items)
            accepted = sender.stats.accepted
            bar.set_postfix(
                logs=accepted[Signal.LOGS], points=accepted[Signal.METRICS], refresh=False
            )
        # The spans and logs of requests that finished, and the last metrics.
        for batch in shop.flush():
            sender.send(batch)
            if batch.signal is Signal.TRACES:
                bar.update(batch.items)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _services(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {s.name for s in SERVICES}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown services {unknown}: choose from {', '.join(sorted(known))}"
        )
    return names
