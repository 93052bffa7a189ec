"""SLOs and alert state kept under the data directory: what a restart finds."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from otelite.analysis import (
    NOTIFIERS,
    SLO_MAX_PER_TENANT,
    SLO_MAX_TRANSITIONS,
    AlertBook,
    Condition,
    SloCatalog,
    SloEvaluator,
    Transition,
    parse_documents,
)
from otelite.errors import InvalidRequest, NotFound
from otelite.storage import WriteBatch
from otelite.tenancy import SINGLE_TENANT
from tests.backends import store

from .slo_data import MINUTE, batch, spread
from .test_openslo import AVAILABILITY, PROMETHEUS
from .test_slo_api import SLO

AT = 1_780_000_000 * 10**9


def condition(holds: bool, rule: str = "SLOFastBurn", slo: str = "a") -> Condition:
    return Condition(slo, "0", rule, holds, 20.0 if holds else 1.0, {"alertname": rule}, {})


def test_definitions_survive_a_restart(tmp_path: Path) -> None:
    catalog = SloCatalog(tmp_path)
    book = catalog.book("acme")
    assert book.put(parse_documents(AVAILABILITY + "---\n" + PROMETHEUS)) == [True, True]
    book.delete("checkout-errors", AT)
    reopened = SloCatalog(tmp_path)
    reopened.load()
    assert reopened.tenants() == ["acme"]
    [slo] = reopened.book("acme").slos()
    assert slo == parse_documents(AVAILABILITY)[0]
    with pytest.raises(NotFound):
        reopened.book("acme").get("checkout-errors")
    assert (tmp_path / "slos" / "acme" / "definitions.json").exists()


def test_a_document_this_version_refuses_is_left_out(tmp_path: Path) -> None:
    SloCatalog(tmp_path).book("acme").put(parse_documents(AVAILABILITY + "---\n" + PROMETHEUS))
    path = tmp_path / "slos" / "acme" / "definitions.json"
    documents = orjson.loads(path.read_bytes())
    documents[0]["spec"]["budgetingMethod"] = "Timeslices"
    path.write_bytes(orjson.dumps(documents))
    reopened = SloCatalog(tmp_path)
    reopened.load()
    assert [slo.name for slo in reopened.book("acme").slos()] == ["payment-availability"]


def test_a_firing_alert_does_not_fire_again_after_a_restart(tmp_path: Path) -> None:
    book = AlertBook(tmp_path)
    [fired] = book.record("a", [condition(True)], AT)
    assert (fired.sequence, fired.alert.state, fired.alert.active_at_ns) == (1, "firing", AT)
    again = AlertBook(tmp_path)
    assert again.record("a", [condition(True)], AT + MINUTE) == []
    [alert] = again.alerts(AT + MINUTE)
    assert (alert.state, alert.active_at_ns) == ("firing", AT)
    [resolved] = again.record("a", [condition(False)], AT + 2 * MINUTE)
    assert (resolved.sequence, resolved.alert.state) == (2, "resolved")
    # The changes are kept in order for whoever sends notifications, across restarts.
    third = AlertBook(tmp_path)
    assert [t.sequence for t in third.transitions()] == [1, 2]
    assert [t.alert.state for t in third.transitions(after=1)] == ["resolved"]
    # Resolved alerts are shown for 15 minutes, then forgotten.
    assert [a.state for a in third.alerts(AT + 10 * MINUTE)] == ["resolved"]
    assert third.alerts(AT + 20 * MINUTE) == []


def test_an_alert_that_keeps_firing_is_repeated_after_the_interval(tmp_path: Path) -> None:
    hour = 60 * MINUTE
    book = AlertBook(tmp_path)
    [fired] = book.record("a", [condition(True)], AT, repeat_ns=hour)
    assert book.record("a", [condition(True)], AT + hour - 1, repeat_ns=hour) == []
    # Counted from the last hand-over, across a restart; the alert is the same one.
    again = AlertBook(tmp_path)
    [repeat] = again.record("a", [condition(True)], AT + hour, repeat_ns=hour)
    assert (repeat.sequence, repeat.alert.state, repeat.alert.active_at_ns) == (2, "firing", AT)
    assert repeat.alert.key == fired.alert.key
    assert again.record("a", [condition(True)], AT + 2 * hour - 1, repeat_ns=hour) == []
    [second] = again.record("a", [condition(True)], AT + 2 * hour, repeat_ns=hour)
    assert second.sequence == 3
    # Without an interval, never; a resolved alert is not repeated.
    assert again.record("a", [condition(True)], AT + 9 * hour) == []
    [resolved] = again.record("a", [condition(False)], AT + 9 * hour + 1, repeat_ns=hour)
    assert resolved.alert.state == "resolved"
    assert again.record("a", [condition(False)], AT + 11 * hour, repeat_ns=hour) == []


def test_a_state_saved_before_repeats_counts_from_the_firing(tmp_path: Path) -> None:
    hour = 60 * MINUTE
    AlertBook(tmp_path).record("a", [condition(True)], AT)
    path = tmp_path / "alerts.json"
    state = orjson.loads(path.read_bytes())
    for alert in [*state["alerts"], *(t["alert"] for t in state["transitions"])]:
        del alert["noted_at_ns"]
    path.write_bytes(orjson.dumps(state))
    old = AlertBook(tmp_path)
    assert old.record("a", [condition(True)], AT + hour - 1, repeat_ns=hour) == []
    assert len(old.record("a", [condition(True)], AT + hour, repeat_ns=hour)) == 1


def test_an_alert_whose_slo_or_objective_is_gone_is_resolved() -> None:
    book = AlertBook(None)
    book.record("a", [condition(True), condition(True, "SLOSlowBurn")], AT)
    [gone] = book.record("a", [condition(True)], AT + MINUTE)
    assert (gone.alert.rule, gone.alert.state) == ("SLOSlowBurn", "resolved")
    [forgotten] = book.forget("a", AT + 2 * MINUTE)
    assert (forgotten.alert.rule, forgotten.alert.state) == ("SLOFastBurn", "resolved")
    assert book.record("b", [condition(False, slo="b")], AT) == []


def test_an_evaluation_of_a_deleted_or_replaced_slo_is_not_recorded() -> None:
    book = SloCatalog(None).book("acme")
    [slo] = parse_documents(SLO)
    book.put([slo])
    found = [condition(True, slo=slo.name)]
    [fired] = book.record(slo, found, AT)
    # Deleted while an evaluation ran: what it found changes nothing.
    [resolved] = book.delete(slo.name, AT + MINUTE)
    assert (fired.alert.state, resolved.alert.state) == ("firing", "resolved")
    assert book.record(slo, found, AT + 2 * MINUTE) == []
    assert book.alerts.alerts(AT + 2 * MINUTE)[0].state == "resolved"
    # Replaced: the old definition's findings are dropped, the new one's are kept.
    [new] = parse_documents(SLO)
    book.put([new])
    assert book.record(slo, found, AT + 3 * MINUTE) == []
    assert len(book.record(new, found, AT + 3 * MINUTE)) == 1


def test_a_tenant_keeps_a_bounded_number_of_slos() -> None:
    book = SloCatalog(None).book("acme")
    [slo] = parse_documents(SLO)
    many = [replace(slo, name=f"slo-{n}") for n in range(SLO_MAX_PER_TENANT)]
    assert all(book.put(many))
    with pytest.raises(InvalidRequest, match=f"at most {SLO_MAX_PER_TENANT} SLOs"):
        book.put([slo])
    assert len(book.slos()) == SLO_MAX_PER_TENANT
    assert book.put(many[:1]) == [False]  # replacing one is still allowed


def test_the_change_log_is_bounded() -> None:
    book = AlertBook(None)
    for n in range(SLO_MAX_TRANSITIONS + 10):
        book.record("a", [condition(n % 2 == 0)], AT + n)
    kept = book.transitions()
    assert len(kept) == SLO_MAX_TRANSITIONS
    assert kept[-1].sequence == SLO_MAX_TRANSITIONS + 10


def test_the_evaluator_picks_up_where_it_left_off(tmp_path: Path) -> None:
    with store("duckdb") as storage:
        failing = spread(AT - 4 * MINUTE, AT - MINUTE, 10, failed=True)
        storage.write(WriteBatch(traces=[batch("payment", failing)]))
        catalog = SloCatalog(tmp_path, receivers=[NOTIFIERS])
        catalog.book(SINGLE_TENANT).put(parse_documents(SLO))
        told: list[tuple[str, list[int]]] = []
        refuse = [True]

        async def notify(tenant: str, changes: list[Transition]) -> None:
            if refuse[0]:
                raise OSError("the outbox's disk is full")
            told.append((tenant, [c.sequence for c in changes]))

        evaluator = SloEvaluator(catalog, lambda tenant: storage, notify=notify)
        assert len(asyncio.run(evaluator.evaluate(AT))) == 3
        assert told == []  # refused: kept for the next pass
        refuse[0] = False
        assert asyncio.run(evaluator.evaluate(AT + 1)) == []
        assert told == [(SINGLE_TENANT, [1, 2, 3])]
        restarted = SloCatalog(tmp_path, receivers=[NOTIFIERS])
        restarted.load()
        again = SloEvaluator(restarted, lambda tenant: storage, notify=notify)
        assert asyncio.run(again.evaluate(AT + MINUTE)) == []
        assert told == [(SINGLE_TENANT, [1, 2, 3])]  # handed over once, across the restart
        last = again.last(SINGLE_TENANT, "payment-availability")
        assert last is not None and last.error is None and last.at_ns == AT + MINUTE
        # What it found is the status for up to two intervals (2 minutes), of this version.
        [slo] = restarted.book(SINGLE_TENANT).slos()
        assert again.latest(SINGLE_TENANT, slo, AT + 2 * MINUTE) is last.status
        assert again.latest(SINGLE_TENANT, slo, AT + 3 * MINUTE) is None
        assert again.latest(SINGLE_TENANT, parse_documents(SLO)[0], AT + MINUTE) is None
