"""Casework as agencies and the register send it: a case categorised, screened, referred and decided."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from eventkit import outbox
from eventkit.outbox import Cause, Emitter
from eventkit.service import Service
from schemas.agencies import Role
from schemas.catalogue import REGISTRY_OFFENDERS
from schemas.envelope import CloudEvent, new_event
from schemas.events.casework import (
    LevelDecisionRecorded,
    ReferralDecided,
    ReferralSubmitted,
    ScreeningRecorded,
    StaffRef,
)
from schemas.events.registry import CategoryAssigned
from services.levels.casework import Casework
from services.levels.storage import Case

COORDINATOR = StaffRef(staff_ref="co-ord-1", role=Role.MAPPA_COORDINATOR)
SENIOR_OFFICER = StaffRef(staff_ref="senior-1", role=Role.SENIOR_OFFICER)
OFFENDER_MANAGER = StaffRef(staff_ref="om-1", role=Role.OFFENDER_MANAGER)


def a_platform_id() -> str:
    return f"nominal-{uuid.uuid4().hex[:12]}"


def categorised(platform_id: str, on: date, *, area: str = "01", category: int = 1) -> CloudEvent:
    """The registry's category-assigned event, as it publishes it."""
    data = CategoryAssigned(
        platform_id=platform_id,
        category=category,
        reason="Schedule 3 offence with notification requirements",
        legal_basis="CJA 2003 s.327(2)",
        effective_date=on,
        area=area,
    )
    return new_event(
        REGISTRY_OFFENDERS.type_of(CategoryAssigned), data, source="/mappa/registry", subject=platform_id
    )


def screening(platform_id: str, on: date, level_sought: int | None = None) -> ScreeningRecorded:
    return ScreeningRecorded(
        platform_id=platform_id,
        screened_on=on,
        outcome="referral" if level_sought else "level-1",
        level_sought=level_sought,
        screened_by=OFFENDER_MANAGER,
    )


def referral(platform_id: str, on: date, level_sought: int, ref: str = "MAPPA-A-1") -> ReferralSubmitted:
    return ReferralSubmitted(
        platform_id=platform_id,
        referral_ref=ref,
        level_sought=level_sought,
        referring_agency="probation",
        reasons="Synthetic: escalating risk to a known adult",
        current_rosh="very-high",
        lower_level_insufficient="Synthetic: needs police and housing resources together",
        referred_on=on,
        referred_by=OFFENDER_MANAGER,
    )


def referral_decision(platform_id: str, on: date, ref: str = "MAPPA-A-1") -> ReferralDecided:
    return ReferralDecided(
        platform_id=platform_id,
        referral_ref=ref,
        decision="accepted",
        reason="Meets the level 3 criteria",
        decided_on=on,
        decided_by=COORDINATOR,
    )


def level_decision(
    platform_id: str,
    on: date,
    level: int,
    *,
    by: StaffRef = COORDINATOR,
    authorised_by: StaffRef | None = None,
) -> LevelDecisionRecorded:
    return LevelDecisionRecorded(
        platform_id=platform_id,
        level=level,
        rationale=f"Synthetic rationale for level {level}",
        decided_on=on,
        decided_by=by,
        authorised_by=authorised_by,
    )


@asynccontextmanager
async def casework_in(service: Service, cause: str = "test") -> AsyncIterator[Casework]:
    """The levels service's casework in one transaction, as a handler takes it."""
    assert service.policies is not None
    async with service.db.transaction() as session:
        yield Casework(Emitter(session, "/test", Cause(cause, "test")), service.policies)


async def case_of(service: Service, platform_id: str) -> Case:
    async with casework_in(service) as casework:
        case = await casework.store.case(platform_id)
    assert case is not None
    return case


async def published(service: Service, event_name: str, *, subject: str | None = None) -> list[CloudEvent]:
    """The events of one kind the service has emitted and not yet published (a service without its broker)."""
    async with service.db.transaction() as session:
        rows = await outbox.pending(session, 1000)
    events = [
        CloudEvent.model_validate_json(r.payload) for r in rows if r.event_type.endswith(f".{event_name}.v1")
    ]
    return [e for e in events if subject in (None, e.subject)]
