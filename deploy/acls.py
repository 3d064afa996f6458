"""Who may do what on the platform's broker, from the topic catalogue (never written twice).

One principal per agency system and per service:

- an agency system writes its own ``agency.<agency>.v1`` and nothing else;
- a service reads the topics it consumes, in its consumer group, and reads back its own (a
  rebuild does); it writes the topics it produces and the dead-letter topics of those it consumes;
- operations also reads every dead-letter topic (in a group of its own), writes every topic a dead
  letter may be replayed to, and describes every consumer group for the pipeline view.

Kafka lets Read and Write imply Describe. ``deploy.provision`` applies these to a broker, and
``deploy.k8s`` writes them into Strimzi ``KafkaUser``s.
"""

from dataclasses import dataclass
from typing import Literal

from eventkit.broker import group_of
from schemas.catalogue import AGENCY_TOPICS, TOPICS

Operation = Literal["Read", "Write", "Describe"]
ResourceType = Literal["topic", "group"]

# The operator's principal, a super user of the local broker: it creates topics, users and ACLs.
ADMIN = "admin"
OPERATIONS = "operations"


@dataclass(frozen=True, order=True)
class Grant:
    resource: ResourceType
    name: str
    operation: Operation


@dataclass(frozen=True)
class Principal:
    """A client of the broker: ``client`` names its settings (``MAPPA_<CLIENT>_KAFKA_USERNAME``)."""

    client: str
    username: str
    grants: tuple[Grant, ...]

    @property
    def is_agency(self) -> bool:
        return self.client in AGENCIES


AGENCIES: tuple[str, ...] = tuple(topic.producer for topic in AGENCY_TOPICS)
SERVICES: tuple[str, ...] = tuple(
    dict.fromkeys(
        name for topic in TOPICS for name in (topic.producer, *topic.consumers) if name not in AGENCIES
    )
)


def username(client: str) -> str:
    return f"agency-{client}" if client in AGENCIES else f"mappa-{client}"


def _topics(operation: Operation, names: list[str]) -> set[Grant]:
    return {Grant("topic", name, operation) for name in names}


def _agency(agency: str) -> Principal:
    grants = _topics("Write", [t.name for t in AGENCY_TOPICS if t.producer == agency])
    return Principal(agency, username(agency), tuple(sorted(grants)))


def _service(service: str) -> Principal:
    consumed = [t for t in TOPICS if service in t.consumers]
    produced = [t.name for t in TOPICS if t.producer == service]
    grants = (
        _topics("Read", [t.name for t in consumed] + produced)
        | _topics("Write", [t.dead_letter for t in consumed] + produced)
        | ({Grant("group", group_of(service), "Read")} if consumed else set())
    )
    if service == OPERATIONS:
        grants |= (
            _topics("Read", [t.dead_letter for t in TOPICS])
            | _topics("Write", [t.name for t in TOPICS])  # replays go back where they came from
            | {Grant("group", group_of(OPERATIONS, "deadletters"), "Read")}
            | {Grant("group", group_of(s), "Describe") for s in SERVICES}
        )
    return Principal(service, username(service), tuple(sorted(grants)))


def principals() -> list[Principal]:
    """Every agency system's and service's principal, with its grants (the admin's are implicit)."""
    return [*map(_agency, AGENCIES), *map(_service, SERVICES)]
