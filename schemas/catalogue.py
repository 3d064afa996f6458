"""The topic catalogue: which topic carries which events, keyed how, for whom.

This is the single source for topic names and event types; services, the
JSON Schema generator and the docs all read it. An event type is
``uk.mappa.<producer>.<event name>.v<version>``, so the same payload sent
by two agencies is two types, each allowed only on its agency's topic.
"""

from dataclasses import dataclass
from typing import Any, Union

from schemas.contract import Contract
from schemas.envelope import CloudEvent, typed_event
from schemas.events import (
    casework,
    common,
    health,
    levels,
    meetings,
    notifications,
    operations,
    police,
    prison,
    probation,
    registry,
)

DEAD_LETTER_SUFFIX = ".dlt"


@dataclass(frozen=True)
class Topic:
    """A topic and who reads it.

    The first consumer owns the topic: it dead-letters what nobody can
    apply (not JSON, not a CloudEvent, an unknown type). A message of a
    known type is dead-lettered by the consumer that owns that type, the
    topic's owner unless ``type_owners`` names another; every other
    consumer skips what it cannot apply, so each message is dead-lettered
    once.
    """

    name: str
    key: str
    producer: str
    consumers: tuple[str, ...]
    events: tuple[type[Contract], ...]
    type_owners: tuple[tuple[type[Contract], str], ...] = ()

    @property
    def dead_letter(self) -> str:
        return self.name + DEAD_LETTER_SUFFIX

    def dead_lettered_by(self, event_type: str | None) -> str:
        """The one consumer that dead-letters a message of this type (or of no known type) here."""
        model = self.event_types.get(event_type) if event_type is not None else None
        return dict(self.type_owners).get(model, self.consumers[0]) if model else self.consumers[0]

    def type_of(self, model: type[Contract]) -> str:
        if model not in self.events:
            raise ValueError(f"{model.__name__} is not carried on {self.name}")
        return f"uk.mappa.{self.producer}.{model.EVENT_NAME}.v{model.EVENT_VERSION}"  # type: ignore[attr-defined]

    @property
    def event_types(self) -> dict[str, type[Contract]]:
        return {self.type_of(model): model for model in self.events}

    @property
    def envelopes(self) -> Any:
        """The messages this topic carries, as one type for AsyncAPI documents."""
        typed = tuple(typed_event(t, m) for t, m in self.event_types.items())
        return Union[typed] if len(typed) > 1 else (typed[0] if typed else CloudEvent)  # noqa: UP007


# Casework about a case on the register, keyed by its platform id: any agency may refer;
# the Responsible Authority screens and decides levels.
_REFERRALS = (casework.ReferralSubmitted,)
_CASEWORK = (
    casework.ScreeningRecorded,
    casework.ReferralSubmitted,
    casework.ReferralDecided,
    casework.LevelDecisionRecorded,
)


def _agency(agency: str, *events: type[Contract]) -> Topic:
    return Topic(
        name=f"agency.{agency}.v1",
        key=f"the {agency} service's own person identifier; casework events: the platform id",
        producer=agency,
        # The register owns what agencies say about people; levels owns their casework.
        consumers=("registry", "levels"),
        events=events,
        type_owners=tuple((model, "levels") for model in _CASEWORK if model in events),
    )


_SHARED = (
    common.RiskAssessmentCompleted,
    common.LeadAgencySet,
    common.CategoryReferralAccepted,
    common.CategoryEnded,
    *_CASEWORK,
)

AGENCY_POLICE = _agency(
    "police",
    police.ConvictionRecorded,
    police.CautionRecorded,
    police.AddressNotified,
    police.NameNotified,
    police.PeriodicNotificationMade,
    police.ForeignTravelNotified,
    police.ChargeRecorded,
    common.AreaTransferred,
    *_SHARED,
)
AGENCY_PRISON = _agency("prison", prison.CustodyStarted, prison.ReleaseDateSet, prison.Released, *_SHARED)
AGENCY_PROBATION = _agency(
    "probation",
    probation.LicenceEnded,
    common.OffenderManagerAllocated,
    common.AreaTransferred,
    *_SHARED,
)
AGENCY_HEALTH = _agency(
    "health",
    health.HospitalOrderMade,
    health.HospitalOrderEnded,
    common.RiskAssessmentCompleted,
    *_REFERRALS,
)
AGENCY_YOT = _agency("yot", common.OffenderManagerAllocated, common.RiskAssessmentCompleted, *_REFERRALS)
AGENCY_TOPICS = (AGENCY_POLICE, AGENCY_PRISON, AGENCY_PROBATION, AGENCY_HEALTH, AGENCY_YOT)

