"""Prometheus names of stored OTLP metrics, against the reference implementations' cases.

Every expected value below is taken from a test (or, where no test covers it, the code) of
the reference implementations, never from otelite's output. The sources, abbreviated:

- NAMER: prometheus/otlptranslator ``metric_namer_test.go`` (v1.0.0 and later),
  ``TestMetricNamer_Build``, the escaped-with-suffixes rows unless the row says UTF-8;
- BUILDER: prometheus/otlptranslator ``metric_name_builder_test.go`` as it stood before
  commit 2573485 folded it into NAMER (``normalizeName`` is unchanged since);
- LABELS: prometheus/otlptranslator ``label_namer_test.go``, ``labelTestCases`` with the
  default ``LabelNamer{}`` (the ``sanitized`` column);
- HELPER: prometheus/prometheus
  ``storage/remote/otlptranslator/prometheusremotewrite/helper_test.go``,
  ``TestPrometheusConverter_createAttributes`` (promoteScope on, no promoted resource
  attributes, both label-name options off: what the specification asks for);
- PRW: the same directory's ``metrics_to_prw_test.go`` and ``helper.go``;
- CONTRIB: opentelemetry-collector-contrib
  ``pkg/translator/prometheusremotewrite/helper_test.go``, ``TestAddResourceTargetInfo``.
"""

from __future__ import annotations

import pytest

import otelite.query.promql as promql
from otelite.query.promql import (
    TARGET_INFO,
    MetricKind,
    Naming,
    SeriesRole,
    StoredMetric,
    label_name,
    metric_name,
    metric_type,
    prometheus_unit,
    series_index,
    series_labels,
    target_info_labels,
)

GAUGE = (MetricKind.GAUGE, False)
COUNTER = (MetricKind.SUM, True)
UPDOWN = (MetricKind.SUM, False)
HISTOGRAM = (MetricKind.HISTOGRAM, False)
EXPONENTIAL = (MetricKind.EXPONENTIAL_HISTOGRAM, False)
SUMMARY = (MetricKind.SUMMARY, False)

