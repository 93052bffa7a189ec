from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["otelite.query", "otelite.query.dialects", "otelite.api"])
def test_dunder_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
    assert sorted(module.__all__) == list(module.__all__)
