"""The chDB-backed ClickHouse HTTP endpoint, driven by the real clickhouse-connect client.

These pin down what otelite's ClickHouse code can rely on when its tests run against
``tests.clickhouse_http`` instead of a ClickHouse server: the client's own HTTP code path
(probes, compression, typed parameters, Arrow and Native inserts, errors, authentication),
insert deduplication, and what the client does when a connection drops during an insert.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import clickhouse_connect
import pyarrow as pa
import pytest
import urllib3
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from tests.backends import chdb_path
from tests.clickhouse_http import ClickHouseHTTP

USER, PASSWORD = "otelite", "s3cret:pw"

SPANS_DDL = """
CREATE TABLE spans (
    Timestamp DateTime64(9),
    ServiceName LowCardinality(String),
    SpanAttributes Map(String, String),
    Duration UInt64
) ENGINE = MergeTree ORDER BY (ServiceName, Timestamp)
SETTINGS non_replicated_deduplication_window = 100
"""


def _spans(n: int = 3, service: str = "checkout") -> pa.Table:
    return pa.table(
        {
            "Timestamp": pa.array(
                [1_700_000_000_123_456_789 + i for i in range(n)], pa.timestamp("ns")
            ),
            "ServiceName": [service] * n,
            "SpanAttributes": pa.array(
                [[("http.route", f"/r/{i}"), ("i", str(i))] for i in range(n)],
                pa.map_(pa.string(), pa.string()),
            ),
            "Duration": pa.array([1000 * i for i in range(n)], pa.uint64()),
        }
    )


def _connect(server: ClickHouseHTTP, database: str | None = None, **kwargs: Any) -> Client:
    return clickhouse_connect.get_client(
        host="127.0.0.1",
        port=server.port,
        username=USER,
        password=kwargs.pop("password", PASSWORD),
        database=database,
        **kwargs,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[ClickHouseHTTP]:
    """Over the test run's one chDB directory: a process holds one path at a time."""
    with ClickHouseHTTP(chdb_path(), user=USER, password=PASSWORD) as s:
        yield s


@pytest.fixture
def database(server: ClickHouseHTTP) -> Iterator[str]:
    """A fresh database per test inside the module's one path."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _connect(server) as admin:
        admin.command(f"CREATE DATABASE {name}")
    yield name
    with _connect(server) as admin:
        admin.command(f"DROP DATABASE {name}")


@pytest.fixture
def client(server: ClickHouseHTTP, database: str) -> Iterator[Client]:
    with clickhouse_connect.get_client(dsn=server.url(database)) as c:
        yield c


def test_connect_probes_and_ping(server: ClickHouseHTTP, database: str) -> None:
    """get_client's probes are answered; the protocol probe falls back to plain Native."""
    del server.requests[:]
    with clickhouse_connect.get_client(dsn=server.url(database)) as c:
        assert c.ping()
        assert c.server_version.startswith("26.")
        assert c.database == database
        assert c.protocol_version == 0  # chDB's Native has no block info: the client falls back
        assert c.command("SELECT currentDatabase()") == database
    assert server.requests[:3] == [
        "SELECT version(), timezone()",
        "SELECT name, value, readonly FROM system.settings LIMIT 10000\n FORMAT Native",
        "SELECT 1 AS check\n FORMAT Native",
    ]


def test_arrow_round_trip_with_typed_parameters(client: Client, server: ClickHouseHTTP) -> None:
    """insert_arrow's Arrow body lands with Map and DateTime64(9) intact; ``{p:T}`` binds."""
    client.command(SPANS_DDL)
    spans = pa.concat_tables([_spans(3), _spans(2, service="cart")])
    summary = client.insert_arrow("spans", spans)
    assert summary.written_rows == 5
    columns = "`Timestamp`, `ServiceName`, `SpanAttributes`, `Duration`"
    assert f"INSERT INTO `spans` ({columns}) FORMAT Arrow" in server.requests

    got = client.query_arrow(
        "SELECT * FROM spans WHERE ServiceName = {service:String} AND Duration >= {d:UInt64}"
        " ORDER BY Timestamp",
        parameters={"service": "checkout", "d": 1000},
        settings={"max_threads": 1},
    )
    assert got.num_rows == 2
    assert got.column("Timestamp").cast(pa.int64()).to_pylist() == [
        1_700_000_000_123_456_790,
        1_700_000_000_123_456_791,
    ]
    assert got.column("SpanAttributes").to_pylist() == [
        [("http.route", "/r/1"), ("i", "1")],
        [("http.route", "/r/2"), ("i", "2")],
    ]
    assert got.column("ServiceName").to_pylist() == ["checkout", "checkout"]


@pytest.mark.parametrize("compress", [True, False, "zstd", "gzip"])
def test_native_query_and_insert_with_and_without_compression(
    server: ClickHouseHTTP, database: str, compress: bool | str
) -> None:
    """Native inserts (compressed body, SQL in ``query=``) and Native/Arrow reads, each way."""
    with _connect(server, database, compress=compress) as c:
        c.command(SPANS_DDL)
        c.insert(
            "spans",
            [[1_700_000_000, "svc", {"k": "v"}, 7]],
            column_names=["Timestamp", "ServiceName", "SpanAttributes", "Duration"],
        )
        c.insert_arrow("spans", _spans(2))
        rows = c.query(
            "SELECT ServiceName, SpanAttributes, Duration FROM spans"
            " WHERE Duration < {max:UInt64} ORDER BY Duration DESC",
            parameters={"max": 100},
        ).result_rows
        assert rows == [("svc", {"k": "v"}, 7), ("checkout", {"http.route": "/r/0", "i": "0"}, 0)]
        assert c.query_arrow("SELECT count() AS n FROM spans").column("n").to_pylist() == [3]


