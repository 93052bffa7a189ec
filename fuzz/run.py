"""One target under atheris: ``python -m fuzz.run TARGET RUNS SECONDS`` (see ``fuzz``)."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    # What the targets import (otelite's decoders, validation, flattening) is instrumented,
    # so that coverage guides the fuzzer through it.
    from fuzz.targets import TARGETS

CORPUS = Path(__file__).parent / "corpus"


def main(name: str, runs: int, seconds: int) -> None:
    corpus = CORPUS / name
    corpus.mkdir(parents=True, exist_ok=True)
    options = [
        f"-runs={runs}",
        "-max_len=65536",
        "-timeout=30",
        "-rss_limit_mb=4096",
        "-print_final_stats=1",
    ]
    if seconds:
        options.append(f"-max_total_time={seconds}")
    atheris.Setup([sys.argv[0], *options, str(corpus)], TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
