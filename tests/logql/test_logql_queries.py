"""LogQL log queries over stored OTLP logs, on both backends. Every expected answer is
worked out by hand from ``loki_records`` and Loki's documented semantics, not from the
engine: record numbers, newest first unless the test says otherwise."""

from __future__ import annotations

import pytest

from otelite.query.logql import Direction, Entries, LogQuery, parse, select_logs
from otelite.storage import Storage, WriteBatch

from .bulk_records import BULK_END, BULK_START, bulk_request, expected_bulk
from .loki_records import AT, END, LINES, START, TRACE

ALL = '{service_name=~".+"}'
CHECKOUT = '{service_name="checkout"}'


def _run(
    storage: Storage,
    text: str,
    *,
    limit: int = 100,
    direction: Direction = Direction.BACKWARD,
    start: int = START,
    end: int = END,
) -> Entries:
    query = parse(text)
    assert isinstance(query, LogQuery)
    result = select_logs(
        storage, query, start_ns=start, end_ns=end, limit=limit, direction=direction
    )
    return result.entries


def _records(entries: Entries) -> list[int]:
    by_time = {at: n for n, at in AT.items()}
    return [by_time[at] for at in entries.times]


def _parsed(entries: Entries, record: int) -> dict[str, str]:
    row = entries.times.index(AT[record])
    return dict(entries.labels[row].categorized()[2])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Stream selectors.
        (CHECKOUT, [6, 5, 4, 3, 2, 1]),
        ('{service_name=~"checkout|payments"}', [6, 11, 5, 4, 3, 8, 2, 7, 1]),
        ('{service_name=~".+", service_name!="checkout"}', [11, 10, 9, 8, 7]),
        ('{k8s_container_name="worker"}', [9]),
        ('{service_name="worker"}', [9]),  # discovered from the container name
        ('{env="prod"}', [10]),  # a pushed stream's own label
        ('{app=~".+"}', [10]),
        ('{service_name=~".+", k8s_pod_name=""}', [11, 10, 9, 8, 7]),
        ('{service_name="shop", app="shop"}', [10]),
        ('{host_name="h1"}', []),  # structured metadata, not a stream label
        ('{service_name=~"check.*", deployment_environment_name!~"pr.*"}', [6, 5, 4, 3, 2, 1]),
        # Line filters.
        (f'{ALL} |= "error"', [5, 10, 2, 7]),
        (f'{ALL} != "error" |~ "^[a-z]+ "', [6, 9]),
        (f'{CHECKOUT} |= "payment" or "order"', [2, 1]),
        (f'{CHECKOUT} |~ "(?i)get"', [4, 3]),
        (f'{CHECKOUT} !~ "[0-9]{{3}}"', [6, 5]),
        (f'{CHECKOUT} |> "<_> /api/<_> <_>"', [4]),
        (f'{CHECKOUT} !> "<_> error"', [6, 4, 3, 2, 1]),
        (f'{CHECKOUT} |= ip("10.0.0.0/8")', [4]),
        (f'{CHECKOUT} != ip("10.1.2.3")', [6, 5, 3, 2, 1]),
        (f'{CHECKOUT} |= "error" |= "level"', [2]),
        # Parsers and label filters.
        (f"{CHECKOUT} | logfmt | status >= 500", [2]),
        (f"{CHECKOUT} | logfmt | duration > 1s", [2]),
        (f'{CHECKOUT} | logfmt | duration > 100ms and user="alice" or status=502', [2, 1]),
        (f"{CHECKOUT} | json | http_status = 503", [3]),
        (f'{CHECKOUT} | json | __error__ = ""', [3]),
        (f'{CHECKOUT} | json | __error__ != ""', [6, 5, 4, 2, 1]),
        (f"{CHECKOUT} | json | size > 1KB", [3]),
        (f"{CHECKOUT} | json | latency >= 300ms", [3]),
        (f'{CHECKOUT} | logfmt | level=~"info|error" | user!="bob"', [1]),
        (f'{ALL} | detected_level="error"', [10, 2, 7]),
        (f'{ALL} | trace_id="{TRACE.hex()}"', [2]),
        (f'{ALL} | json | level="error" | service_name_extracted="fake"', [7]),
        (f'{CHECKOUT} | pattern "<method> <path> <ip> <status> <_>" | status = 200', [4, 2, 1]),
        (f'{CHECKOUT} | logfmt | json | __error__="" | msg="slow"', [3]),
        # Stages that rewrite the line, then filters in Python.
        (f'{CHECKOUT} | decolorize |= "red alert error"', [5]),
        (f'{CHECKOUT} | decolorize |~ "^red"', [5]),
        ('{service_name="payments"} | unpack |= "inner"', [11]),
    ],
)
def test_log_query(loki_store: Storage, query: str, expected: list[int]) -> None:
    assert _records(_run(loki_store, query)) == expected


