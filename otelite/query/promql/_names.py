"""How stored OTLP metrics look to PromQL: metric names, label names and series labels.

The rules are the OpenTelemetry specification's "OTLP Metric points to Prometheus"
(``compatibility/prometheus_and_openmetrics.md``) as Prometheus 3's OTLP receiver and the
Collector's Prometheus exporter carry them out through ``prometheus/otlptranslator``.
Where those sources differ, the specification wins and the comment at the spot says so.

Names come in the three ways Prometheus 3 can be told to write them (:class:`Naming`).
The default, and the only one the Collector's exporter writes, escapes names to
``[a-zA-Z0-9_:]`` and adds unit and type suffixes: ``http.server.request.duration`` in
seconds is the family ``http_server_request_duration_seconds``. A family's series are

- gauge, sum: the family name itself (``_total`` ends a monotonic sum's family name);
- histogram: ``<family>_bucket`` (with ``le``), ``<family>_sum`` and ``<family>_count``;
- summary: ``<family>`` (with ``quantile``), ``<family>_sum`` and ``<family>_count``;
- exponential histogram: one native histogram named ``<family>``.

A native histogram has no ``_count``, ``_sum`` or ``_bucket`` series, as in Prometheus (its
functions ``histogram_count`` and ``histogram_sum`` read them), and no ``_total``.

An explicit-bucket histogram never has a series named after the bare family: Prometheus
writes one only as a native histogram with custom buckets (``convert_histograms_to_nhcb``),
which otelite does not offer.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "PER_UNITS",
    "TARGET_INFO",
    "UNITS",
    "MetricKind",
    "Naming",
    "SeriesRole",
    "SeriesSource",
    "StoredMetric",
    "label_name",
    "metric_name",
    "metric_type",
    "prometheus_unit",
    "series_index",
    "series_labels",
    "target_info_labels",
]

TARGET_INFO = "target_info"
"""The family holding each resource's other attributes (see :func:`target_info_labels`)."""

UNITS: Mapping[str, str] = MappingProxyType(
    {
        "d": "days",
        "h": "hours",
        "min": "minutes",
        "s": "seconds",
        "ms": "milliseconds",
        "us": "microseconds",
        "ns": "nanoseconds",
        "By": "bytes",
        "KiBy": "kibibytes",
        "MiBy": "mebibytes",
        "GiBy": "gibibytes",
        "TiBy": "tibibytes",
        "KBy": "kilobytes",
        "MBy": "megabytes",
        "GBy": "gigabytes",
        "TBy": "terabytes",
        "m": "meters",
        "V": "volts",
        "A": "amperes",
        "J": "joules",
        "W": "watts",
        "g": "grams",
        "Cel": "celsius",
        "Hz": "hertz",
        "1": "",
        "%": "percent",
    }
)
"""UCUM units → Prometheus unit words; a unit not listed is kept as written."""

