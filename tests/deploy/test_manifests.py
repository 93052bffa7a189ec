"""deploy/: the docker-compose cluster and the Helm chart agree with otelite and each other.

No Docker engine or Kubernetes runs here, so these check what can be checked without one:
the files parse, the options otelite is given parse as otelite parses them, the cluster
otelite is told to use is the one ClickHouse is configured with, and every value the chart's
templates read exists in its values.yaml.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml

from otelite.cli import main
from otelite.config import parse_storage

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHART = DEPLOY / "helm" / "otelite"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded


def test_compose_runs_two_shards_keeper_and_two_otelites() -> None:
    services = compose()["services"]
    assert {"keeper", "clickhouse-1", "clickhouse-2", "otelite-1", "otelite-2"} <= set(services)
    for name in ("otelite-1", "otelite-2"):
        service = services[name]
        location = parse_storage(service["environment"]["OTELITE_STORAGE"])
        assert location.kind == "clickhouse"
        assert location.host in services  # a ClickHouse of this compose file
        # Each otelite keeps its write-ahead log on a volume of its own.
        [volume] = service["volumes"]
        assert volume.startswith(f"{name}:")


def test_otelite_is_told_the_cluster_clickhouse_has() -> None:
    command = compose()["services"]["otelite-1"]["command"]
    cluster = command[command.index("--clickhouse-cluster") + 1]
    servers = ET.parse(DEPLOY / "clickhouse" / "cluster.xml").getroot().find("remote_servers")
    assert servers is not None
    [configured] = list(servers)
    assert configured.tag == cluster
    shards = configured.findall("shard")
    assert len(shards) == 2
    hosts = [shard.findtext("replica/host") for shard in shards]
    assert hosts == ["clickhouse-1", "clickhouse-2"]
    for number, host in enumerate(hosts, start=1):
        macros = ET.parse(DEPLOY / "clickhouse" / f"shard-{number}.xml").getroot()
        assert macros.findtext("macros/shard") == str(number)
        assert macros.findtext("macros/replica") == host


def test_the_options_compose_passes_are_otelites(capsys: Any) -> None:
    command = compose()["services"]["otelite-1"]["command"]
    # --help after the options: they parse, and nothing starts.
    try:
        main(["serve", *command, "--help"])
    except SystemExit as stop:
        assert stop.code == 0
    assert "--clickhouse-cluster" in capsys.readouterr().out


def _paths(tree: Any, prefix: str = "") -> set[str]:
    paths = set()
    if isinstance(tree, dict):
        for key, value in tree.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= _paths(value, path)
    return paths


def test_the_chart_reads_only_values_it_defines() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    defined = _paths(values)
    used = {
        match
        for template in (CHART / "templates").iterdir()
        for match in re.findall(r"\.Values\.([A-Za-z0-9_.]+)", template.read_text())
    }
    assert used, "the templates read no values"
    assert used <= defined, f"templates read values that values.yaml lacks: {used - defined}"
    assert parse_storage(values["clickhouse"]["url"]).kind == "clickhouse"
