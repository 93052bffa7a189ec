"""The reference Prometheus over the shared dataset, started once per test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.promql.dataset import SERIES
from tests.promql.reference import PROMETHEUS, PROMTOOL, Reference

# support's assert_* helpers report their comparisons as a test's own asserts do.
pytest.register_assert_rewrite("tests.promql.support")


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """Debian's Prometheus 2.42 serving ``dataset.SERIES``."""
    if not (PROMETHEUS.exists() and PROMTOOL.exists()):
        pytest.fail("the PromQL tests need Debian's prometheus: apt-get install -y prometheus")
    with Reference(SERIES, tmp_path_factory.mktemp("prometheus")) as prometheus:
        yield prometheus