ESCAPED_NAMES = [
    # NAMER: type suffixes, and names that already end with them.
    ("requests", "", COUNTER, "requests_total"),
    ("cpu_usage", "1", GAUGE, "cpu_usage_ratio"),
    ("items", "1", COUNTER, "items_total"),
    ("requests_total", "", COUNTER, "requests_total"),
    ("cpu_usage_ratio", "1", GAUGE, "cpu_usage_ratio"),
    ("active_connections", "", UPDOWN, "active_connections"),
    ("http.requests", "1", COUNTER, "http_requests_total"),
    # NAMER: units, per-units, annotations, unknown units.
    ("response_time", "ms", GAUGE, "response_time_milliseconds"),
    ("memory_usage", "By", GAUGE, "memory_usage_bytes"),
    ("response_time_seconds", "s", GAUGE, "response_time_seconds"),
    ("requests", "1/s", GAUGE, "requests_per_second"),
    ("throughput", "By/s", GAUGE, "throughput_bytes_per_second"),
    ("custom_metric", "custom_unit", GAUGE, "custom_metric_custom_unit"),
    ("custom_metric", "{custom}", GAUGE, "custom_metric"),
    ("custom_metric", "By/{custom}", GAUGE, "custom_metric_bytes"),
    ("custom", "1/custom_unit", GAUGE, "custom_per_custom_unit"),
    ("metric", "By/", GAUGE, "metric_bytes"),
    ("metric", " By / s ", GAUGE, "metric_bytes_per_second"),
    ("metric", "/", GAUGE, "metric"),
    ("uptime", "d", GAUGE, "uptime_days"),
    ("duration", "h", GAUGE, "duration_hours"),
    ("timeout", "min", GAUGE, "timeout_minutes"),
    ("latency", "us", GAUGE, "latency_microseconds"),
    ("precision_time", "ns", GAUGE, "precision_time_nanoseconds"),
    ("cache_size", "KiBy", GAUGE, "cache_size_kibibytes"),
    ("memory", "MiBy", GAUGE, "memory_mebibytes"),
    ("storage", "GiBy", GAUGE, "storage_gibibytes"),
    ("capacity", "TiBy", GAUGE, "capacity_tibibytes"),
    ("transfer", "KBy", GAUGE, "transfer_kilobytes"),
    ("download", "MBy", GAUGE, "download_megabytes"),
    ("backup", "GBy", GAUGE, "backup_gigabytes"),
    ("archive", "TBy", GAUGE, "archive_terabytes"),
    ("distance", "m", GAUGE, "distance_meters"),
    ("voltage", "V", GAUGE, "voltage_volts"),
    ("current", "A", GAUGE, "current_amperes"),
    ("energy", "J", GAUGE, "energy_joules"),
    ("power", "W", GAUGE, "power_watts"),
    ("weight", "g", GAUGE, "weight_grams"),
    ("temperature", "Cel", GAUGE, "temperature_celsius"),
    ("frequency", "Hz", GAUGE, "frequency_hertz"),
    ("cpu_usage", "%", GAUGE, "cpu_usage_percent"),
    ("requests", "1/m", GAUGE, "requests_per_minute"),
    ("events", "1/h", GAUGE, "events_per_hour"),
    ("transactions", "1/d", GAUGE, "transactions_per_day"),
    ("reports", "1/w", GAUGE, "reports_per_week"),
    ("invoices", "1/mo", GAUGE, "invoices_per_month"),
    ("renewals", "1/y", GAUGE, "renewals_per_year"),
    # NAMER: every kind takes the unit; only counters take _total.
    ("request_duration", "s", HISTOGRAM, "request_duration_seconds"),
    ("request_size", "By", EXPONENTIAL, "request_size_bytes"),
    ("response_time", "ms", SUMMARY, "response_time_milliseconds"),
    ("http.request.duration", "ms", HISTOGRAM, "http_request_duration_milliseconds"),
    # NAMER: invalid characters, runs of underscores, names with nothing valid.
    (
        "metric__with__multiple__underscores",
        "unit__multiple__underscores",
        GAUGE,
        "metric_with_multiple_underscores_unit_multiple_underscores",
    ),
    (
        "custom_metric",
        "unit@with#special/chars",
        GAUGE,
        "custom_metric_unit_with_special_per_chars",
    ),
    ("@#$%", "", GAUGE, ""),
    # BUILDER: TestByte … TestOTelReceivers.
    ("system.filesystem.usage", "By", GAUGE, "system_filesystem_usage_bytes"),
    ("system.io", "By", COUNTER, "system_io_bytes_total"),
    ("network_transmitted_bytes_total", "By", COUNTER, "network_transmitted_bytes_total"),
    ("\t system.filesystem.usage       ", "  By\t", GAUGE, "system_filesystem_usage_bytes"),
    ("system.network.dropped", "{packets}", GAUGE, "system_network_dropped"),
    ("system.network.dropped", "nonstandard:_1", GAUGE, "system_network_dropped_nonstandard:_1"),
    ("system.network.dropped", "{packets}", COUNTER, "system_network_dropped_total"),
    ("system.network.dropped", "packets", GAUGE, "system_network_dropped_packets"),
    ("system.network.packets.dropped", "packets", GAUGE, "system_network_packets_dropped"),
    ("system.network.packets", "packets", GAUGE, "system_network_packets"),
    ("system.network.packets.dropped", "packets", COUNTER, "system_network_packets_dropped_total"),
    ("system.network.packets", "packets", COUNTER, "system_network_packets_total"),
    ("hw.gpu.memory.utilization", "1", GAUGE, "hw_gpu_memory_utilization_ratio"),
    ("hw.fan.speed_ratio", "1", GAUGE, "hw_fan_speed_ratio"),
    ("objects", "1", COUNTER, "objects_total"),
    ("hw.cpu.speed_limit", "Hz", GAUGE, "hw_cpu_speed_limit_hertz"),
    ("broken.metric.speed", "km/h", GAUGE, "broken_metric_speed_km_per_hour"),
    ("astro.light.speed_limit", "m/s", GAUGE, "astro_light_speed_limit_meters_per_second"),
    (
        "system.network.dropped",
        "non/standard:_1",
        GAUGE,
        "system_network_dropped_non_per_standard:_1",
    ),
    ("broken.metric.speed", "km/°", GAUGE, "broken_metric_speed_km"),
    ("broken.metric.success_ratio", "%", GAUGE, "broken_metric_success_ratio_percent"),
    ("broken.metric.success_percent", "%", GAUGE, "broken_metric_success_percent"),
    ("test.metric.no_unit", "", GAUGE, "test_metric_no_unit"),
    ("test.metric.spaces", "   \t  ", GAUGE, "test_metric_spaces"),
    ("apache.workers", "connections", GAUGE, "apache_workers_connections"),
    ("apache.requests", "1", COUNTER, "apache_requests_total"),
    ("system.disk.operation_time", "s", COUNTER, "system_disk_operation_time_seconds_total"),
    ("system.cpu.load_average.15m", "1", GAUGE, "system_cpu_load_average_15m_ratio"),
    (
        "mongodbatlas.process.asserts",
        "{assertions}/s",
        GAUGE,
        "mongodbatlas_process_asserts_per_second",
    ),
    (
        "mongodbatlas.process.oplog.rate",
        "GiBy/h",
        GAUGE,
        "mongodbatlas_process_oplog_rate_gibibytes_per_hour",
    ),
    (
        "mongodbatlas.process.db.query_targeting.scanned_per_returned",
        "{scanned}/{returned}",
        GAUGE,
        "mongodbatlas_process_db_query_targeting_scanned_per_returned",
    ),
    ("nginx.requests", "requests", GAUGE, "nginx_requests"),
    ("nsxt.node.memory.usage", "KBy", GAUGE, "nsxt_node_memory_usage_kilobytes"),
    # BUILDER: TestBuildCompliantMetricNameWithSuffixes (leading digits, colons, foreign runes).
    ("3.14 digits", "", GAUGE, "_3_14_digits"),
    ("envoy__rule_engine_zlib_buf_error", "", GAUGE, "envoy_rule_engine_zlib_buf_error"),
    (":foo::bar", "", GAUGE, ":foo::bar"),
    (":foo::bar", "", COUNTER, ":foo::bar_total"),
    ("foo.bar", "1", GAUGE, "foo_bar_ratio"),
    ("system.io", "foo/bar", COUNTER, "system_io_foo_per_bar_total"),
    ("metric_with_字符_foreign_characters", "", COUNTER, "metric_with_foreign_characters_total"),
    ("temperature", "%*()°:C", GAUGE, "temperature_:C"),
]


