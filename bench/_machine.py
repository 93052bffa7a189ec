"""The machine and the software versions a benchmark ran on."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["Machine", "cpu_model", "describe_machine", "mem_total_bytes", "versions"]


@dataclass(frozen=True, slots=True)
class Machine:
    cpu: str
    cores: int
    ram_bytes: int
    kernel: str
    load_average: tuple[float, float, float]
    """At the start: other work on the machine skews every figure."""


def cpu_model(cpuinfo: str) -> str:
    """The ``model name`` of /proc/cpuinfo (the first CPU's), or ``"unknown"``."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return "unknown"


def mem_total_bytes(meminfo: str) -> int:
    """``MemTotal`` of /proc/meminfo in bytes (0 if absent)."""
    for line in meminfo.splitlines():
        key, _, value = line.partition(":")
        if key == "MemTotal":
            return int(value.split()[0]) * 1024
    return 0


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def describe_machine() -> Machine:
    """This machine, now."""
    a, b, c = os.getloadavg()
    return Machine(
        cpu=cpu_model(_read("/proc/cpuinfo")),
        cores=os.cpu_count() or 0,
        ram_bytes=mem_total_bytes(_read("/proc/meminfo")),
        kernel=platform.release(),
        load_average=(a, b, c),
    )


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions(root: Path, generator: str) -> dict[str, str]:
    """Versions of Python, otelite (git commit, ``+dirty`` with uncommitted changes) and the
    libraries on the data path."""
    from google.protobuf.internal import api_implementation

    sha = _git(root, "rev-parse", "--short=12", "HEAD") or "unknown"
    if _git(root, "status", "--porcelain", "--untracked-files=no"):
        sha += "+dirty"
    return {
        "python": platform.python_version(),
        "otelite": f"{_version('otelite')} at git {sha}",
        "duckdb": _version("duckdb"),
        "chdb": f"{_version('chdb')} (chdb-core {_version('chdb-core')}, through "
        f"clickhouse-connect {_version('clickhouse-connect')})",
        "pyarrow": _version("pyarrow"),
        "grpcio": _version("grpcio"),
        "protobuf": f"{_version('protobuf')} ({api_implementation.Type()} backend)",
        "workload": generator,
    }
