"""What the tail sampler gathers of a trace is the same however its spans are cut into
requests: figures summed up request by request and merged equal figures worked out from
the whole list of spans."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from otelite.pipeline import TailSamplingSettings, parse_pipeline
from otelite.pipeline._sampling_policies import summarizer_for
from otelite.pipeline._trace_summary import HeldTrace, TraceSummarizer
from tests.pipeline.test_tail_sampling import MS, T0, TRACES, S, request, trace_id

POLICIES = """\
processors:
  tail_sampling:
    policies:
- {name: slow, type: latency, latency: {threshold_ms: 1}}
- {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
- {name: budget, type: rate_limiting, rate_limiting: {traces_per_second: 5}}
- {name: route, type: string_attribute, string_attribute: {key: http.route, values: [/checkout]}}
- {name: env, type: string_attribute,
   string_attribute: {key: deployment.environment, values: [prod]}}
"""


def expected(spans: list[S], trace: int) -> dict[str, object]:
    """The figures of ``trace`` from its spans, in the order they were sent."""
    mine = [s for s in spans if s.trace == trace]
    roots = [s.service for s in mine if not s.parent]
    found = set()
    for s in mine:
        if s.attributes.get("http.route") == "/checkout":
            found.add("route")
        if s.resource.get("deployment.environment") == "prod":
            found.add("env")
    return {
        "span_count": len(mine),
        "start_ns": T0 + min(s.start_ms for s in mine) * MS,
        "end_ns": T0 + max(s.end_ms for s in mine) * MS,
        "statuses": (4 if any(s.error for s in mine) else 0)
        | (1 if not all(s.error for s in mine) else 0),
        "service": roots[0] if roots else mine[0].service,
        "found": found,
    }


def figures(trace: HeldTrace) -> dict[str, object]:
    return {
        "span_count": trace.span_count,
        "start_ns": trace.start_ns,
        "end_ns": trace.end_ns,
        "statuses": trace.statuses,
        "service": trace.service(),
        "found": {policy.name for policy in trace.found},  # type: ignore[attr-defined]
    }


def summarizer_for_the_policies() -> TraceSummarizer:
    chosen = parse_pipeline(POLICIES.replace("\n- ", "\n      - "), "p.yaml").tail_sampling
    assert isinstance(chosen, TailSamplingSettings)
    return summarizer_for(chosen.policies)


@settings(max_examples=60, deadline=None)
@given(st.permutations(TRACES), st.lists(st.integers(1, len(TRACES) - 1), max_size=4))
def test_merged_figures_equal_those_of_every_span_at_once(order: list[S], cuts: list[int]) -> None:
    summarizer = summarizer_for_the_policies()
    bounds = [0, *sorted(set(cuts)), len(order)]
    merged: dict[bytes, HeldTrace] = {}
    for low, high in itertools.pairwise(bounds):
        for key, part in summarizer.summarize("t", request(*order[low:high])).items():
            if key in merged:
                merged[key].merge(part)
            else:
                merged[key] = part
    for number in sorted({s.trace for s in TRACES}):
        assert figures(merged[trace_id(number)]) == expected(order, number)