def test_responses_are_compressed_as_clickhouse_does(server: ClickHouseHTTP) -> None:
    """Only with ``enable_http_compression=1``, preferring zstd: the client decodes what it gets."""
    http = urllib3.PoolManager()
    headers = urllib3.make_headers(basic_auth=f"{USER}:{PASSWORD}")
    url = f"http://127.0.0.1:{server.port}/"
    try:
        ask = {**headers, "Accept-Encoding": "lz4,zstd,gzip"}
        plain = http.request("POST", url, body=b"SELECT 1", headers=ask)
        assert plain.headers.get("Content-Encoding") is None
        assert plain.data == b"1\n"
        assert plain.headers["X-ClickHouse-Format"] == "TabSeparated"
        packed = http.request(
            "POST", url + "?enable_http_compression=1", body=b"SELECT 1", headers=ask
        )
        assert packed.headers["Content-Encoding"] == "zstd"
        assert packed.data == b"1\n"  # urllib3 decodes zstd
        pong = http.request("GET", url + "ping")
        assert (pong.status, pong.data) == (200, b"Ok.\n")
    finally:
        http.clear()


def test_settings_and_database_apply_to_one_request(client: Client, database: str) -> None:
    """URL settings and ``database=`` hold for their request only (chDB SET is per connection)."""
    default = client.command("SELECT getSetting('max_threads')")
    assert client.command("SELECT getSetting('max_threads')", settings={"max_threads": 3}) == 3
    assert client.command("SELECT getSetting('max_threads')") == default != 3
    assert client.command("SELECT currentDatabase()") == database
    assert client.command("SELECT currentDatabase()", use_database=False) == "default"
    assert client.command("SELECT 1 WHERE 0") == ""  # a result, empty: X-ClickHouse-Format set
    created = client.command("CREATE TABLE t (a UInt8) ENGINE = Memory")
    assert not isinstance(created, (str, int, list))  # no result: a QuerySummary


def test_errors_raise_database_error_with_the_code(client: Client) -> None:
    """chDB's exception text and code travel as ClickHouse's ``Code: N. DB::Exception``."""
    with pytest.raises(DatabaseError) as missing:
        client.query("SELECT * FROM no_such_table")
    assert missing.value.code == 60
    assert "UNKNOWN_TABLE" in str(missing.value)
    with pytest.raises(DatabaseError) as syntax:
        client.command("SELEC 1")
    assert syntax.value.code == 62


def test_fail_next_answers_an_error_without_executing(
    client: Client, server: ClickHouseHTTP
) -> None:
    client.command("CREATE TABLE t (a UInt8) ENGINE = Memory")
    server.fail_next(code=999, message="injected failure")
    with pytest.raises(DatabaseError) as injected:
        client.command("INSERT INTO t VALUES (1)")
    assert injected.value.code == 999
    assert "injected failure" in str(injected.value)
    assert server.requests[-1] == "INSERT INTO t VALUES (1)"
    assert client.command("SELECT count() FROM t") == 0


def test_wrong_password_fails_authentication(server: ClickHouseHTTP) -> None:
    """ClickHouse answers 403 with code 516; get_client raises on its first probe."""
    with pytest.raises(DatabaseError) as denied:
        _connect(server, password="wrong")
    assert denied.value.code == 516
    assert "Authentication failed" in str(denied.value)


def test_dedup_token_makes_a_repeated_insert_a_no_op(client: Client) -> None:
    client.command(SPANS_DDL)
    spans = _spans(3)
    client.insert_arrow("spans", spans, settings={"insert_deduplication_token": "wal-1"})
    client.insert_arrow("spans", spans, settings={"insert_deduplication_token": "wal-1"})
    assert client.command("SELECT count() FROM spans") == 3
    client.insert_arrow("spans", spans, settings={"insert_deduplication_token": "wal-2"})
    assert client.command("SELECT count() FROM spans") == 6


def test_dropped_arrow_insert_raises_though_stored(client: Client, server: ClickHouseHTTP) -> None:
    """insert_arrow is not resent (its body is a pyarrow.Buffer): acknowledged is not stored."""
    client.command(SPANS_DDL)
    server.drop_next_insert()
    with pytest.raises(OperationalError):
        client.insert_arrow("spans", _spans(2), settings={"insert_deduplication_token": "wal-7"})
    assert client.command("SELECT count() FROM spans") == 2
    # the caller's retry with the same token is a no-op
    client.insert_arrow("spans", _spans(2), settings={"insert_deduplication_token": "wal-7"})
    assert client.command("SELECT count() FROM spans") == 2


def test_dropped_native_insert_is_resent_by_the_client(
    client: Client, server: ClickHouseHTTP
) -> None:
    """insert() resends once after a drop: a duplicate unless a dedup token covers it."""
    client.command("CREATE TABLE plain (a UInt64) ENGINE = MergeTree ORDER BY a")
    server.drop_next_insert()
    client.insert("plain", [[1]])
    assert client.command("SELECT count() FROM plain") == 2

    client.command(SPANS_DDL)
    row = [[1_700_000_000, "svc", {}, 1]]
    server.drop_next_insert()
    client.insert("spans", row, settings={"insert_deduplication_token": "wal-9"})
    assert client.command("SELECT count() FROM spans") == 1

    server.drop_next_insert(2)
    with pytest.raises(OperationalError):
        client.insert("plain", [[2]])
    assert client.command("SELECT count() FROM plain WHERE a = 2") == 2
