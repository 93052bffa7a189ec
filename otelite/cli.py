"""The ``otelite`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from otelite import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="otelite", description=__doc__)
    parser.add_argument("--version", action="version", version=f"otelite {__version__}")
    parser.parse_args(argv)
    return 0
