"""Prometheus and Grafana files: valid to promtool, their alerts fire when they should (promtool's own
rule tests), and every metric they name is one a service exports."""

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from eventkit.settings import Settings
from services.levels.app import create as levels
from services.meetings.app import create as meetings
from services.notifications.app import create as notifications
from services.operations.app import create as operations
from services.registry.app import create as registry

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "mappa-platform.json"
METRIC = re.compile(r"\b(mappa_[a-z_]+|up)\b")


def _promtool(*args: str) -> str:
    promtool = shutil.which("promtool")
    assert promtool is not None, (
        "promtool is installed by scripts/bootstrap.sh --postgres (Debian's prometheus)"
    )
    done = subprocess.run([promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_accepts_the_scrape_config_and_the_rules() -> None:
    assert "SUCCESS" in _promtool("check", "config", "prometheus.yml")
    assert "SUCCESS: 6 rules found" in _promtool("check", "rules", "alerts.yml")


def test_each_alert_fires_on_the_series_that_should_raise_it() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "alerts.test.yml")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    """Every metric name the five services export (``up`` is Prometheus's own)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MAPPA_DATA_DIR", str(tmp_path_factory.mktemp("monitoring")))
        apps = {"registry": registry, "levels": levels, "meetings": meetings, "notifications": notifications,
                "operations": operations}  # fmt: skip
        names = {"up"}
        for name, create in apps.items():
            for family in create(settings=Settings(name)).registry.collect():
                names |= {sample.name for sample in family.samples}
                names.add(family.name + ("_total" if family.type == "counter" else ""))
        yield names


def _used(expressions: list[str]) -> set[str]:
    return {name for expression in expressions for name in METRIC.findall(expression)}


def test_every_metric_the_alerts_name_is_exported(exported: set[str]) -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert _used(expressions) - exported == set()


def test_the_grafana_dashboard_names_only_exported_metrics_through_its_datasource(exported: set[str]) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    targets = [target for panel in panels for target in panel["targets"]]
    assert all(t["datasource"]["uid"] == "${datasource}" for t in targets)
    assert _used([t["expr"] for t in targets]) - exported == set()