@pytest.mark.parametrize(("name", "unit", "kind", "expected"), ESCAPED_NAMES)
def test_escaped_metric_name(
    name: str, unit: str, kind: tuple[MetricKind, bool], expected: str
) -> None:
    assert metric_name(name, unit, *kind) == expected


UTF8_NAMES = [
    # NAMER, UTF8Allowed with suffixes (NoUTF8EscapingWithSuffixes).
    ("requests_total", "", COUNTER, "requests_total"),
    ("cpu_usage_ratio", "1", GAUGE, "cpu_usage_ratio"),
    ("response_time_seconds", "s", GAUGE, "response_time_seconds"),
    ("cpu_seconds_total", "s", COUNTER, "cpu_seconds_total"),
    ("otelcol_process_cpu_seconds", "s", COUNTER, "otelcol_process_cpu_seconds_total"),
    ("requêsts", "", COUNTER, "requêsts_total"),
    ("cpu_usagé", "1", GAUGE, "cpu_usagé_ratio"),
    ("respønse_time", "ms", GAUGE, "respønse_time_milliseconds"),
    ("requêsts", "1/s", GAUGE, "requêsts_per_second"),
    ("@#$%", "", COUNTER, "@#$%_total"),
    # BUILDER: TestBuildMetricNameWithSuffixes, the rows the current namer still gives.
    ("system.io", "By", COUNTER, "system.io_bytes_total"),
    ("3.14 digits", "", GAUGE, "3.14 digits"),
    ("foo.bar", "1", GAUGE, "foo.bar_ratio"),
    ("system.io", "foo/bar", COUNTER, "system.io_foo_per_bar_total"),
    ("temperature", "%*()°C", GAUGE, "temperature_%*()°C"),
]


@pytest.mark.parametrize(("name", "unit", "kind", "expected"), UTF8_NAMES)
def test_utf8_metric_name(
    name: str, unit: str, kind: tuple[MetricKind, bool], expected: str
) -> None:
    assert metric_name(name, unit, *kind, naming=Naming.UTF8) == expected


