from __future__ import annotations

import importlib

import pytest

import otelite

PUBLIC_MODULES = ["otelite.errors", "otelite.types", "otelite.pipeline", "otelite.storage"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_dunder_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []


def test_version() -> None:
    assert otelite.__version__.count(".") == 2
