"""LogQL metric queries over stored OTLP logs, on both backends. Every expected answer is
computed here from ``metric_records`` (each record's time, line and labels written out
by hand) by a plain reference: the samples of each window ``(t - range, t]``, and the
function applied to them as Loki's documentation and code define it, never by the
engine."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import pytest

from otelite.query.logql import (
    LogQuery,
    MetricResult,
    PipelineError,
    _metrics,
    evaluate_metric,
    parse,
)
from otelite.query.promql import QueryError, Scalar
from otelite.storage import Storage, WriteBatch
from tests.backends import BACKENDS, store

from . import metric_records
from .metric_records import BAD, BYTES, M0, RECORDS, SECONDS, Rec, S

START, END, STEP = M0 + 30 * S, M0 + 150 * S, 10 * S
Labels = tuple[tuple[str, str], ...]
Matrix = dict[Labels, dict[int, float]]
Sample = tuple[Labels, int, float]


@pytest.fixture(scope="module", params=BACKENDS)
def metric_store(request: pytest.FixtureRequest) -> Iterator[Storage]:
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[metric_records.request()]))
        yield opened


def _run(
    storage: Storage, text: str, start: int = START, end: int = END, step: int = STEP
) -> MetricResult:
    expr = parse(text)
    assert not isinstance(expr, LogQuery)
    return evaluate_metric(storage, expr, start_ns=start, end_ns=end, step_ns=step)


def _matrix(result: MetricResult) -> Matrix:
    value = result.value
    assert not isinstance(value, Scalar)
    found: Matrix = {}
    for row, labels in enumerate(value.labels):
        points = {
            int(t): float(v)
            for t, v, here in zip(
                result.steps_ns, value.values[row], value.present[row], strict=True
            )
            if here
        }
        if points:
            assert labels not in found
            found[labels] = points
    return found


def _labels(values: dict[str, str]) -> Labels:
    return tuple(sorted((k, v) for k, v in values.items() if v))


def _windows(
    samples: list[Sample],
    range_ns: int,
    reduce: Callable[[list[float]], float],
    *,
    start: int = START,
    end: int = END,
    step: int = STEP,
    offset: int = 0,
) -> Matrix:
    """The reference: per series and step, ``reduce`` of the window's values in time order."""
    expected: Matrix = {}
    for t in range(start, end + 1, step):
        inside: dict[Labels, list[tuple[int, float]]] = {}
        for labels, at, value in samples:
            if t - offset - range_ns < at <= t - offset:
                inside.setdefault(labels, []).append((at, value))
        for labels, found in inside.items():
            values = [v for _, v in sorted(found, key=lambda item: item[0])]
            expected.setdefault(labels, {})[t] = reduce(values)
    return expected


def _same(found: Matrix, expected: Matrix) -> None:
    assert set(found) == set(expected)
    for labels, points in expected.items():
        assert set(found[labels]) == set(points), labels
        for t, value in points.items():
            if math.isnan(value):
                assert math.isnan(found[labels][t])
            else:
                assert found[labels][t] == pytest.approx(value, rel=1e-12, abs=1e-12), (labels, t)


def _of(service: str | None = None) -> list[Rec]:
    return [r for r in RECORDS if service is None or r.service == service]


def _lines(recs: list[Rec], value: Callable[[Rec], float] = lambda r: 1.0) -> list[Sample]:
    return [(_labels(r.labels), r.time, value(r)) for r in recs]


def _quantile(q: float) -> Callable[[list[float]], float]:
    def compute(values: list[float]) -> float:
        ordered = sorted(values)
        rank = q * (len(ordered) - 1)
        below = math.floor(rank)
        above = min(below + 1, len(ordered) - 1)
        return ordered[below] * (1 - (rank - below)) + ordered[above] * (rank - below)

    return compute