@pytest.mark.parametrize(
    ("name", "unit", "kind"),
    [
        # NAMER "OTel-style" rows and BUILDER TestBuildMetricNameWithoutSuffixes.
        ("http.request.duration", "ms", HISTOGRAM),
        ("http.requests", "1", COUNTER),
        ("métric_with_ñ_chars", "", GAUGE),
        ("system_io_total", "", COUNTER),
    ],
)
def test_untranslated_metric_name_is_the_name(
    name: str, unit: str, kind: tuple[MetricKind, bool]
) -> None:
    assert metric_name(name, unit, *kind, naming=Naming.UNTRANSLATED) == name


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        # NAMER's wantUnitName column (UnitNamer, as Prometheus reports metadata units).
        ("ms", "milliseconds"),
        ("By", "bytes"),
        ("s", "seconds"),
        ("1", ""),
        ("1/s", "per_second"),
        ("By/s", "bytes_per_second"),
        ("custom_unit", "custom_unit"),
        ("{custom}", ""),
        ("By/{custom}", "bytes"),
        ("unit__multiple__underscores", "unit_multiple_underscores"),
        ("unit@with#special/chars", "unit_with_special_per_chars"),
        ("1/custom_unit", "per_custom_unit"),
        ("By/", "bytes"),
        (" By / s ", "bytes_per_second"),
        ("/", ""),
        ("%", "percent"),
        ("1/mo", "per_month"),
    ],
)
def test_prometheus_unit(unit: str, expected: str) -> None:
    assert prometheus_unit(unit) == expected


@pytest.mark.parametrize(
    ("kind", "expected"),
    # PRW: otelMetricTypeToPromMetricType in otlp_to_openmetrics_metadata.go (cumulative).
    [
        (GAUGE, "gauge"),
        (COUNTER, "counter"),
        (UPDOWN, "gauge"),
        (HISTOGRAM, "histogram"),
        (EXPONENTIAL, "histogram"),
        (SUMMARY, "summary"),
    ],
)
def test_metric_type(kind: tuple[MetricKind, bool], expected: str) -> None:
    assert metric_type(*kind) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # LABELS, the "sanitized" column; "" where LabelNamer.Build returns an error.
        ("label:with:colons", "label_with_colons"),
        ("LabelWithCapitalLetters", "LabelWithCapitalLetters"),
        ("label!with&special$chars)", "label_with_special_chars_"),
        ("label_with_foreign_characters_字符", "label_with_foreign_characters_"),
        ("label.with.dots", "label_with_dots"),
        (".foo", "_foo"),
        ("123label", "key_123label"),
        ("_label_starting_with_underscore", "_label_starting_with_underscore"),
        ("__label_starting_with_2underscores", "_label_starting_with_2underscores"),
        ("ようこそ", ""),
        ("label__with__double__underscores", "label_with_double_underscores"),
        ("label.name__with&&special##chars", "label_name_with_special_chars"),
        ("__reserved__label__name__", "__reserved_label_name__"),
        ("trailing_underscores___", "trailing_underscores_"),
        ("", ""),
        ("__", ""),
    ],
)
def test_label_name(key: str, expected: str) -> None:
    assert label_name(key) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    # LABELS, TestBuildLabel_UTF8Allowed: the key itself, but for "" and "__".
    [("label.with.dots", "label.with.dots"), ("ようこそ", "ようこそ"), ("", ""), ("__", "")],
)
def test_utf8_label_name(key: str, expected: str) -> None:
    assert label_name(key, naming=Naming.UNTRANSLATED) == expected


SERVICE = {"service.name": "service name", "service.instance.id": "service ID"}
SCOPE_ATTRIBUTES = {"attr1": "value1", "attr2": "value2"}


def test_series_labels_with_scope() -> None:
    # HELPER: "… without resource attribute promotion and with scope promotion".
    resource = {
        **SERVICE,
        "existent-attr": "resource value",
        "metric-attr": "resource value",
        "job": "resource value",
        "instance": "resource value",
    }
    attributes = {"metric-attr": "metric value", "metric-attr-other": "metric value other"}
    labels = series_labels(
        resource,
        "test-scope",
        "1.0.0",
        attributes,
        scope_schema_url="https://schema.com",
        scope_attributes=SCOPE_ATTRIBUTES,
    )
    assert labels == {
        "instance": "service ID",
        "job": "service name",
        "metric_attr": "metric value",
        "metric_attr_other": "metric value other",
        "otel_scope_name": "test-scope",
        "otel_scope_schema_url": "https://schema.com",
        "otel_scope_version": "1.0.0",
        "otel_scope_attr1": "value1",
        "otel_scope_attr2": "value2",
    }