REGISTRY_OFFENDERS = Topic(
    name="registry.offenders.v1",
    key="platform person id",
    producer="registry",
    # Meetings and notifications learn the case's area (and notifications its managers) from the register.
    consumers=("levels", "meetings", "notifications", "operations"),
    events=(
        registry.NominalRegistered,
        registry.IdentifiersLinked,
        registry.CategoryAssigned,
        registry.NotificationRequirementSet,
        registry.NotificationOverdue,
        registry.RiskAssessed,
        registry.OffenderManagerAllocated,
        registry.Released,
        registry.Transferred,
        registry.ExitedMappa,
        registry.NominalsMerged,
        registry.NominalsUnmerged,
        registry.ReleaseDateSet,
        registry.LeadAgencySet,
        registry.Charged,
        registry.NotificationMade,
    ),
    # Only notifications (or operations) acts on these: it dead-letters what it cannot read.
    type_owners=(
        (registry.NotificationRequirementSet, "notifications"),
        (registry.NotificationOverdue, "notifications"),
        (registry.OffenderManagerAllocated, "notifications"),
        (registry.NotificationMade, "operations"),
    ),
)
LEVELS_DECISIONS = Topic(
    name="levels.decisions.v1",
    key="platform person id",
    producer="levels",
    consumers=("meetings", "notifications", "operations"),
    events=(
        levels.ScreeningDue,
        levels.ScreeningDone,
        levels.ReferralMade,
        levels.ReferralAccepted,
        levels.ReferralDeclined,
        levels.LevelSet,
        levels.LevelChanged,
        levels.ReviewDue,
        levels.ReviewOverdue,
        levels.ReleaseScreeningAlert,
        levels.ConsiderReferral,
        levels.SeriousCaseReviewDue,
        levels.CaseClosed,
        levels.CaseReopened,
        levels.CaseMerged,
        levels.CaseUnmerged,
        levels.MeetingLevelDecisionRefused,
    ),
    # What meetings does not act on, notifications tells people of, and dead-letters.
    type_owners=tuple(
        (model, "notifications")
        for model in (
            levels.ReferralMade,
            levels.ReferralDeclined,
            levels.ReviewDue,
            levels.ReviewOverdue,
            levels.ReleaseScreeningAlert,
            levels.ConsiderReferral,
            levels.SeriousCaseReviewDue,
        )
    ),
)
MEETINGS_SCHEDULE = Topic(
    name="meetings.schedule.v1",
    key="platform person id",
    producer="meetings",
    # Levels applies meetings' level decisions; levels and the registry let invited agencies read the case.
    consumers=("notifications", "levels", "registry", "operations"),
    events=(
        meetings.MeetingNotRequired,
        meetings.MeetingRequired,
        meetings.MeetingScheduled,
        meetings.MeetingRescheduled,
        meetings.MeetingCancelled,
        meetings.MeetingOverdue,
        meetings.AttendeeInvited,
        meetings.AttendeeUninvited,
        meetings.MinutesRecorded,
        meetings.MinutesOverdue,
        meetings.ActionAssigned,
        meetings.ActionCompleted,
        meetings.ActionOverdue,
        meetings.MeetingLevelDecided,
    ),
    # Levels owns what it applies, and dead-letters what it cannot; operations what only it reads;
    # notifications the rest.
    type_owners=(
        (meetings.MeetingLevelDecided, "levels"),
        (meetings.AttendeeInvited, "levels"),
        (meetings.AttendeeUninvited, "levels"),
        (meetings.ActionCompleted, "operations"),
    ),
)
NOTIFICATIONS_DELIVERIES = Topic(
    name="notifications.deliveries.v1",
    key="platform person id",
    producer="notifications",
    consumers=("operations",),
    events=(
        notifications.NotificationQueued,
        notifications.NotificationSent,
        notifications.NotificationDelivered,
        notifications.NotificationFailed,
        notifications.NotificationAcknowledged,
        notifications.NotificationEscalated,
    ),
)
OPERATIONS_DEADLETTERS = Topic(
    name="operations.deadletters.v1",
    key="the dead letter's place: <dead-letter topic>/<partition>/<offset>",
    producer="operations",
    # Operations' dashboard is rebuilt from it like from any other topic.
    consumers=("operations",),
    events=(operations.DeadLetterReplayed, operations.DeadLetterDiscarded),
)
PLATFORM_TOPICS = (
    REGISTRY_OFFENDERS,
    LEVELS_DECISIONS,
    MEETINGS_SCHEDULE,
    NOTIFICATIONS_DELIVERIES,
    OPERATIONS_DEADLETTERS,
)
TOPICS: tuple[Topic, ...] = (*AGENCY_TOPICS, *PLATFORM_TOPICS)

EVENT_MODELS: dict[str, type[Contract]] = {t: m for topic in TOPICS for t, m in topic.event_types.items()}
TOPIC_OF_EVENT: dict[str, Topic] = {t: topic for topic in TOPICS for t in topic.event_types}
# Each platform event is produced on exactly one topic, by one service.
HOME_TOPIC: dict[type[Contract], Topic] = {m: topic for topic in PLATFORM_TOPICS for m in topic.events}


def type_of(model: type[Contract]) -> str:
    """The event type of a platform event (one the services themselves emit)."""
    return HOME_TOPIC[model].type_of(model)


def all_topic_names() -> list[str]:
    """Every topic the platform owns, dead-letter topics included."""
    return [name for topic in TOPICS for name in (topic.name, topic.dead_letter)]