PER_UNITS: Mapping[str, str] = MappingProxyType(
    {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year"}
)
"""The part after ``/`` in a rate unit → the word after ``per_``; others kept as written."""


class MetricKind(enum.StrEnum):
    """An OTLP metric's data type; the value is the name the store gives it."""

    GAUGE = "gauge"
    SUM = "sum"
    HISTOGRAM = "histogram"
    EXPONENTIAL_HISTOGRAM = "exponential_histogram"
    SUMMARY = "summary"


class Naming(enum.Enum):
    """How metric and label names are written; the values are Prometheus 3's
    ``otlp.translation_strategy`` settings."""

    ESCAPED = "UnderscoreEscapingWithSuffixes"
    """Prometheus' default and the Collector exporter's: escaped, with suffixes."""
    UTF8 = "NoUTF8EscapingWithSuffixes"
    """Names as sent plus unit and type suffixes (``http.server.request.duration_seconds``)."""
    UNTRANSLATED = "NoTranslation"
    """Names exactly as sent (``http.server.request.duration``)."""


class SeriesRole(enum.Enum):
    """What a Prometheus series reads from the stored points of its metric."""

    VALUE = "value"
    """A gauge's or sum's value."""
    BUCKET = "bucket"
    """A histogram's cumulative count up to the bound in the ``le`` label."""
    SUM = "sum"
    """A histogram's or summary's sum."""
    COUNT = "count"
    """A histogram's or summary's count."""
    QUANTILE = "quantile"
    """A summary's value at the quantile in the ``quantile`` label."""
    HISTOGRAM = "histogram"
    """An exponential histogram, as a native histogram."""


@dataclass(frozen=True, slots=True)
class StoredMetric:
    """A stored OTLP metric as naming sees it; ``monotonic`` matters for sums only."""

    name: str
    unit: str
    kind: MetricKind
    monotonic: bool


@dataclass(frozen=True, slots=True)
class SeriesSource:
    """A stored metric that can produce a series name, in which role and naming."""

    metric: StoredMetric
    role: SeriesRole
    naming: Naming


_SERIES: Mapping[MetricKind, tuple[tuple[str, SeriesRole], ...]] = MappingProxyType(
    {
        MetricKind.GAUGE: (("", SeriesRole.VALUE),),
        MetricKind.SUM: (("", SeriesRole.VALUE),),
        MetricKind.HISTOGRAM: (
            ("_bucket", SeriesRole.BUCKET),
            ("_sum", SeriesRole.SUM),
            ("_count", SeriesRole.COUNT),
        ),
        MetricKind.SUMMARY: (
            ("", SeriesRole.QUANTILE),
            ("_sum", SeriesRole.SUM),
            ("_count", SeriesRole.COUNT),
        ),
        MetricKind.EXPONENTIAL_HISTOGRAM: (("", SeriesRole.HISTOGRAM),),
    }
)
_NOT_METRIC_CHARS = re.compile(r"[^a-zA-Z0-9:]+")
_NOT_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9]+")
_IDENTIFYING = frozenset({"service.name", "service.namespace", "service.instance.id"})
_EMPTY: Mapping[str, str] = MappingProxyType({})


def metric_name(
    name: str, unit: str, kind: MetricKind, monotonic: bool, *, naming: Naming = Naming.ESCAPED
) -> str:
    """The Prometheus family name of a stored metric, ``""`` if it has none.

    Escaped: the name's words are its runs of ``[a-zA-Z0-9:]``, joined with ``_`` (so
    other characters and runs of underscores become one ``_``); the unit's words follow
    unless the name already has them as a word; a monotonic sum ends in ``_total`` and a
    gauge in unit ``1`` in ``_ratio``, moved to the end if the name has them elsewhere; a
    leading digit gets a ``_`` in front. A name with no valid character has no family
    (Prometheus refuses it). See :func:`series_index` for the series of a family.
    """
    if naming is Naming.UNTRANSLATED:
        return name
    counter = kind is MetricKind.SUM and monotonic
    ratio = unit == "1" and kind is MetricKind.GAUGE
    if naming is Naming.UTF8:
        return _utf8_name(name, unit, counter=counter, ratio=ratio)
    tokens = [token for token in _NOT_METRIC_CHARS.split(name) if token]
    main, per = _unit_words(unit)
    main, per = _clean_unit(main), _clean_unit(per)
    if main in tokens:
        main = ""
    per = "" if per == "per_" else per.removesuffix("_")
    if per in tokens:
        per = ""
    if per:
        main = main.removesuffix("_")
    tokens += [word for word in (main, per) if word]
    # Like Prometheus, every other "total" (or "ratio") word goes, wherever it stood.
    for suffix, wanted in (("total", counter), ("ratio", ratio)):
        if wanted:
            tokens = [token for token in tokens if token != suffix] + [suffix]
    family = "_".join(tokens)
    return "_" + family if family[:1].isdigit() else family