def _stdvar(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def _rate_counter(range_ns: int) -> Callable[[list[tuple[int, float]], int], float]:
    """Loki's extrapolatedRate (``range_vector.go``), line by line, over (time, value)."""

    def compute(samples: list[tuple[int, float]], end: int) -> float:
        if len(samples) < 2:
            return 0.0
        start = end - range_ns
        result = samples[-1][1] - samples[0][1]
        last = 0.0
        for _, value in samples:
            if value < last:
                result += last
            last = value
        to_start = (samples[0][0] - start) / 1e9
        to_end = (end - samples[-1][0]) / 1e9
        sampled = (samples[-1][0] - samples[0][0]) / 1e9
        average = sampled / (len(samples) - 1)
        threshold = average * 1.1
        if to_start >= threshold:
            to_start = average / 2
        to_zero = to_start
        if result > 0 and samples[0][1] >= 0:
            to_zero = sampled * (samples[0][1] / result)
        to_start = min(to_start, to_zero)
        if to_end >= threshold:
            to_end = average / 2
        return result * ((sampled + to_start + to_end) / sampled) / (range_ns / 1e9)

    return compute


# --- Range aggregations over log lines ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "samples", "range_ns", "reduce"),
    [
        ('count_over_time({service_name="api"}[30s])', _lines(_of("api")), 30 * S, len),
        ('rate({service_name="api"}[30s])', _lines(_of("api")), 30 * S, lambda v: len(v) / 30),
        (
            'bytes_over_time({service_name=~"api|db"}[25s])',
            _lines(_of(), lambda r: float(len(r.line.encode()))),
            25 * S,
            sum,
        ),
        (
            'bytes_rate({service_name=~"api|db"}[1m])',
            _lines(_of(), lambda r: float(len(r.line.encode()))),
            60 * S,
            lambda v: sum(v) / 60,
        ),
        # A range that is no multiple of the step.
        ('count_over_time({service_name="db"}[13s])', _lines(_of("db")), 13 * S, len),
    ],
)
def test_range_aggregations_of_lines(
    metric_store: Storage,
    query: str,
    samples: list[Sample],
    range_ns: int,
    reduce: Callable[[list[float]], float],
) -> None:
    _same(_matrix(_run(metric_store, query)), _windows(samples, range_ns, reduce))


def test_offset_moves_the_windows_back(metric_store: Storage) -> None:
    found = _matrix(_run(metric_store, 'count_over_time({service_name="api"}[30s] offset 20s)'))
    _same(found, _windows(_lines(_of("api")), 30 * S, len, offset=20 * S))


def test_steps_off_the_grid_of_records(metric_store: Storage) -> None:
    start, step = M0 + 31 * S + 250_000_000, 7 * S
    found = _matrix(
        _run(metric_store, 'count_over_time({service_name="api"}[21s])', start, END, step)
    )
    _same(found, _windows(_lines(_of("api")), 21 * S, len, start=start, step=step))


def test_sum_by_level_over_every_stream(metric_store: Storage) -> None:
    query = 'sum by (detected_level) (count_over_time({service_name=~".+"}[25s]))'
    samples = [
        (_labels({"detected_level": r.labels["detected_level"]}), r.time, 1.0)
        for r in (*RECORDS, BAD)
    ]
    _same(_matrix(_run(metric_store, query)), _windows(samples, 25 * S, len))


# --- Unwrapped range aggregations ---------------------------------------------------------

_LATENCY = '{service_name="api"} | logfmt level, latency | unwrap duration(latency)'


def _latency_samples() -> list[Sample]:
    """``_LATENCY``'s samples: the latency in seconds, under every label but ``latency``."""
    return [
        (_labels({**r.labels, "level": r.fields["level"]}), r.time, SECONDS[r.fields["latency"]])
        for r in _of("api")
    ]


@pytest.mark.parametrize(
    ("function", "reduce"),
    [
        ("sum_over_time", sum),
        ("avg_over_time", lambda v: sum(v) / len(v)),
        ("min_over_time", min),
        ("max_over_time", max),
        ("first_over_time", lambda v: v[0]),
        ("last_over_time", lambda v: v[-1]),
        ("stdvar_over_time", _stdvar),
        ("stddev_over_time", lambda v: math.sqrt(_stdvar(v))),
        ("rate", lambda v: sum(v) / 40),
    ],
)
def test_unwrapped_functions(
    metric_store: Storage, function: str, reduce: Callable[[list[float]], float]
) -> None:
    found = _matrix(_run(metric_store, f"{function}({_LATENCY} [40s])"))
    _same(found, _windows(_latency_samples(), 40 * S, reduce))