def test_lines_are_the_bodies_as_loki_makes_them(loki_store: Storage) -> None:
    entries = _run(loki_store, '{service_name=~".+"}')
    found = dict(zip(_records(entries), entries.lines, strict=True))
    # A map body is its JSON, keys sorted, as the Collector's AsString writes it.
    assert found == {n: line for n, (_, line) in LINES.items()}
    assert found[8] == '{"ok":true,"user":"carol"}'


def test_direction_and_limit(loki_store: Storage) -> None:
    assert _records(_run(loki_store, CHECKOUT, limit=2)) == [6, 5]
    assert _records(_run(loki_store, CHECKOUT, limit=2, direction=Direction.FORWARD)) == [1, 2]
    # The limit counts lines that pass the pipeline, not lines read.
    query = f'{CHECKOUT} | logfmt | level=~"info|error"'
    assert _records(_run(loki_store, query, limit=1)) == [2]
    assert _records(_run(loki_store, query, limit=1, direction=Direction.FORWARD)) == [1]


def test_interval_spaces_the_lines(loki_store: Storage) -> None:
    query = parse(CHECKOUT)
    assert isinstance(query, LogQuery)

    def spaced(direction: Direction) -> list[int]:
        found = select_logs(
            loki_store,
            query,
            start_ns=START,
            end_ns=END,
            limit=100,
            direction=direction,
            interval_ns=2 * 10**9,
        )
        return _records(found.entries)

    # Each line at least 2 s from the one returned before it, the first always.
    assert spaced(Direction.BACKWARD) == [6, 4, 2]
    assert spaced(Direction.FORWARD) == [1, 3, 5]


def test_time_range_is_start_inclusive_end_exclusive(loki_store: Storage) -> None:
    assert _records(_run(loki_store, CHECKOUT, start=AT[2], end=AT[4])) == [3, 2]


def test_categorized_labels(loki_store: Storage) -> None:
    entries = _run(loki_store, f"{CHECKOUT} | logfmt")
    row = entries.times.index(AT[2])
    stream, metadata, parsed = entries.labels[row].categorized()
    assert dict(stream) == {"k8s_pod_name": "checkout-1", "service_name": "checkout"}
    assert dict(metadata) == {
        "host_name": "h1",
        "scope_name": "shop.logger",
        "scope_version": "1.2",
        "attempt": "3",
        "trace_id": TRACE.hex(),
        "span_id": "b7ad6b7169203331",
        "severity_number": "17",
        "severity_text": "ERROR",
        "detected_level": "error",
    }
    # trace_id is a metadata name already: the line's becomes trace_id_extracted.
    assert dict(parsed) == {
        "level": "error",
        "msg": "payment failed",
        "duration": "1.5s",
        "status": "502",
        "user": "bob",
        "trace_id_extracted": "abc",
    }


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (1, "info"),
        (3, "warn"),  # severity number 13
        (4, "unknown"),
        (5, "fatal"),  # "alert" is the first level word of the line
        (7, "error"),  # severity text "Error"
        (10, "error"),  # a pushed line's word
    ],
)
def test_detected_level(loki_store: Storage, record: int, expected: str) -> None:
    entries = _run(loki_store, ALL)
    row = entries.times.index(AT[record])
    assert dict(entries.labels[row].categorized()[1])["detected_level"] == expected


