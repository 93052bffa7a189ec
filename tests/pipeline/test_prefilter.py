"""The first look at a request's bytes never misses what redaction would change: with and
without it, every request comes out the same."""

from __future__ import annotations

import dataclasses
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otelite.pipeline import RedactionRules, parse_pipeline
from otelite.pipeline._prefilter import scan_for, widen
from otelite.types import ExportTraceServiceRequest

RULES = """\
processors:
  redaction:
    hash_key_env: OTELITE_PREFILTER_TEST_KEY
    rules:
      - {keys: [user.password], action: delete}
      - {key_pattern: '^(?i:x-api-key)$', action: mask}
      - {values: [credit_card, email, bearer_token, jwt, aws_access_key, us_ssn, ipv4],
         action: mask}
      - {value_pattern: '\\bacct-\\d{6}\\b', action: hash}
"""

SECRETS = [
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "jane@example.com",
    "Bearer abc.DEF-123",
    "eyJhbGciOi.eyJzdWIi.sig",
    "AKIAABCDEFGHIJKLMNOP",
    "123-45-6789",
    "10.0.0.1",
    "acct-123456",
]


@pytest.mark.parametrize(
    ("pattern", "widened"),
    [
        (r"\bacct-\d{6}\b", r"acct-\d{6}"),
        (r"^(?i:token)$", r"(?i:token)"),
        (r"[^\b$]x\\b", r"[^\b$]x\\b"),  # a class's contents and an escaped backslash stay
        (r"[]^]a", r"[]^]a"),
        (r"\Aab\Z", r"ab"),
        (r"(?<=x)y", None),
        (r"(a)\1", None),
        (r"é", None),
    ],
)
def test_widen(pattern: str, widened: str | None) -> None:
    assert widen(pattern) == widened


def test_no_scan_for_what_re2_cannot_take() -> None:
    assert scan_for(["a"], ["(?>x)"]) is None
    assert scan_for(["clé"], []) is None
    found = scan_for(["user.password"], [r"\bx\b"])
    assert found is not None and found.may_match(b"\x0duser.password") and found.may_match(b"Ax")
    assert not found.may_match(b"user_password")


def request(values: list[tuple[str, str]]) -> ExportTraceServiceRequest:
    span = Span(
        name="op",
        attributes=[KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in values],
    )
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]
    )


texts = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda pad, secret, tail: pad + secret + tail,
        # Paddings of every length put every byte value before a value's first character.
        st.text(alphabet="aA1 -_.@", max_size=130),
        st.sampled_from(SECRETS),
        st.text(alphabet="aA1 -_.@", max_size=3),
    ),
)
keys = st.sampled_from(["user.password", "X-API-Key", "note", "to", "x-api-keys"])


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.tuples(keys, texts), max_size=6))
def test_the_scan_never_changes_the_outcome(values: list[tuple[str, str]]) -> None:
    os.environ["OTELITE_PREFILTER_TEST_KEY"] = "k"
    scanned = parse_pipeline(RULES).redaction
    assert isinstance(scanned, RedactionRules) and scanned.scan is not None
    walked = dataclasses.replace(scanned, scan=None, counts=type(scanned.counts)())
    with_scan, without = request(values), request(values)
    changed = scanned.apply(with_scan, with_scan.SerializeToString())
    assert changed == walked.apply(without)
    assert with_scan == without