def test_quantile_over_time(metric_store: Storage) -> None:
    found = _matrix(_run(metric_store, f"quantile_over_time(0.9, {_LATENCY} [1m])"))
    _same(found, _windows(_latency_samples(), 60 * S, _quantile(0.9)))


def test_rate_counter_extrapolates_as_loki(metric_store: Storage) -> None:
    query = '{service_name="api"} | logfmt | unwrap n'
    found = _matrix(_run(metric_store, f"rate_counter({query} [40s])"))
    samples = [
        (
            _labels({**r.labels, **{k: v for k, v in r.fields.items() if k != "n"}}),
            r.time,
            float(r.fields["n"]),
        )
        for r in _of("api")
    ]
    compute = _rate_counter(40 * S)
    expected: Matrix = {}
    for t in range(START, END + 1, STEP):
        inside: dict[Labels, list[tuple[int, float]]] = {}
        for labels, at, value in samples:
            if t - 40 * S < at <= t:
                inside.setdefault(labels, []).append((at, value))
        for labels, points in inside.items():
            expected.setdefault(labels, {})[t] = compute(sorted(points), t)
    _same(found, expected)


def test_unwrap_bytes_grouped_by_a_label(metric_store: Storage) -> None:
    query = 'max_over_time({service_name="api"} | logfmt | unwrap bytes(size) [30s]) by (level)'
    samples = [
        (_labels({"level": r.fields["level"]}), r.time, float(BYTES[r.fields["size"]]))
        for r in _of("api")
    ]
    _same(_matrix(_run(metric_store, query)), _windows(samples, 30 * S, max))


def test_unwrap_without_a_label(metric_store: Storage) -> None:
    query = f"avg_over_time({_LATENCY} [30s]) without (level)"
    samples = [(_labels(r.labels), r.time, SECONDS[r.fields["latency"]]) for r in _of("api")]
    _same(_matrix(_run(metric_store, query)), _windows(samples, 30 * S, lambda v: sum(v) / len(v)))


def test_sum_of_sum_over_time_groups_before_the_window(metric_store: Storage) -> None:
    query = f"sum by (level) (sum_over_time({_LATENCY} [30s]))"
    samples = [
        (_labels({"level": r.fields["level"]}), r.time, SECONDS[r.fields["latency"]])
        for r in _of("api")
    ]
    _same(_matrix(_run(metric_store, query)), _windows(samples, 30 * S, sum))


def test_a_value_that_does_not_convert_fails_the_query(metric_store: Storage) -> None:
    query = 'sum_over_time({service_name="bad"} | logfmt | unwrap duration(latency) [1m])'
    with pytest.raises(PipelineError) as raised:
        _run(metric_store, query, M0, M0 + 60 * S)
    message = str(raised.value)
    assert message.startswith(
        "pipeline error: 'SampleExtractionErr' for series: '{__error__=\"SampleExtractionErr\", "
    )
    assert 'time: invalid duration "oops"' in message
    assert 'Use a label filter to intentionally skip this error. (e.g | __error__!="' in message
    # Filtered after unwrap, the sample is gone and the query answers.
    filtered = query.replace("(latency)", '(latency) | __error__=""')
    assert _matrix(_run(metric_store, filtered, M0, M0 + 60 * S)) == {}


def test_an_entry_without_the_label_is_no_sample(metric_store: Storage) -> None:
    query = 'sum_over_time({service_name="db"} | json | unwrap latency [1m])'
    assert _matrix(_run(metric_store, query)) == {}


def test_parser_errors_fail_a_metric_query_unless_dropped(metric_store: Storage) -> None:
    query = 'sum by (level) (count_over_time({service_name="api"} | json [1m]))'
    with pytest.raises(PipelineError, match="JSONParserErr"):
        _run(metric_store, query)
    # Dropped, the lines count, without the level JSON could not give them.
    dropped = query.replace("| json", "| json | drop __error__, __error_details__")
    samples: list[Sample] = [((), r.time, 1.0) for r in _of("api")]
    _same(_matrix(_run(metric_store, dropped)), _windows(samples, 60 * S, len))


