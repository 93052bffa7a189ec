"""otelite: an OpenTelemetry-native backend for traces, metrics and logs.

The data path reads in folder order: ``otlp`` (wire codecs) → ``receivers`` (network
edges) → ``pipeline`` (write-ahead log, batching writer) → ``storage`` (one package per
backend) → ``query`` (filters, plans, SQL dialects) → ``api`` → ``ui``. ``cli`` and
``server`` wire them together.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