def test_series_labels_without_scope_name() -> None:
    # HELPER: "… with scope promotion, but without scope": no otel_scope_* at all.
    labels = series_labels(SERVICE, "", "1.0.0", {"a": "1"}, scope_attributes=SCOPE_ATTRIBUTES)
    assert labels == {"instance": "service ID", "job": "service name", "a": "1"}


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        # HELPER: "Multiple underscores collapsed - collapses to single underscore".
        (
            {"_metric_private": "private metric", "metric___multi": "multi metric"},
            {"_metric_private": "private metric", "metric_multi": "multi metric"},
        ),
        # HELPER: the four collision cases; values join in the order of the original keys.
        ({"a.b": "1", "a_b": "2"}, {"a_b": "1;2"}),
        ({"a_b": "3", "a.b": "2", "a-b": "1"}, {"a_b": "1;2;3"}),
        ({"a.b": "1", "a_b": "2", "c.d": "3", "c_d": "4"}, {"a_b": "1;2", "c_d": "3;4"}),
        ({"a.b": "1", "a_b": "2", "unrelated": "9"}, {"a_b": "1;2", "unrelated": "9"}),
        # HELPER: "__name__ attribute in OTLP data is filtered".
        ({"__name__": "wrong_metric_name", "other_attr": "value"}, {"other_attr": "value"}),
        # PRW helper.go createAttributes: the resource's job and instance are set after the
        # point's attributes, so they win over attributes of those names.
        ({"job": "point job", "instance": "point instance"}, {}),
    ],
)
def test_series_labels_from_attributes(
    attributes: dict[str, str], expected: dict[str, str]
) -> None:
    labels = series_labels(SERVICE, "", "", attributes)
    assert labels == {"job": "service name", "instance": "service ID", **expected}


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        # PRW metrics_to_prw_test: job is "<service.namespace>/<service.name>".
        (
            {
                "service.name": "test-service",
                "service.namespace": "test-namespace",
                "service.instance.id": "id1234",
            },
            {"job": "test-namespace/test-service", "instance": "id1234"},
        ),
        # Specification, Resource Attributes: "<service.name> if namespace is empty"; PRW
        # helper.go setResourceContext: no service.name, no job; no instance id, no
        # instance (the specification's "instance with an empty value").
        ({"service.name": "svc", "service.namespace": ""}, {"job": "svc"}),
        # PRW helper.go createAttributes: without a resource job, a point's job stays.
        ({"service.instance.id": "id1"}, {"job": "point job", "instance": "id1"}),
        ({}, {"job": "point job"}),
    ],
)
def test_job_and_instance(resource: dict[str, str], expected: dict[str, str]) -> None:
    assert series_labels(resource, "", "", {"job": "point job"}) == expected


def test_empty_values_are_no_labels() -> None:
    # Prometheus' labels.Builder.Set deletes a label given an empty value (PRW helper.go
    # builds every series through it); a later colliding key still joins with ";".
    labels = series_labels(
        {}, "scope", "", {"empty": "", "a.b": "", "a_b": "2", "c.d": "1", "c_d": ""}
    )
    assert labels == {"a_b": "2", "c_d": "1;", "otel_scope_name": "scope"}


def test_utf8_series_labels_keep_keys() -> None:
    # PRW helper.go createAttributes: with UTF-8 allowed the keys are not translated.
    labels = series_labels(
        SERVICE, "s", "", {"http.request.method": "GET"}, naming=Naming.UNTRANSLATED
    )
    assert labels == {
        "http.request.method": "GET",
        "job": "service name",
        "instance": "service ID",
        "otel_scope_name": "s",
    }


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        # PRW metrics_to_prw_test: "target_info's samples starts at the earliest …".
        (
            {
                **{f"resource_name_{i}": f"value-{i}" for i in range(1, 6)},
                "service.name": "test-service",
                "service.namespace": "test-namespace",
                "service.instance.id": "id1234",
            },
            {
                "instance": "id1234",
                "job": "test-namespace/test-service",
                **{f"resource_name_{i}": f"value-{i}" for i in range(1, 6)},
            },
        ),
        # CONTRIB: "with resource, with service attributes".
        (
            {
                "service.name": "service-name",
                "service.namespace": "service-namespace",
                "service.instance.id": "service-instance-id",
                "resource_attr": "resource-attr-val-1",
            },
            {
                "instance": "service-instance-id",
                "job": "service-namespace/service-name",
                "resource_attr": "resource-attr-val-1",
            },
        ),
        # CONTRIB: "empty resource" and "with resource, with only service attributes".
        ({}, {}),
        ({"service.name": "n", "service.namespace": "ns", "service.instance.id": "i"}, {}),
        # PRW helper.go addResourceTargetInfo: no job nor instance label, no target_info.
        ({"resource_attr": "resource-attr-val-1"}, {}),
        # PRW helper.go: job and instance are set over attributes of those names.
        (
            {"service.name": "svc", "job": "other", "host.name": "h"},
            {"job": "svc", "host_name": "h"},
        ),
    ],
)
def test_target_info_labels(resource: dict[str, str], expected: dict[str, str]) -> None:
    assert target_info_labels(resource) == expected