# --- Vector aggregations, operators, functions ----------------------------------------------

AT = M0 + 150 * S
BY_LEVEL = 'sum by (detected_level) (count_over_time({service_name=~"api|db"}[3m]))'
DB = 'sum by (detected_level) (count_over_time({service_name="db"}[3m]))'
# At AT, over every record: info 10, warn 5, error 15 (5 from api, 10 from db).
COUNTS = {"info": 10.0, "warn": 5.0, "error": 15.0}


def _instant(storage: Storage, text: str, at: int = AT) -> list[tuple[Labels, float]]:
    result = _run(storage, text, at, at, 0)
    value = result.value
    if isinstance(value, Scalar):
        return [((), float(value.values[0]))]
    rows = [(value.labels[i], float(value.values[i, 0])) for i in range(len(value.labels))]
    return rows if result.by_value else sorted(rows)


def _levels(values: dict[str, float]) -> list[tuple[Labels, float]]:
    return sorted(((("detected_level", k),), v) for k, v in values.items())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (BY_LEVEL, _levels(COUNTS)),
        (f"sum({BY_LEVEL})", [((), 30.0)]),
        (f"avg({BY_LEVEL})", [((), 10.0)]),
        (f"min({BY_LEVEL})", [((), 5.0)]),
        (f"max({BY_LEVEL})", [((), 15.0)]),
        (f"count({BY_LEVEL})", [((), 3.0)]),
        (f"stdvar({BY_LEVEL})", [((), 50 / 3)]),
        (f"stddev({BY_LEVEL})", [((), math.sqrt(50 / 3))]),
        (f"topk(2, {BY_LEVEL})", _levels({"error": 15, "info": 10})),
        (f"bottomk(1, {BY_LEVEL})", _levels({"warn": 5})),
        (f"approx_topk(1, {BY_LEVEL})", _levels({"error": 15})),
        (
            'sum without (detected_level) (count_over_time({service_name=~"api|db"}[3m]))',
            [
                ((("service_name", "api"),), 20.0),
                (
                    (
                        ("service_name", "db"),
                        ("severity_number", "17"),
                        ("severity_text", "ERROR"),
                    ),
                    10.0,
                ),
            ],
        ),
        (f"{BY_LEVEL} / 5", _levels({"info": 2, "warn": 1, "error": 3})),
        (f"2 * {BY_LEVEL}", _levels({"info": 20, "warn": 10, "error": 30})),
        (f"{BY_LEVEL} > 7", _levels({"info": 10, "error": 15})),
        (f"7 < {BY_LEVEL}", _levels({"info": 10, "error": 15})),
        (f"{BY_LEVEL} > bool 7", _levels({"info": 1, "warn": 0, "error": 1})),
        (f"{BY_LEVEL} % 4", _levels({"info": 2, "warn": 1, "error": 3})),
        (f"{BY_LEVEL} ^ 2", _levels({"info": 100, "warn": 25, "error": 225})),
        (
            f'{BY_LEVEL} - sum by (detected_level) (count_over_time({{service_name="api"}}[3m]))',
            _levels({"info": 0, "warn": 0, "error": 10}),
        ),
        (
            f"{BY_LEVEL} and {DB}",
            _levels({"error": 15}),
        ),
        (
            f"{BY_LEVEL} unless {DB}",
            _levels({"info": 10, "warn": 5}),
        ),
        (
            'sum by (detected_level) (count_over_time({service_name="db"}[3m]))'
            ' or sum by (detected_level) (count_over_time({service_name="api"}[3m]))',
            _levels({"info": 10, "warn": 5, "error": 10}),
        ),
        (
            'count_over_time({service_name="db"}[3m]) / on (detected_level) group_left'
            f" {BY_LEVEL}",
            [
                (
                    (
                        ("detected_level", "error"),
                        ("service_name", "db"),
                        ("severity_number", "17"),
                        ("severity_text", "ERROR"),
                    ),
                    10 / 15,
                )
            ],
        ),
        (
            f'sum by (detected_level) (count_over_time({{service_name="db"}}[3m])) / ignoring'
            f" (service_name) {BY_LEVEL}",
            _levels({"error": 10 / 15}),
        ),
        (
            f'label_replace({BY_LEVEL}, "short", "$1", "detected_level", "(.).*")',
            sorted(
                (
                    (("detected_level", level), ("short", level[0])),
                    value,
                )
                for level, value in COUNTS.items()
            ),
        ),
        (
            f'label_replace({BY_LEVEL}, "detected_level", "", "detected_level", "warn")',
            sorted([((), 5.0), *_levels({"info": 10, "error": 15})]),
        ),
        ("vector(3)", [((), 3.0)]),
        ("vector(1) + vector(1)", [((), 2.0)]),
        ("1 + 1", [((), 2.0)]),
    ],
)
def test_instant_vectors(
    metric_store: Storage, query: str, expected: list[tuple[Labels, float]]
) -> None:
    found = _instant(metric_store, query)
    assert [labels for labels, _ in found] == [labels for labels, _ in expected]
    assert [v for _, v in found] == pytest.approx([v for _, v in expected], rel=1e-12)