def test_json_flattens_nested_keys_and_skips_arrays(loki_store: Storage) -> None:
    parsed = _parsed(_run(loki_store, f"{CHECKOUT} | json"), 3)
    assert parsed == {
        "level": "warn",
        "msg": "slow",
        "latency": "300ms",
        "http_status": "503",
        "http_method": "GET",
        "size": "2KB",
    }


def test_json_errors_keep_the_line(loki_store: Storage) -> None:
    parsed = _parsed(_run(loki_store, f"{CHECKOUT} | json"), 6)
    assert parsed["__error__"] == "JSONParserErr"
    assert parsed["__error_details__"]
    dropped = _parsed(_run(loki_store, f"{CHECKOUT} | json | drop __error__, __error_details__"), 6)
    assert dropped == {}


def test_json_extractions(loki_store: Storage) -> None:
    entries = _run(loki_store, '{service_name="payments"} | json amount="amount", user, h="x.y"')
    assert _parsed(entries, 7) == {"amount": "12.5", "user": "", "h": ""}
    assert _parsed(entries, 8) == {"amount": "", "user": "carol", "h": ""}
    nested = _run(loki_store, f'{CHECKOUT} | json code="http.status", first="tags[0]"')
    assert _parsed(nested, 3) == {"code": "503", "first": "a"}


def test_logfmt_flags(loki_store: Storage) -> None:
    strict = _parsed(_run(loki_store, f"{CHECKOUT} | logfmt --strict"), 3)
    assert strict["__error__"] == "LogfmtParserErr"
    assert strict["__error_details__"] == "logfmt syntax error at pos 2 : unexpected '\"'"
    assert "__error__" not in _parsed(_run(loki_store, f"{CHECKOUT} | logfmt"), 3)
    # Bare words are keys without values: kept only with --keep-empty, names sanitised.
    assert _parsed(_run(loki_store, f"{CHECKOUT} | logfmt"), 4) == {}
    empty = _parsed(_run(loki_store, f"{CHECKOUT} | logfmt --keep-empty"), 4)
    assert empty == {"GET": "", "_api_cart": "", "_10_1_2_3": "", "_200": "", "_15ms": ""}
    picked = _parsed(_run(loki_store, f'{CHECKOUT} | logfmt took="duration", user'), 1)
    assert picked == {"took": "120ms", "user": "alice"}


def test_regexp_and_pattern(loki_store: Storage) -> None:
    query = f'{CHECKOUT} | regexp "(?P<method>[A-Z]+) (?P<path>/\\\\S+)"'
    entries = _run(loki_store, query)
    assert _records(entries) == [6, 5, 4, 3, 2, 1]  # a parser never drops a line
    assert _parsed(entries, 4) == {"method": "GET", "path": "/api/cart"}
    assert _parsed(entries, 1) == {}
    pattern = _run(loki_store, f'{CHECKOUT} | pattern "<method> <path> <_>"')
    assert _parsed(pattern, 4) == {"method": "GET", "path": "/api/cart"}
    # A line that does not start as the pattern does gives nothing; one that ends early
    # gives the captures it reached.
    assert _parsed(pattern, 3) == {"method": LINES[3][1]}


def test_label_filter_conversion_errors_keep_the_line(loki_store: Storage) -> None:
    query = f'{CHECKOUT} | pattern "<method> <path> <ip> <status> <_>" | status = 200'
    entries = _run(loki_store, query)
    assert _parsed(entries, 1)["__error__"] == "LabelFilterErr"
    assert _parsed(entries, 1)["__error_details__"] == (
        'strconv.ParseFloat: parsing "duration=120ms": invalid syntax'
    )
    assert "__error__" not in _parsed(entries, 4)


