"""The fuzzing corpus replayed: every input atheris kept (``fuzz/corpus``) goes through its
target again, so what once crashed, or once reached new code, stays a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.targets import TARGETS, split
from otelite.types import Signal

CORPUS = Path(__file__).parents[2] / "fuzz" / "corpus"


def inputs(target: str) -> list[Path]:
    return sorted((CORPUS / target).iterdir())


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_input_of_the_corpus_passes_its_target(target: str) -> None:
    found = inputs(target)
    # The seeds alone are a valid request of each signal in each encoding.
    signals = {split(path.read_bytes())[0] for path in found}
    assert signals == set(Signal)
    for path in found:
        # A target raises nothing for any input: invalid ones end as InvalidRequest inside.
        TARGETS[target](path.read_bytes())
