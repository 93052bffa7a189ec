"""``python -m fuzz TARGET [--runs N] [--seconds S]``: fuzz one target (or ``all``) with
atheris, growing ``fuzz/corpus/TARGET/``; ``python -m fuzz seed`` writes the seed inputs.

Exits non-zero when a target crashed: libFuzzer then writes the input as
``crash-<hash>`` in the working directory; add it to the corpus once fixed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz")
    parser.add_argument("target", help="a target of fuzz/targets.py, 'all', or 'seed'")
    parser.add_argument("--runs", type=int, default=1_000_000, help="executions (default 1M)")
    parser.add_argument("--seconds", type=int, default=0, help="stop after this long too")
    args = parser.parse_args()
    from fuzz.targets import TARGETS

    if args.target == "seed":
        from fuzz.seeds import write_seeds

        write_seeds(CORPUS)
        return 0
    names = list(TARGETS) if args.target == "all" else [args.target]
    failed = 0
    for name in names:
        if name not in TARGETS:
            parser.error(f"no target {name!r}; there are {', '.join(TARGETS)}")
        # One process per target: libFuzzer runs once per process.
        command = [sys.executable, "-m", "fuzz.run", name, str(args.runs), str(args.seconds)]
        failed |= subprocess.call(command)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
