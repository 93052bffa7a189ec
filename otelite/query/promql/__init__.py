"""PromQL over stored OTLP metrics, and the Prometheus names those metrics go by.

The language is Prometheus's, parsed by ``promql-parser`` (``_syntax``) and evaluated
by ``_engine`` over whole grids of steps with numpy (``_series`` holds the values it
computes with; ``_windows``, ``_aggregate``, ``_binary`` and ``_functions`` the
operations; ``_native`` carries native histograms through them as float series,
``_native_ops`` reads them). Series come from a ``Source`` (``_selection``), packed:
``StorageSource`` reads stored OTLP metrics as Prometheus sees them (``_stored`` makes
series of their points; ``_names``: the OpenTelemetry specification's compatibility
rules, as Prometheus 3's OTLP receiver applies them; ``_catalog``: what is kept of a
store between queries), ``MemorySource`` holds series given in memory.

The operations on those values are public too, for the other languages whose queries
evaluate to the same series (LogQL's metric queries): ``windowed`` (a function of range
vectors over a packed ``Matrix``; the functions that do not read times take any one time
unit), ``bounds`` (each step's window in packed samples), ``aggregate``, the
``binary_*`` operators with their ``Matching``, and ``label_replace``.
"""

from __future__ import annotations

from otelite.query.promql._aggregate import aggregate
from otelite.query.promql._binary import (
    Matching,
    binary_scalars,
    binary_vector_scalar,
    binary_vectors,
)
from otelite.query.promql._catalog import Family
from otelite.query.promql._engine import (
    DEFAULT_LOOKBACK_MS,
    DEFAULT_MAX_SAMPLES,
    Budget,
    evaluate,
)
from otelite.query.promql._errors import ParseError
from otelite.query.promql._exemplars import Exemplar, exemplars
from otelite.query.promql._functions import label_replace
from otelite.query.promql._memory import MemorySource, raw_series
from otelite.query.promql._names import (
    PER_UNITS,
    TARGET_INFO,
    UNITS,
    MetricKind,
    Naming,
    SeriesRole,
    SeriesSource,
    StoredMetric,
    label_name,
    metric_name,
    metric_type,
    prometheus_unit,
    series_index,
    series_labels,
    target_info_labels,
)
from otelite.query.promql._native import (
    Histograms,
    fold_histograms,
    histogram_labels,
    histogram_samples,
    is_histogram_part,
    split_histograms,
)
from otelite.query.promql._selection import Matcher, RawSeries, Selection, Source
from otelite.query.promql._series import (
    Labels,
    Matrix,
    QueryError,
    QueryTimeout,
    SampleSeries,
    Scalar,
    String,
    Value,
    Vector,
    bounds,
    format_value,
)
from otelite.query.promql._source import StorageSource
from otelite.query.promql._syntax import parse, query_selectors, selector_matchers
from otelite.query.promql._windows import windowed

__all__ = [
    "DEFAULT_LOOKBACK_MS",
    "DEFAULT_MAX_SAMPLES",
    "PER_UNITS",
    "TARGET_INFO",
    "UNITS",
    "Budget",
    "Exemplar",
    "Family",
    "Histograms",
    "Labels",
    "Matcher",
    "Matching",
    "Matrix",
    "MemorySource",
    "MetricKind",
    "Naming",
    "ParseError",
    "QueryError",
    "QueryTimeout",
    "RawSeries",
    "SampleSeries",
    "Scalar",
    "Selection",
    "SeriesRole",
    "SeriesSource",
    "Source",
    "StorageSource",
    "StoredMetric",
    "String",
    "Value",
    "Vector",
    "aggregate",
    "binary_scalars",
    "binary_vector_scalar",
    "binary_vectors",
    "bounds",
    "evaluate",
    "exemplars",
    "fold_histograms",
    "format_value",
    "histogram_labels",
    "histogram_samples",
    "is_histogram_part",
    "label_name",
    "label_replace",
    "metric_name",
    "metric_type",
    "parse",
    "prometheus_unit",
    "query_selectors",
    "raw_series",
    "selector_matchers",
    "series_index",
    "series_labels",
    "split_histograms",
    "target_info_labels",
    "windowed",
]
