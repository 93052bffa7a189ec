from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench._machine import cpu_model, mem_total_bytes
from bench._profile import parse_collapsed, roles
from bench._queries import disk_usage
from bench._server import (
    OteliteProcess,
    cpu_seconds,
    descendants,
    parse_stat_cpu_ticks,
    parse_status_kib,
    read_memory,
)
from bench.run import _parser, parse_count, parse_storage

STATUS = """Name:\tpython
VmPeak:\t 1200000 kB
VmHWM:\t  524288 kB
VmRSS:\t  262144 kB
Threads:\t12
"""


def test_status_fields_in_bytes() -> None:
    assert parse_status_kib(STATUS, "VmRSS") == 256 * 1024 * 1024
    assert parse_status_kib(STATUS, "VmHWM") == 512 * 1024 * 1024
    with pytest.raises(KeyError):
        parse_status_kib(STATUS, "VmSwap")


def test_cpu_model_and_memory() -> None:
    cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
    assert cpu_model(cpuinfo) == "AMD EPYC 7B13"
    assert cpu_model("processor\t: 0\n") == "unknown"
    assert mem_total_bytes("MemTotal:       24576000 kB\nMemFree: 1 kB\n") == 24576000 * 1024
    assert mem_total_bytes("") == 0


@pytest.mark.parametrize(
    ("text", "count"),
    [("500", 500), ("200k", 200_000), ("1M", 1_000_000), ("10m", 10_000_000), ("2.5k", 2500)],
)
def test_counts(text: str, count: int) -> None:
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["", "lots", "1.5", "-3k"])
def test_bad_counts(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_count(text)


@pytest.mark.parametrize(
    ("text", "stores"),
    [
        ("duckdb,chdb", ["duckdb", "chdb"]),
        ("chdb", ["chdb"]),
        ("duckdb", ["duckdb"]),
        (" CHDB , duckdb ,", ["chdb", "duckdb"]),
        ("duckdb,chdb,duckdb", ["duckdb", "chdb"]),
    ],
)
def test_storage_lists_stores_in_turn_order(text: str, stores: list[str]) -> None:
    assert parse_storage(text) == stores


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "no store"), (" , ", "no store"), ("duckdb,sqlite", "unknown store 'sqlite'")],
)
def test_bad_storage(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse_storage(text)


def test_both_stores_by_default_and_one_on_request() -> None:
    assert _parser().parse_args([]).storage == ["duckdb", "chdb"]
    assert _parser().parse_args(["--quick"]).storage == ["duckdb", "chdb"]
    assert _parser().parse_args(["--storage", "chdb"]).storage == ["chdb"]
    with pytest.raises(SystemExit):
        _parser().parse_args(["--storage", "postgres"])


def test_the_server_is_told_its_store_inside_the_data_dir(tmp_path: Path) -> None:
    def flag(server: OteliteProcess, name: str) -> str:
        command = server.command()
        return command[command.index(name) + 1]

    duckdb = OteliteProcess.under(tmp_path, "duckdb")
    assert (flag(duckdb, "--storage"), duckdb.log_path) == (
        "duckdb",
        tmp_path / "server-duckdb.log",
    )
    chdb = OteliteProcess.under(tmp_path, "chdb", log="server-profile")
    assert flag(chdb, "--data-dir") == str(tmp_path / "data-chdb")
    assert flag(chdb, "--storage") == f"chdb:{tmp_path / 'data-chdb' / 'chdb'}"
    assert chdb.log_path == tmp_path / "server-profile-chdb.log"


def test_cpu_ticks_of_a_stat_line() -> None:
    # pid (comm) state ppid ... utime (14th field) stime (15th); comm may hold ") ".
    stat = "42 (otelite ) x) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0"
    assert parse_stat_cpu_ticks(stat) == 325
    assert cpu_seconds(os.getpid()) > 0


def test_disk_usage_counts_each_file_once(tmp_path: Path) -> None:
    part = tmp_path / "store" / "part"
    part.mkdir(parents=True)
    (part / "data.bin").write_bytes(b"x" * 1000)
    (tmp_path / "wal").write_bytes(b"y" * 24)
    # ClickHouse names a table's directory by a symlink and may hard-link a part twice.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "table").symlink_to(part, target_is_directory=True)
    os.link(part / "data.bin", part / "data-copy.bin")
    assert disk_usage(tmp_path) == 1024


def test_collapsed_stacks() -> None:
    text = "\n".join(
        [
            "main (otelite/cli.py:1);write (otelite/storage/x.py:5);insert (duckdb:1) 6",
            "main (otelite/cli.py:1);decode (otelite/otlp/y.py:9) 3",
            "select (selectors.py:468) 1",
            "not a stack line",
        ]
    )
    samples, own, total = parse_collapsed(text, top=2)
    assert samples == 10
    assert own == [("insert (duckdb:1)", 0.6), ("decode (otelite/otlp/y.py:9)", 0.3)]
    assert total == [("main (otelite/cli.py:1)", 0.9), ("write (otelite/storage/x.py:5)", 0.6)]
    assert parse_collapsed("") == (0, [], [])


def test_roles_count_busy_cores_per_part_of_the_server() -> None:
    text = "\n".join(
        [
            "process 2;_serve (otelite/pipeline/_flatten.py:80);flatten (x.py:1) 90",
            "process 1;_bootstrap (threading.py:1);BatchWriter._run (w.py:1);_insert (s.py:1) 45",
            "process 1;main (otelite/cli.py:1);run_forever (asyncio/base_events.py:1) 30",
            "process 1;somewhere (else.py:1) 15",
        ]
    )
    assert roles(text, seconds=1.5, rate=100) == [
        ("flatten worker process", 0.6),
        ("storage writer thread (DuckDB inserts)", 0.3),
        ("event loop (HTTP, decode, validate, write-ahead log)", 0.2),
        ("other", 0.1),
    ]
    chdb = dict(roles(text, seconds=1.5, rate=100, store="chdb"))
    assert chdb["storage writer thread (chDB inserts)"] == 0.3


def test_memory_covers_the_processes_a_process_started() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in descendants(os.getpid())
        alone = int(Path(f"/proc/{child.pid}/smaps_rollup").read_text().split("Pss:")[1].split()[0])
        assert read_memory(os.getpid()).rss >= alone * 1024 > 0
    finally:
        child.kill()
        child.wait()
