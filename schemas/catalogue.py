"""The topic catalogue: which topic carries which events, keyed how, for whom.

This is the single source for topic names; services, the JSON Schema
generator and the docs all read it.
"""

from dataclasses import dataclass
from typing import Any, Union

from schemas.contract import Contract
from schemas.envelope import CloudEvent, typed_event
from schemas.events import levels, meetings, notifications, police, registry

DEAD_LETTER_SUFFIX = ".dlt"


@dataclass(frozen=True)
class Topic:
    name: str
    key: str
    events: tuple[type[Contract], ...]
    producer: str
    consumers: tuple[str, ...]

    @property
    def dead_letter(self) -> str:
        return self.name + DEAD_LETTER_SUFFIX

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(event_type(model) for model in self.events)

    @property
    def envelopes(self) -> Any:
        """The messages this topic carries, as one type for AsyncAPI documents."""
        typed = tuple(typed_event(event_type(model), model) for model in self.events)
        return Union[typed] if len(typed) > 1 else (typed[0] if typed else CloudEvent)  # noqa: UP007


def event_type(model: type[Contract]) -> str:
    value = getattr(model, "EVENT_TYPE", None)
    if not isinstance(value, str):
        raise TypeError(f"{model.__name__} has no EVENT_TYPE")
    return value


def _agency(agency: str, events: tuple[type[Contract], ...] = ()) -> Topic:
    return Topic(
        name=f"agency.{agency}.v1",
        key=f"the {agency} service's own person identifier",
        events=events,
        producer=f"{agency} systems",
        consumers=("registry", "levels"),
    )


AGENCY_POLICE = _agency("police", (police.ConvictionRecorded,))
AGENCY_PRISON = _agency("prison")
AGENCY_PROBATION = _agency("probation")
AGENCY_HEALTH = _agency("health")
AGENCY_YOT = _agency("yot")
AGENCY_TOPICS = (AGENCY_POLICE, AGENCY_PRISON, AGENCY_PROBATION, AGENCY_HEALTH, AGENCY_YOT)

REGISTRY_OFFENDERS = Topic(
    name="registry.offenders.v1",
    key="platform person id",
    events=(registry.NominalRegistered, registry.CategoryAssigned),
    producer="registry",
    consumers=("levels", "meetings", "notifications", "dashboards"),
)
LEVELS_DECISIONS = Topic(
    name="levels.decisions.v1",
    key="platform person id",
    events=(levels.ScreeningDue,),
    producer="levels",
    consumers=("meetings", "notifications", "registry"),
)
MEETINGS_SCHEDULE = Topic(
    name="meetings.schedule.v1",
    key="platform person id",
    events=(meetings.MeetingNotRequired,),
    producer="meetings",
    consumers=("notifications", "levels"),
)
NOTIFICATIONS_DELIVERIES = Topic(
    name="notifications.deliveries.v1",
    key="platform person id",
    events=(notifications.NotificationRecorded,),
    producer="notifications",
    consumers=("dashboards",),
)

TOPICS: tuple[Topic, ...] = (
    *AGENCY_TOPICS,
    REGISTRY_OFFENDERS,
    LEVELS_DECISIONS,
    MEETINGS_SCHEDULE,
    NOTIFICATIONS_DELIVERIES,
)

EVENT_MODELS: dict[str, type[Contract]] = {
    event_type(model): model for topic in TOPICS for model in topic.events
}
TOPIC_OF_EVENT: dict[str, Topic] = {event_type(model): topic for topic in TOPICS for model in topic.events}


def all_topic_names() -> list[str]:
    """Every topic the platform owns, dead-letter topics included."""
    return [name for topic in TOPICS for name in (topic.name, topic.dead_letter)]