def _utf8_name(name: str, unit: str, *, counter: bool, ratio: bool) -> str:
    # Prometheus trims a suffix together with the character before it, whatever it is.
    def trimmed(text: str, suffix: str) -> str:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix) - 1]
        return text

    type_suffix = "total" if counter else "ratio" if ratio else ""
    if type_suffix:
        name = trimmed(name, type_suffix)
    main, per = _unit_words(unit)
    if per:
        name = trimmed(name, per)
    if main and not name.endswith(main):
        name = f"{name}_{main}"
    return name + "".join(f"_{suffix}" for suffix in (per, type_suffix) if suffix)


def _unit_words(unit: str) -> tuple[str, str]:
    """A unit's main and ``per_`` words before escaping; ``{annotations}`` give none."""
    main, slash, per = unit.partition("/")
    main, per = main.strip(), per.strip()
    main_word = "" if not main or "{" in main or "}" in main else UNITS.get(main, main)
    per_word = "" if not slash or not per or "{" in per or "}" in per else PER_UNITS.get(per, per)
    return main_word, f"per_{per_word}" if per_word else ""


def _clean_unit(word: str) -> str:
    return _NOT_METRIC_CHARS.sub("_", word).removeprefix("_")


def prometheus_unit(unit: str) -> str:
    """The unit Prometheus reports in metadata: ``s`` → ``seconds``, ``By/s`` →
    ``bytes_per_second``, ``1`` and ``{request}`` → ``""``."""
    words = "_".join(word for word in map(_clean_unit, _unit_words(unit)) if word)
    return words.removeprefix("_").removesuffix("_")


def metric_type(kind: MetricKind, monotonic: bool) -> str:
    """The Prometheus type of a stored metric: a monotonic sum is a ``counter``, any
    other sum a ``gauge``, an exponential histogram a (native) ``histogram``."""
    if kind is MetricKind.SUM:
        return "counter" if monotonic else "gauge"
    if kind is MetricKind.EXPONENTIAL_HISTOGRAM:
        return "histogram"
    return str(kind)


def label_name(key: str, *, naming: Naming = Naming.ESCAPED) -> str:
    """An attribute key as a label name, ``""`` where Prometheus refuses the key.

    Escaped: each run of characters outside ``[a-zA-Z0-9]`` (underscores included)
    becomes one ``_``, except that a key both starting and ending with ``__`` keeps those;
    a leading digit gets ``key_`` in front. The empty key and keys that come out as
    nothing but underscores (``__``, ``ようこそ``) are refused. Other namings keep the key.
    """
    if naming is not Naming.ESCAPED:
        return "" if not key.strip("_") else key
    reserved = len(key) >= 4 and key.startswith("__") and key.endswith("__")
    label = _NOT_LABEL_CHARS.sub("_", key[2:-2] if reserved else key)
    if reserved:
        label = f"__{label}__"
    if label[:1].isdigit():
        label = "key_" + label
    return label if label.strip("_") else ""


def series_labels(
    resource: Mapping[str, str],
    scope_name: str,
    scope_version: str,
    attributes: Mapping[str, str],
    *,
    scope_schema_url: str = "",
    scope_attributes: Mapping[str, str] = _EMPTY,
    naming: Naming = Naming.ESCAPED,
) -> dict[str, str]:
    """The labels of a point's series, without ``__name__`` (nor ``le`` or ``quantile``,
    which the caller sets over any attribute of that name, as Prometheus does).

    In order, each later step overriding the earlier: the point's attributes (see
    :func:`label_name`; keys that become one label join their values with ``;`` in the
    order of the keys; an attribute named ``__name__`` is dropped); ``job`` (from
    ``service.namespace/service.name``, or ``service.name``) and ``instance`` (from
    ``service.instance.id``), when the resource gives them; when the scope has a name, the
    scope's attributes as ``otel_scope_<key>``, then ``otel_scope_name``,
    ``otel_scope_version`` and ``otel_scope_schema_url``. A label with an empty value is
    left out, as Prometheus has no such thing; an attribute whose key Prometheus refuses
    is left out too, where Prometheus would refuse the whole point.
    """
    labels = _attribute_labels(attributes, naming)
    _identify(labels, resource)
    # The specification asks for scope labels by default; Prometheus 3 writes them only
    # with otlp.promote_scope_metadata, and then exactly like this.
    if scope_name:
        scope_labels = _attribute_labels(
            {f"otel_scope_{key}": value for key, value in scope_attributes.items()}, naming
        )
        labels.update(scope_labels)
        for key, value in (
            ("otel_scope_name", scope_name),
            ("otel_scope_version", scope_version),
            ("otel_scope_schema_url", scope_schema_url),
        ):
            _set(labels, key, value)
    return labels


