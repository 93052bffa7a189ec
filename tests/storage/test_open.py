"""Choosing the store: ``--storage`` values, what is said when a driver is missing, tenants."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from otelite.config import StorageLocation, parse_storage, tenant_database_suffix
from otelite.errors import Unavailable
from otelite.storage import open_storage


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("duckdb", StorageLocation()),
        ("", StorageLocation()),
        (
            "clickhouse://otel:p%40ss@ch.internal:8123/telemetry",
            StorageLocation(
                "clickhouse",
                host="ch.internal",
                port=8123,
                user="otel",
                password="p@ss",
                database="telemetry",
            ),
        ),
        (
            "clickhouse://ch.internal/telemetry?secure=true",
            StorageLocation(
                "clickhouse", host="ch.internal", port=8443, database="telemetry", secure=True
            ),
        ),
        ("clickhouse://ch:9000", StorageLocation("clickhouse", host="ch", port=9000)),
        ("chdb:/var/lib/ch", StorageLocation("chdb", path=Path("/var/lib/ch"))),
        (
            "chdb:./data/ch?database=prod",
            StorageLocation("chdb", path=Path("data/ch"), database="prod"),
        ),
    ],
)
def test_storage_urls(text: str, expected: StorageLocation) -> None:
    assert parse_storage(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("postgres://x", "expected duckdb, clickhouse://USER:PASSWORD@HOST:8123/DB or chdb:PATH"),
        ("clickhouse:///db", "no host"),
        ("clickhouse://h/bad-name", "database name 'bad-name': letters, digits and _ only"),
        ("chdb:", "chdb:PATH needs a directory"),
        ("clickhouse://u:hunter2@h:99999/db", "out of range"),
    ],
)
def test_bad_storage_urls_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        parse_storage(text)
    assert "hunter2" not in str(error.value)


def test_the_password_is_never_shown() -> None:
    location = parse_storage("clickhouse://otel:hunter2@ch:8123/otel")
    assert location.describe() == "clickhouse://otel:***@ch:8123/otel"
    assert "hunter2" not in repr(location)


def test_tenants_get_databases_no_two_share() -> None:
    names = {tenant_database_suffix(t) for t in ("a.b", "a_2eb", "a_b", "A-b", "a*b", "a'b")}
    assert len(names) == 6
    location = parse_storage("clickhouse://ch/otel")
    assert location.for_tenant("team-a").database == "otel_team_2da"


@pytest.mark.parametrize(
    ("text", "missing", "command"),
    [
        ("clickhouse://ch/otel", "clickhouse_connect", "pip install 'otelite[clickhouse]'"),
        ("chdb:/tmp/x", "chdb", "pip install 'otelite[chdb]'"),
    ],
)
def test_a_missing_driver_names_the_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, missing: str, command: str
) -> None:
    real_import = builtins.__import__

    def without(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == missing or name.startswith(missing + "."):
            raise ImportError(f"No module named {missing!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without)
    monkeypatch.setattr("importlib.import_module", lambda name: without(name))
    with pytest.raises(Unavailable, match=command.replace("[", r"\[").replace("]", r"\]")):
        open_storage(parse_storage(text), tmp_path)
