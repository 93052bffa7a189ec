from __future__ import annotations

import importlib
import pkgutil

import pytest

import otelite


def _public_modules() -> list[str]:
    names = ["otelite"]
    for info in pkgutil.walk_packages(otelite.__path__, "otelite."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


@pytest.mark.parametrize("name", _public_modules())
def test_dunder_all_is_honest(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []
    assert len(set(exported)) == len(exported)


def test_version() -> None:
    assert otelite.__version__.count(".") == 2
