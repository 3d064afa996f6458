"""Writes the generated part of ``deploy/k8s/base``: what the catalogue, the ACLs and the services'
settings already say, so that it is never written twice.

    python -m deploy.k8s            write deploy/k8s/base/generated/*.yaml
    python -m deploy.k8s --check    exit 1 if they differ from what would be written

- ``kafka-topics.yaml``: a Strimzi ``KafkaTopic`` per topic of ``schemas/catalogue.py`` (dead letters
  included);
- ``kafka-users.yaml``: a Strimzi ``KafkaUser`` per principal of ``deploy/acls.py``, SCRAM-SHA-512
  with exactly its ACLs;
- ``services.yaml``: per service, its CloudNativePG ``Cluster`` (its own database), a ``Deployment``
  (two replicas, migrations in an init container, probes on ``/health``), a ``Service``, a
  ``PodDisruptionBudget`` and a KEDA ``ScaledObject`` on its consumer group's lag.

The rest of ``deploy/k8s`` (the Kafka cluster, the collector, the overlays) is written by hand.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from deploy.acls import Principal, principals, username
from deploy.local import SERVICES
from eventkit.broker import group_of
from eventkit.settings import DEFAULT_HTTP_PORTS, PlatformSettings
from schemas.catalogue import AGENCY_TOPICS, REGISTRY_OFFENDERS, TOPICS

GENERATED = Path(__file__).parent / "k8s" / "base" / "generated"
CLUSTER = "mappa"  # the Strimzi Kafka cluster
BOOTSTRAP = f"{CLUSTER}-kafka-bootstrap:9093"
CA_SECRET = f"{CLUSTER}-cluster-ca-cert"
CA_DIR = "/etc/mappa/kafka-ca"
IMAGE = "mappa-platform"
PART_OF = {"app.kubernetes.io/part-of": "mappa"}
# Agencies' topics and the register's are the platform's record: kept (compacted never, deleted never).
FOREVER = {t.name for t in (*AGENCY_TOPICS, REGISTRY_OFFENDERS)}
# The settings' default, not the environment's: the files are the same wherever they are written.
PARTITIONS: int = PlatformSettings.model_fields["topic_partitions"].default
# A service's replicas can never usefully exceed its topics' partitions.
MAX_REPLICAS = PARTITIONS


def topics() -> list[dict[str, Any]]:
    """One ``KafkaTopic`` per topic; the platform's record kept for ever, the rest (and dead letters,
    which operators read) a while longer than the inboxes remember (30 days)."""
    found = []
    for topic in TOPICS:
        for name, record in ((topic.name, topic.name in FOREVER), (topic.dead_letter, False)):
            found.append(
                {
                    "apiVersion": "kafka.strimzi.io/v1",
                    "kind": "KafkaTopic",
                    "metadata": {"name": name.replace(".", "-"), "labels": {"strimzi.io/cluster": CLUSTER}},
                    "spec": {
                        "topicName": name,
                        "partitions": PARTITIONS,
                        "replicas": 3,
                        "config": {
                            "retention.ms": -1 if record else 35 * 24 * 3600 * 1000,
                            "min.insync.replicas": 2,
                            "cleanup.policy": "delete",
                        },
                    },
                }
            )
    return found


def _acl(grant_resource: str, name: str, operations: list[str]) -> dict[str, Any]:
    return {
        "resource": {"type": grant_resource, "name": name, "patternType": "literal"},
        "operations": operations,
    }


def user(principal: Principal) -> dict[str, Any]:
    by_resource: dict[tuple[str, str], list[str]] = {}
    for grant in principal.grants:
        by_resource.setdefault((grant.resource, grant.name), []).append(grant.operation)
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": {"name": principal.username, "labels": {"strimzi.io/cluster": CLUSTER}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {
                "type": "simple",
                "acls": [_acl(kind, name, sorted(ops)) for (kind, name), ops in sorted(by_resource.items())],
            },
        },
    }


def _database(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": f"{service}-db", "labels": PART_OF},
        "spec": {
            "instances": 2,
            "storage": {"size": "5Gi"},
            "bootstrap": {"initdb": {"database": service, "owner": service}},
        },
    }


def _env(service: str) -> list[dict[str, Any]]:
    prefix = f"MAPPA_{service.upper()}_"
    secret = f"{service}-db-app"  # CloudNativePG's: the owner's name and password
    env: list[dict[str, Any]] = [
        {"name": "KAFKA_BOOTSTRAP_SERVERS", "value": BOOTSTRAP},
        {"name": "MAPPA_KAFKA_SSL_CAFILE", "value": f"{CA_DIR}/ca.crt"},
        {"name": f"{prefix}KAFKA_USERNAME", "value": username(service)},
        # Strimzi's user operator writes each KafkaUser's password into a secret of its name.
        {
            "name": f"{prefix}KAFKA_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": username(service), "key": "password"}},
        },
        {"name": "DB_USERNAME", "valueFrom": {"secretKeyRef": {"name": secret, "key": "username"}}},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}},
        {
            "name": f"{prefix}DATABASE_URL",
            "value": f"postgresql+asyncpg://$(DB_USERNAME):$(DB_PASSWORD)@{service}-db-rw:5432/{service}",
        },
        {"name": f"{prefix}HTTP_HOST", "value": "0.0.0.0"},  # noqa: S104 (inside the pod)
        {
            "name": "MAPPA_AUTH_JWT_KEY",
            "valueFrom": {"secretKeyRef": {"name": "mappa-auth", "key": "jwt-key"}},
        },
        {"name": "OTEL_TRACES_EXPORTER", "value": "otlp"},
        {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://mappa-collector:4318"},
    ]
    if service == "notifications":
        env.append({"name": "MAPPA_NOTIFICATIONS_SMTP_HOST", "value": "smtp-relay"})
        env.append({"name": "MAPPA_NOTIFICATIONS_SMTP_PORT", "value": "587"})
        env.append({"name": "MAPPA_NOTIFICATIONS_SMTP_STARTTLS", "value": "true"})
    if service == "operations":
        watched = [s for s in SERVICES if s != "operations"]
        urls = {s: f"http://{s}" for s in watched}
        links = {
            "register": "http://registry/nominals/{platform_id}",
            "levels": "http://levels/cases/{platform_id}",
            "meetings": "http://meetings/cases/{platform_id}/meetings",
        }
        env.append({"name": "MAPPA_OPERATIONS_SERVICE_URLS", "value": json.dumps(urls)})
        env.append({"name": "MAPPA_OPERATIONS_CASE_LINKS", "value": json.dumps(links)})
    return env


def _deployment(service: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": service, **PART_OF}
    port = DEFAULT_HTTP_PORTS[service]
    probe = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 5}
    hardened = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    ca = {"name": "kafka-ca", "mountPath": CA_DIR, "readOnly": True}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service, "labels": labels},
        # No replicas: the ScaledObject sets them (2 at least), and an apply would reset its count.
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": service}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65534},
                    # Migrations first, by the same image: replicas starting together take turns.
                    "initContainers": [
                        {
                            "name": "migrate",
                            "image": IMAGE,
                            "command": ["python", "-m", "deploy.migrate", service],
                            "env": _env(service),
                            "securityContext": hardened,
                        }
                    ],
                    "containers": [
                        {
                            "name": service,
                            "image": IMAGE,
                            "command": ["python", "-m", f"services.{service}"],
                            "ports": [{"name": "http", "containerPort": port}],
                            "env": [
                                *_env(service),
                                {"name": f"MAPPA_{service.upper()}_HTTP_PORT", "value": str(port)},
                            ],
                            "startupProbe": {**probe, "failureThreshold": 30},
                            "readinessProbe": {**probe, "failureThreshold": 3},
                            # Not restarted for a broker or database outage /health reports: only when
                            # it has failed for five minutes.
                            "livenessProbe": {**probe, "failureThreshold": 30},
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "256Mi"},
                                "limits": {"memory": "512Mi"},
                            },
                            "securityContext": hardened,
                            "volumeMounts": [ca, {"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
                        }
                    ],
                    "terminationGracePeriodSeconds": 30,
                    "volumes": [
                        {
                            "name": "kafka-ca",
                            "secret": {
                                "secretName": CA_SECRET,
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            },
                        },
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }


def _service(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service, "labels": PART_OF},
        "spec": {
            "selector": {"app.kubernetes.io/name": service},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def _disruption_budget(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": service, "labels": PART_OF},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": service}}},
    }


def _scaling(service: str) -> list[dict[str, Any]]:
    """More replicas while the service's consumer group lags, never fewer than two, never more than
    its topics have partitions. KEDA reads the lag as the service's own principal."""
    auth = f"{service}-kafka"
    return [
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "TriggerAuthentication",
            "metadata": {"name": auth, "labels": PART_OF},
            "spec": {
                "env": [
                    {
                        "parameter": "username",
                        "name": f"MAPPA_{service.upper()}_KAFKA_USERNAME",
                        "containerName": service,
                    },
                    {
                        "parameter": "password",
                        "name": f"MAPPA_{service.upper()}_KAFKA_PASSWORD",
                        "containerName": service,
                    },
                ],
                "secretTargetRef": [{"parameter": "ca", "name": CA_SECRET, "key": "ca.crt"}],
            },
        },
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {"name": service, "labels": PART_OF},
            "spec": {
                "scaleTargetRef": {"name": service},
                "minReplicaCount": 2,
                "maxReplicaCount": MAX_REPLICAS,
                "triggers": [
                    {
                        "type": "kafka",
                        "metadata": {
                            "bootstrapServers": BOOTSTRAP,
                            "consumerGroup": group_of(service),
                            "lagThreshold": "200",
                            "sasl": "scram_sha512",
                            "tls": "enable",
                        },
                        "authenticationRef": {"name": auth},
                    }
                ],
            },
        },
    ]


def services() -> list[dict[str, Any]]:
    return [
        document
        for service in SERVICES
        for document in (
            _database(service),
            _deployment(service),
            _service(service),
            _disruption_budget(service),
            *_scaling(service),
        )
    ]


def _dump(documents: Sequence[dict[str, Any]]) -> str:
    header = (
        "# Generated by python -m deploy.k8s from the catalogue, the ACLs and the settings: do not edit.\n"
    )
    return header + yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True, width=120)


def files() -> dict[str, str]:
    return {
        "kafka-topics.yaml": _dump(topics()),
        "kafka-users.yaml": _dump([user(p) for p in principals()]),
        "services.yaml": _dump(services()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.k8s", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the files are up to date")
    args = parser.parse_args(argv)
    stale = [
        name
        for name, text in files().items()
        if not (GENERATED / name).is_file() or (GENERATED / name).read_text() != text
    ]
    if args.check:
        for name in stale:
            print(f"{GENERATED / name} is out of date: python -m deploy.k8s", file=sys.stderr)
        return 1 if stale else 0
    GENERATED.mkdir(parents=True, exist_ok=True)
    for name, text in files().items():
        (GENERATED / name).write_text(text)
    print(f"wrote {', '.join(files())} in {GENERATED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