def _roles(index: dict[str, list[promql.SeriesSource]], name: str) -> list[tuple[str, str]]:
    return [(source.metric.name, source.role.value) for source in index.get(name, [])]


def test_series_index_names_each_kinds_series() -> None:
    # Families from NAMER; series suffixes from PRW helper.go (addHistogramDataPoints,
    # addSummaryDataPoints: "_bucket", "_sum", "_count", quantiles on the family name)
    # and histograms.go (an exponential histogram is one native histogram, the family).
    index = series_index(
        [
            ("http.request.duration", "ms", MetricKind.HISTOGRAM, False),
            ("http.requests", "1", MetricKind.SUM, True),
            ("response_time", "ms", MetricKind.SUMMARY, False),
            ("request_size", "By", MetricKind.EXPONENTIAL_HISTOGRAM, False),
            ("cpu_usage", "1", MetricKind.GAUGE, False),
        ]
    )
    family = "http_request_duration_milliseconds"
    assert _roles(index, family + "_bucket") == [("http.request.duration", "bucket")]
    assert _roles(index, family + "_sum") == [("http.request.duration", "sum")]
    assert _roles(index, family + "_count") == [("http.request.duration", "count")]
    assert family not in index
    assert _roles(index, "http_requests_total") == [("http.requests", "value")]
    assert _roles(index, "response_time_milliseconds") == [("response_time", "quantile")]
    assert _roles(index, "response_time_milliseconds_count") == [("response_time", "count")]
    assert _roles(index, "request_size_bytes") == [("request_size", "histogram")]
    assert _roles(index, "cpu_usage_ratio") == [("cpu_usage", "value")]


def test_series_index_finds_untranslated_and_utf8_names() -> None:
    # NAMER "OTel-style" (NoTranslation) and UTF-8 rows; Prometheus appends "_bucket" &c.
    # to whatever the family name is (PRW helper.go).
    index = series_index(
        [
            ("http.request.duration", "ms", MetricKind.HISTOGRAM, False),
            ("http.requests", "1", MetricKind.SUM, True),
            ("system.io", "By", MetricKind.SUM, True),
        ]
    )
    assert _roles(index, "http.requests") == [("http.requests", "value")]
    assert _roles(index, "http.request.duration_bucket") == [("http.request.duration", "bucket")]
    assert _roles(index, "http.request.duration_milliseconds_sum") == [
        ("http.request.duration", "sum")
    ]
    assert "http.request.duration" not in index
    assert _roles(index, "system.io_bytes_total") == [("system.io", "value")]
    namings = {name: {s.naming for s in sources} for name, sources in index.items()}
    assert namings["system_io_bytes_total"] == {Naming.ESCAPED}
    assert namings["system.io_bytes_total"] == {Naming.UTF8}
    assert namings["system.io"] == {Naming.UNTRANSLATED}


def test_series_index_lists_every_metric_of_a_shared_name_once() -> None:
    # Names that sanitize alike meet on one series name (the specification's collision
    # case, for metric names); a name the same in every naming is listed once, escaped.
    index = series_index(
        [
            ("http.requests", "", MetricKind.SUM, True),
            ("http_requests", "", MetricKind.SUM, True),
            ("http_requests", "", MetricKind.SUM, True),
        ]
    )
    sources = index["http_requests_total"]
    assert [(s.metric, s.role, s.naming) for s in sources] == [
        (StoredMetric("http.requests", "", MetricKind.SUM, True), SeriesRole.VALUE, Naming.ESCAPED),
        (StoredMetric("http_requests", "", MetricKind.SUM, True), SeriesRole.VALUE, Naming.ESCAPED),
    ]


def test_target_info_name() -> None:
    # otlptranslator constants.go TargetInfoMetricName.
    assert TARGET_INFO == "target_info"


def test_dunder_all_names_exist() -> None:
    assert [name for name in promql.__all__ if not hasattr(promql, name)] == []
