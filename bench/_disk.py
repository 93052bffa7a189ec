"""A store's footprint on disk: as the files stand, and once it has settled.

ClickHouse keeps the parts a merge replaced for ``old_parts_lifetime`` (eight minutes by
default) before it deletes them, in case the merged part was not yet on disk when the
machine stopped. Right after a fill, the data directory of a chDB store therefore holds
much of its data twice. The settled footprint leaves those parts out: it is what the data
occupies once ClickHouse has deleted them, and what a store of that size needs for long.
DuckDB has no such leftovers after a clean shutdown (it checkpoints when it closes), so
its two figures are the same.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench._server import Store

__all__ = ["disk_usage", "settled_disk_usage"]

# Run in a process of its own: chDB hosts one engine per process, and the bench's own
# process must not hold the store's files open while a server uses them.
_ACTIVE_PARTS = """
import json, sys
import chdb
connection = chdb.connect(sys.argv[1])
rows = connection.query("SELECT path FROM system.parts WHERE active", "JSONEachRow")
print(json.dumps([json.loads(line)["path"] for line in rows.bytes().decode().splitlines()]))
connection.close()
"""


def disk_usage(path: Path, *, only: Callable[[Path], bool] | None = None) -> int:
    """Bytes of all files under ``path`` (those ``only`` accepts), each file once as ``du``
    counts them: ClickHouse links a table's directory by a symlink and may hard-link a part
    under two names."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for entry in path.rglob("*"):
        try:
            info = entry.lstat()
        except FileNotFoundError:  # deleted while walking: ClickHouse cleans up as it goes
            continue
        if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) in seen:
            continue
        if only is None or only(entry):
            seen.add((info.st_dev, info.st_ino))
            total += info.st_size
    return total


def settled_disk_usage(data_dir: Path, store: Store) -> int:
    """``disk_usage`` of a stopped server's ``data_dir`` counting, of ClickHouse's parts,
    only the active ones: not those merged away (nor tables dropped) and not yet deleted."""
    if store == "duckdb":
        return disk_usage(data_dir)
    chdb_dir = data_dir / "chdb"
    found = subprocess.run(
        [sys.executable, "-c", _ACTIVE_PARTS, str(chdb_dir)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    active = {Path(path).resolve() for path in json.loads(found.stdout)}
    parts = (chdb_dir / "store").resolve()

    def settled(entry: Path) -> bool:
        parents = entry.resolve().parents
        return parts not in parents or any(parent in active for parent in parents)

    return disk_usage(data_dir, only=settled)