def test_sort_orders_an_instant_vector_by_value(metric_store: Storage) -> None:
    ascending = _instant(metric_store, f"sort({BY_LEVEL})")
    assert [(labels[0][1], v) for labels, v in ascending] == [
        ("warn", 5.0),
        ("info", 10.0),
        ("error", 15.0),
    ]
    descending = _instant(metric_store, f"sort_desc({BY_LEVEL})")
    assert [labels[0][1] for labels, _ in descending] == ["error", "info", "warn"]


def test_division_by_zero_is_nan(metric_store: Storage) -> None:
    for query in (f"{BY_LEVEL} / 0", f"{BY_LEVEL} % 0", f"{BY_LEVEL} / ({BY_LEVEL} - {BY_LEVEL})"):
        found = _instant(metric_store, query)
        assert len(found) == 3 and all(math.isnan(v) for _, v in found), query


def test_a_number_alone_is_a_scalar(metric_store: Storage) -> None:
    assert isinstance(_run(metric_store, "2 * 3", AT, AT, 0).value, Scalar)
    assert not isinstance(_run(metric_store, "vector(1) + vector(1)", AT, AT, 0).value, Scalar)


def test_topk_per_step_of_a_range_query(metric_store: Storage) -> None:
    inner = 'sum by (detected_level) (count_over_time({service_name=~"api|db"}[30s]))'
    found = _matrix(_run(metric_store, f"topk(1, {inner})"))
    counts = _matrix(_run(metric_store, inner))
    for t in range(START, END + 1, STEP):
        here = {labels: points[t] for labels, points in counts.items() if t in points}
        best = max(here.values())
        winners = [labels for labels, value in here.items() if value == best]
        chosen = [labels for labels, points in found.items() if t in points]
        assert len(chosen) == 1 and chosen[0] in winners


def test_absent_over_time(metric_store: Storage) -> None:
    gone = _matrix(_run(metric_store, 'absent_over_time({service_name="nothere", app=~"x"}[1m])'))
    assert gone == {(("service_name", "nothere"),): dict.fromkeys(range(START, END + 1, STEP), 1.0)}
    # db writes every 13 s: a 5 s window often holds nothing.
    found = _matrix(_run(metric_store, 'absent_over_time({service_name="db"}[5s])'))
    seen = _windows(_lines(_of("db")), 5 * S, len)
    steps_with = {t for points in seen.values() for t in points}
    expected = {t: 1.0 for t in range(START, END + 1, STEP) if t not in steps_with}
    assert found == {(("service_name", "db"),): expected}


def test_too_many_series_fail_with_lokis_message(
    metric_store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_metrics, "MAX_SERIES", 3)
    with pytest.raises(QueryError, match=r"maximum number of series \(3\) reached"):
        _run(metric_store, 'count_over_time({service_name="api"} | logfmt [1m])')
    assert len(_matrix(_run(metric_store, BY_LEVEL))) == 3
