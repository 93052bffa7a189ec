"""Deploys found from hand-built version changes, with RED worked out independently."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.analysis import Deploy, Red, find_deployments
from otelite.errors import InvalidRequest
from otelite.query import TimeRange
from otelite.storage import Storage, WriteBatch
from tests.backends import BACKENDS, store

from .deploy_samples import END, MINUTE, MS, SECOND, T0, expected_red, export_request


@pytest.fixture(scope="module", params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[export_request()]))
        yield opened


def _found(storage: Storage, service: str | None = None) -> list[Deploy]:
    return list(find_deployments(storage, TimeRange(T0, END), service).deploys)


def _assert_red(red: Red, service: str, start: int, end: int, version: str | None = None) -> None:
    expected = expected_red(service, start, end, version)
    assert red.request_count == expected.requests
    assert red.error_count == expected.errors
    assert red.seconds == expected.seconds
    assert red.rate_per_second == pytest.approx(expected.requests / expected.seconds)
    for got, want in (
        (red.p50_ns, expected.p50_ns),
        (red.p95_ns, expected.p95_ns),
        (red.p99_ns, expected.p99_ns),
    ):
        assert got == pytest.approx(want)


def test_each_version_change_is_one_deploy_dated_by_the_new_versions_first_span(
    storage: Storage,
) -> None:
    found = [(d.service, d.version, d.time_ns, d.previous, d.rollback) for d in _found(storage)]
    assert found == [
        ("rollback", "b", T0 + 20 * MINUTE, ("a",), False),
        ("clean", "2.0", T0 + 30 * MINUTE, ("1.0",), False),
        ("rolling", "2.0", T0 + 30 * MINUTE + 5 * SECOND, ("1.0",), False),
        ("rollback", "a", T0 + 40 * MINUTE, ("b",), True),
        ("paused", "1.1", T0 + 50 * MINUTE, ("1.0",), False),
    ]


def test_a_rollout_ends_with_the_last_span_of_the_replaced_version(storage: Storage) -> None:
    ends = {(d.service, d.version): d.rollout_end_ns for d in _found(storage)}
    # The last request came 10 s before the next version's first; its child span (the
    # version's last span) started 1 ms after it.
    last_request = -10 * SECOND + MS
    assert ends == {
        ("clean", "2.0"): T0 + 30 * MINUTE + last_request,
        ("rolling", "2.0"): T0 + 40 * MINUTE + last_request,
        ("rollback", "b"): T0 + 20 * MINUTE + last_request,
        ("rollback", "a"): T0 + 40 * MINUTE + last_request,
        ("paused", "1.1"): T0 + 10 * MINUTE + last_request,
    }


def test_a_service_with_one_version_or_none_has_no_deploy(storage: Storage) -> None:
    assert _found(storage, "steady") == []
    assert _found(storage, "unversioned") == []
    answer = find_deployments(storage, TimeRange(T0, END))
    seen = {(v.service, v.version) for v in answer.versions}
    assert ("steady", "3.1") in seen
    assert not any(v.service == "unversioned" for v in answer.versions)
    assert not answer.truncated


def test_red_before_and_after_a_clean_switch(storage: Storage) -> None:
    [deploy] = _found(storage, "clean")
    t = T0 + 30 * MINUTE
    assert deploy.before is not None and deploy.after is not None
    assert (deploy.before.start_ns, deploy.before.end_ns) == (t - 15 * MINUTE, t)
    assert (deploy.after.start_ns, deploy.after.end_ns) == (t, t + 15 * MINUTE)
    _assert_red(deploy.before.service, "clean", t - 15 * MINUTE, t)
    _assert_red(deploy.after.service, "clean", t, t + 15 * MINUTE)
    assert deploy.after.service.error_rate > deploy.before.service.error_rate == 0
    assert deploy.after.service.p50_ns > deploy.before.service.p99_ns  # type: ignore[operator]


def test_a_window_without_requests_has_no_latency(storage: Storage) -> None:
    # 1.0 stopped at 10 minutes, 1.1 started at 50: nothing in the 15 minutes before.
    [deploy] = _found(storage, "paused")
    assert deploy.before is not None and deploy.after is not None
    before = deploy.before.service
    assert (before.request_count, before.error_count, before.p50_ns, before.p99_ns) == (
        0,
        0,
        None,
        None,
    )
    assert before.rate_per_second == before.error_rate == 0
    assert deploy.before.versions == ()
    _assert_red(deploy.after.service, "paused", T0 + 50 * MINUTE, T0 + 65 * MINUTE)


def test_red_per_version_while_versions_overlap(storage: Storage) -> None:
    [deploy] = _found(storage, "rolling")
    t = T0 + 30 * MINUTE + 5 * SECOND
    assert deploy.after is not None and deploy.before is not None
    versions = dict(deploy.after.versions)
    assert sorted(versions) == ["1.0", "2.0"]
    for version, red in versions.items():
        _assert_red(red, "rolling", t, t + 15 * MINUTE, version)
    _assert_red(deploy.after.service, "rolling", t, t + 15 * MINUTE)
    assert [v for v, _ in deploy.before.versions] == ["1.0"]


def test_windows_stop_at_the_neighbouring_deploys_and_the_range(storage: Storage) -> None:
    first, second = _found(storage, "rollback")
    assert first.after is not None and second.before is not None
    # The windows are 15 minutes, and the deploys 20 minutes apart: nothing to cut here.
    assert first.after.end_ns == T0 + 35 * MINUTE
    assert second.before.start_ns == T0 + 25 * MINUTE
    # With 30-minute windows the deploys bound each other.
    wide = find_deployments(
        storage, TimeRange(T0 + 10 * MINUTE, END), "rollback", window_ns=30 * MINUTE
    )
    first, second = wide.deploys
    assert first.before is not None and first.after is not None
    assert second.before is not None and second.after is not None
    assert first.before.start_ns == T0 + 10 * MINUTE  # the range's start
    assert first.after.end_ns == second.before.end_ns == second.time_ns
    assert second.before.start_ns == first.time_ns
    _assert_red(second.before.service, "rollback", first.time_ns, second.time_ns)
    _assert_red(first.before.service, "rollback", T0 + 10 * MINUTE, first.time_ns)


def test_a_short_absence_is_not_a_rollback(storage: Storage) -> None:
    # Settling longer than b served: a was never replaced, so b is the only deploy.
    answer = find_deployments(storage, TimeRange(T0, END), "rollback", settle_ns=25 * MINUTE)
    assert [(d.version, d.rollback, d.rollout_end_ns) for d in answer.deploys] == [
        ("b", False, None)
    ]


def test_bad_ranges_and_durations_name_the_parameter(storage: Storage) -> None:
    with pytest.raises(InvalidRequest, match="start"):
        find_deployments(storage, TimeRange(T0, T0 + 8 * 24 * 60 * MINUTE))
    with pytest.raises(InvalidRequest, match="bounded"):
        find_deployments(storage, TimeRange(None, END))
    with pytest.raises(InvalidRequest, match="settle"):
        find_deployments(storage, TimeRange(T0, END), settle_ns=0)
    with pytest.raises(InvalidRequest, match="window"):
        find_deployments(storage, TimeRange(T0, END), window_ns=-1)


def test_only_the_latest_deploys_are_given_and_the_answer_says_so(storage: Storage) -> None:
    answer = find_deployments(storage, TimeRange(T0, END), max_deploys=2)
    assert [(d.service, d.version) for d in answer.deploys] == [
        ("rollback", "a"),
        ("paused", "1.1"),
    ]
    assert answer.truncated
    assert answer.warnings == ("5 deploys: only the latest 2 are given",)
    # The windows are those of the whole answer: the cut does not move them.
    [rollback] = [d for d in answer.deploys if d.service == "rollback"]
    assert rollback.before is not None and rollback.before.start_ns == T0 + 25 * MINUTE


def test_rows_past_the_cap_are_not_read_and_the_answer_says_so(storage: Storage) -> None:
    # One row per version and request (10 s apart, in buckets of 7.2 s): 120 rows cover
    # the first 20 minutes of the one service, before its deploy at 30 minutes.
    answer = find_deployments(storage, TimeRange(T0, END), "clean", max_rows=120)
    assert answer.deploys == ()
    assert answer.truncated
    [warning] = answer.warnings
    assert warning.startswith("more than 120 version rows: versions read until 2023-11-14T")
    # With room for every row, the deploy is there.
    assert len(find_deployments(storage, TimeRange(T0, END), "clean", max_rows=400).deploys) == 1