def test_unpack(loki_store: Storage) -> None:
    entries = _run(loki_store, '{service_name="payments"} | unpack')
    row = entries.times.index(AT[11])
    assert entries.lines[row] == "inner line"
    assert _parsed(entries, 11) == {"pod": "p-9"}
    # An object without _entry is left as it is; a line that is no object is an error.
    assert _parsed(entries, 8) == {}
    errors = _run(loki_store, '{service_name="worker"} | unpack')
    assert _parsed(errors, 9)["__error__"] == "JSONParserErr"


def test_drop_and_keep(loki_store: Storage) -> None:
    kept = _run(loki_store, f"{CHECKOUT} | logfmt | keep user, service_name")
    row = kept.times.index(AT[1])
    assert kept.labels[row].all() == (("service_name", "checkout"), ("user", "alice"))
    dropped = _run(loki_store, f'{CHECKOUT} | logfmt | drop level, user="bob", k8s_pod_name')
    one = dict(dropped.labels[dropped.times.index(AT[1])].all())
    two = dict(dropped.labels[dropped.times.index(AT[2])].all())
    assert "level" not in one and "k8s_pod_name" not in one and one["user"] == "alice"
    assert "user" not in two


def test_decolorize(loki_store: Storage) -> None:
    entries = _run(loki_store, f"{CHECKOUT} | decolorize")
    assert entries.lines[entries.times.index(AT[5])] == "red alert error"


def test_line_format(loki_store: Storage) -> None:
    entries = _run(loki_store, f'{CHECKOUT} | logfmt | line_format "{{{{.user}}}}: {{{{.msg}}}}"')
    found = dict(zip(_records(entries), entries.lines, strict=True))
    assert found == {
        6: ": ",
        5: ": ",
        4: ": ",
        3: ": ",
        2: "bob: payment failed",
        1: "alice: order placed",
    }
    # A filter after line_format sees the new line (in Python: SQL has the old one).
    filtered = _run(loki_store, f'{CHECKOUT} | logfmt | line_format "{{{{.user}}}}" |= "bob"')
    assert _records(filtered) == [2] and filtered.lines == ["bob"]
    stream = _run(loki_store, '{app="shop"} | line_format "{{.service_name}}: {{__line__}}"')
    assert stream.lines == ["shop: pushed line error"]


def test_label_format(loki_store: Storage) -> None:
    query = f'{CHECKOUT} | logfmt | label_format who=user, shout="{{{{.level | ToUpper}}}}"'
    parsed = _parsed(_run(loki_store, query), 1)
    assert parsed["who"] == "alice" and parsed["shout"] == "INFO"
    assert "user" not in parsed


def test_template_errors_keep_the_line(loki_store: Storage) -> None:
    entries = _run(loki_store, '{app="shop"} | line_format "{{ now 1 }}"')
    assert entries.lines == ["pushed line error"]
    parsed = _parsed(entries, 10)
    assert parsed["__error__"] == "TemplateFormatErr"
    assert "wrong number of args for now" in parsed["__error_details__"]


def test_many_records_read_in_batches(loki_store: Storage) -> None:
    """A pipeline that drops most lines reads past the first batch, window after window;
    records sharing one time at a batch's edge are read once each."""
    loki_store.write(WriteBatch(logs=[bulk_request()]))
    query = parse('{service_name="bulk"} | logfmt | pick="yes"')
    assert isinstance(query, LogQuery)
    for direction in Direction:
        found = select_logs(
            loki_store,
            query,
            start_ns=BULK_START,
            end_ns=BULK_END,
            limit=5000,
            direction=direction,
        ).entries
        expected = expected_bulk()
        if direction is Direction.FORWARD:
            expected.reverse()
        assert [t for t, _ in expected] == found.times
        assert sorted(line for _, line in expected) == sorted(found.lines)
        assert len(set(found.lines)) == len(found.lines)
    limited = select_logs(loki_store, query, start_ns=BULK_START, end_ns=BULK_END, limit=10)
    assert limited.entries.lines == [line for _, line in expected_bulk()[:10]]
