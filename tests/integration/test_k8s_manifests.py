"""The cluster manifests: generated parts up to date, every overlay rendered by kustomize, and each
document valid against the Kubernetes API's schema or its operator's CRD (unknown fields refused)."""

import copy
import functools
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from deploy import k8s
from deploy.acls import principals
from deploy.local import SERVICES
from eventkit.broker import group_of
from eventkit.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(p.parent for p in (ROOT / "deploy" / "k8s" / "overlays").glob("*/kustomization.yaml"))
TOOLS = Path(os.environ.get("MAPPA_CACHE_DIR", Path.home() / ".cache" / "mappa")) / "k8s"
KUBERNETES = "1.33.0"


def _render(directory: Path) -> list[dict[str, Any]]:
    kustomize = TOOLS / "bin" / "kustomize"
    if not kustomize.exists():
        subprocess.run(["bash", str(ROOT / "deploy" / "k8s" / "tools.sh")], check=True)
    built = subprocess.run(
        [str(kustomize), "build", str(directory)], check=True, capture_output=True, text=True
    )
    return [d for d in yaml.safe_load_all(built.stdout) if d]


@functools.cache
def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the CRD's schema for it, made strict: no field the operator does not know."""
    schemas = {}
    for path in sorted((TOOLS / "crds").glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                schema = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = schema
    return schemas


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """As the API server prunes: an object with known properties takes no others."""
    if isinstance(schema, dict):
        known = schema.get("properties")
        open_ = "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields")
        if known is not None and not open_:
            schema["additionalProperties"] = False
        for value in schema.values():
            if isinstance(value, dict):
                _strict(value)
            elif isinstance(value, list):
                for item in value:
                    _strict(item)
    return schema


def _problems(document: dict[str, Any]) -> list[str]:
    name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
    custom = _crd_schemas().get((document.get("apiVersion", ""), document.get("kind", "")))
    if custom is not None:
        errors = jsonschema.Draft7Validator(custom).iter_errors(document)
        return [f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
    if "/" in document.get("apiVersion", "v1") and "k8s.io" not in document["apiVersion"]:
        group = document["apiVersion"].split("/")[0]
        if "." in group:  # a custom group with no CRD here
            return [f"{name}: no schema for {document['apiVersion']}"]
    try:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{name}: {'/'.join(map(str, error.path))}: {error.message}"]
    return []


def test_the_generated_manifests_are_what_the_catalogue_acls_and_settings_say() -> None:
    assert k8s.main(["--check"]) == 0, "run: python -m deploy.k8s"


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_each_overlay_renders_and_every_document_is_valid(overlay: Path) -> None:
    documents = _render(overlay)
    assert {d["kind"] for d in documents} >= {
        "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster", "Deployment", "Service",
        "ScaledObject", "TriggerAuthentication", "OpenTelemetryCollector", "PodDisruptionBudget",
    }  # fmt: skip
    assert [p for d in documents for p in _problems(d)] == []


def test_the_kafka_users_grant_exactly_the_acls_the_catalogue_does() -> None:
    [overlay] = [o for o in OVERLAYS if o.name == "local"]
    users = {d["metadata"]["name"]: d for d in _render(overlay) if d["kind"] == "KafkaUser"}
    for principal in principals():
        acls = users[principal.username]["spec"]["authorization"]["acls"]
        granted = {(a["resource"]["type"], a["resource"]["name"], op) for a in acls for op in a["operations"]}
        assert granted == {(g.resource, g.name, g.operation) for g in principal.grants}
        assert users[principal.username]["spec"]["authentication"] == {"type": "scram-sha-512"}


def test_each_service_runs_as_its_own_principal_and_scales_on_its_own_groups_lag() -> None:
    [overlay] = [o for o in OVERLAYS if o.name == "local"]
    documents = _render(overlay)
    kinds = {(d["kind"], d["metadata"]["name"]): d for d in documents}
    for service in SERVICES:
        pod = kinds[("Deployment", service)]["spec"]["template"]["spec"]
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        assert env[f"MAPPA_{service.upper()}_KAFKA_USERNAME"]["value"] == f"mappa-{service}"
        assert ("KafkaUser", f"mappa-{service}") in kinds
        assert pod["initContainers"][0]["command"] == ["python", "-m", "deploy.migrate", service]
        assert pod["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/health"
        scaled = kinds[("ScaledObject", service)]["spec"]
        assert scaled["triggers"][0]["metadata"]["consumerGroup"] == group_of(service)
        assert scaled["maxReplicaCount"] <= PlatformSettings().topic_partitions


def test_an_invalid_document_is_refused() -> None:
    """The check is not vacuous: a misspelt field, in a core kind and in a custom one, is found."""
    [overlay] = [o for o in OVERLAYS if o.name == "local"]
    documents = _render(overlay)
    deployment = copy.deepcopy(next(d for d in documents if d["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["resource"] = {}
    topic = copy.deepcopy(next(d for d in documents if d["kind"] == "KafkaTopic"))
    topic["spec"]["partitions"] = "six"
    assert _problems(deployment)
    assert _problems(topic)
