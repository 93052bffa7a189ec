"""The bench's footprint: a chDB store settled leaves out the parts merges replaced."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench._disk import disk_usage, settled_disk_usage

# Five inserts make five parts; OPTIMIZE merges them into one and leaves the five on disk
# as outdated parts, which ClickHouse deletes only after old_parts_lifetime.
_FILL = """
import json, sys
import chdb
connection = chdb.connect(sys.argv[1])
connection.query("CREATE TABLE t (n UInt64, s String) ENGINE = MergeTree ORDER BY n")
for k in range(5):
    connection.query(
        f"INSERT INTO t SELECT number, randomPrintableASCII(100) FROM numbers({k * 20000}, 20000)"
    )
connection.query("OPTIMIZE TABLE t FINAL")
rows = connection.query(
    "SELECT active, count() AS parts, sum(bytes_on_disk) AS bytes FROM system.parts"
    " WHERE table = 't' GROUP BY active",
    "JSONEachRow",
)
print(json.dumps([json.loads(line) for line in rows.bytes().decode().splitlines()]))
connection.close()
"""


def test_a_chdb_store_settled_counts_only_its_active_parts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data-chdb"
    (data_dir / "wal").mkdir(parents=True)
    (data_dir / "wal" / "segment").write_bytes(b"w" * 1000)
    filled = subprocess.run(
        [sys.executable, "-c", _FILL, str(data_dir / "chdb")],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    parts = {bool(row["active"]): row for row in json.loads(filled.stdout)}
    assert parts[True]["parts"] == 1 and parts[False]["parts"] == 5
    total = disk_usage(data_dir)
    settled = settled_disk_usage(data_dir, "chdb")
    # The outdated parts are what separates the two figures (to within the few files a
    # part's size does not count, such as its checksums being rewritten).
    outdated = int(parts[False]["bytes"])
    assert abs((total - settled) - outdated) <= 0.05 * outdated
    assert settled >= int(parts[True]["bytes"]) + 1000  # the active part and the WAL


def test_a_duckdb_store_has_nothing_to_settle(tmp_path: Path) -> None:
    (tmp_path / "otelite.duckdb").write_bytes(b"d" * 5000)
    assert settled_disk_usage(tmp_path, "duckdb") == disk_usage(tmp_path) == 5000