def target_info_labels(
    resource: Mapping[str, str], *, naming: Naming = Naming.ESCAPED
) -> dict[str, str]:
    """The labels of the resource's ``target_info`` series (value 1), without ``__name__``;
    ``{}`` when the resource has no such series.

    The labels are ``job`` and ``instance`` (as in :func:`series_labels`) and every other
    resource attribute, named as a point's attributes are. Like Prometheus 3, there is a
    series only when the resource has an attribute besides ``service.name``,
    ``service.namespace`` and ``service.instance.id`` and the labels have a ``job`` or an
    ``instance``.
    """
    others = {key: value for key, value in resource.items() if key not in _IDENTIFYING}
    if not others:
        return {}
    labels = _attribute_labels(others, naming)
    _identify(labels, resource)
    return labels if "job" in labels or "instance" in labels else {}


def _attribute_labels(attributes: Mapping[str, str], naming: Naming) -> dict[str, str]:
    labels: dict[str, str] = {}
    for key in sorted(attributes):
        label = "" if key == "__name__" else label_name(key, naming=naming)
        if not label:
            continue
        joined = labels.get(label)
        _set(labels, label, f"{joined};{attributes[key]}" if joined else attributes[key])
    return labels


def _identify(labels: dict[str, str], resource: Mapping[str, str]) -> None:
    service = resource.get("service.name")
    if service is not None:
        namespace = resource.get("service.namespace")
        # The specification's "<service.name> if namespace is empty"; Prometheus and the
        # Collector write "/name" for an empty namespace that is present.
        _set(labels, "job", f"{namespace}/{service}" if namespace else service, override=False)
    _set(labels, "instance", resource.get("service.instance.id", ""), override=False)


def _set(labels: dict[str, str], label: str, value: str, *, override: bool = True) -> None:
    """Prometheus' label builder: an empty value removes the label, unless ``override`` is
    off, when an empty value leaves the label as it was."""
    if value:
        labels[label] = value
    elif override:
        labels.pop(label, None)


def series_index(
    metrics: Iterable[tuple[str, str, MetricKind, bool]],
) -> dict[str, list[SeriesSource]]:
    """Every Prometheus series name the stored ``(name, unit, kind, monotonic)`` metrics
    make, → the metrics that make it, each once, in the role and naming it first has.

    Each metric gives its family's series (see the module's docstring) under each
    :class:`Naming`: ``http_server_request_duration_seconds_bucket`` (escaped),
    ``http.server.request.duration_seconds_bucket`` (UTF-8) and
    ``http.server.request.duration_bucket`` (untranslated). So the OTel name itself
    selects a gauge's or sum's values, a summary's quantiles and an exponential
    histogram, while an explicit-bucket histogram is selected through ``<name>_bucket``,
    ``<name>_sum`` and ``<name>_count``. Names shared by several metrics (``a.b`` and
    ``a_b``) list each of them; a name to list to users is one with an escaped source.
    """
    index: dict[str, list[SeriesSource]] = {}
    for name, unit, kind, monotonic in metrics:
        metric = StoredMetric(name, unit, kind, monotonic)
        for naming in Naming:
            family = metric_name(name, unit, kind, monotonic, naming=naming)
            if not family:
                continue
            for suffix, role in _SERIES[kind]:
                sources = index.setdefault(family + suffix, [])
                if not any(s.metric == metric and s.role is role for s in sources):
                    sources.append(SeriesSource(metric, role, naming))
    return index
