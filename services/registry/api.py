"""The registry's read API for people and dashboards.

Every request is authenticated (bearer token) and states its purpose
(X-Purpose). Need-to-know is applied before anything is returned; a record
the caller may not see is answered exactly as a missing one, so a refusal
never confirms that a person is on the register. Every read of a nominal
is audited in the same transaction as the read: if the audit write fails,
the read fails.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit import audit
from eventkit.auth import Authenticated, Principal, Purpose, Role
from eventkit.guards import (
    Caseworker,
    HistoryLine,
    Limit,
    Offset,
    ResponsibleAuthority,
    add_audit_trail,
    may_read_case,
    read_history,
)
from eventkit.http import Db, Policies, RequestBody, Today
from schemas.identifiers import Scheme
from services.registry.notification_rules import NotificationState, compliance, next_deadline
from services.registry.reads import RegistryReads
from services.registry.storage import RegistryStore

router = APIRouter(tags=["register"])

NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, "no such nominal")


class Identifier(BaseModel):
    scheme: str
    value: str


class Conviction(BaseModel):
    offence_code: str
    conviction_date: date
    disposal: str
    custody_months: int | None
    caution: bool


class RiskAssessment(BaseModel):
    completed_on: date
    tool: str
    rosh: str
    assessor_agency: str


class NotificationRequirement(BaseModel):
    relevant_date: date
    indefinite: bool
    period_months: int | None
    ends_on: date | None
    basis: str
    initial_notified_on: date | None
    last_notified_on: date | None
    no_fixed_abode: bool
    review_eligible_from: date | None


class Breach(BaseModel):
    notification: str
    deadline: date


class Compliance(BaseModel):
    status: Literal["compliant", "due-soon", "overdue"]
    next_notification: str | None
    deadline: date | None
    breaches: list[Breach]


class Alias(BaseModel):
    family_name: str
    given_names: list[str]
    until: date


class Address(BaseModel):
    notified_on: date
    line1: str | None
    town: str | None
    postcode: str | None
    no_fixed_abode: bool


class NominalView(BaseModel):
    platform_id: str
    family_name: str
    given_names: list[str]
    aliases: list[Alias]
    date_of_birth: date
    addresses: list[Address]
    area: str | None
    mappa_status: Literal["not-mappa", "active", "exited", "merged"] = Field(
        description="not-mappa: no MAPPA category, ever; active: MAPPA-managed (a category);"
        " exited: left MAPPA; merged: lives on as merged_into"
    )
    merged_into: str | None
    category: int | None
    category_reason: str | None
    custody_status: str
    release_date: date | None
    lead_agency: str | None
    offender_manager_ref: str | None
    rosh: str | None
    identifiers: list[Identifier]
    convictions: list[Conviction]
    risk_assessments: list[RiskAssessment]
    notification_requirement: NotificationRequirement | None
    compliance: Compliance | None
    shared_as: Literal["responsible-authority", "duty-to-co-operate"] = Field(
        default="responsible-authority",
        description="duty-to-co-operate: the view of an agency invited to the case's meetings, without"
        " other agencies' identifiers, aliases, addresses, convictions, assessments or notification record",
    )


# What a Duty-to-Co-operate agency invited to the case's meetings does not need to see here: it
# identifies the person by name and date of birth, and hears the rest at the meeting.
_NOT_FOR_PARTNERS: dict[str, Any] = dict(
    aliases=[],
    addresses=[],
    identifiers=[],
    convictions=[],
    risk_assessments=[],
    category_reason=None,
    notification_requirement=None,
    compliance=None,
    shared_as="duty-to-co-operate",
)


class OverdueNotification(BaseModel):
    platform_id: str
    notification: str
    deadline: date
    days_overdue: int


class ResolutionCase(BaseModel):
    id: int
    opened_at: datetime
    reason: str
    platform_ids: list[str]
    event_id: str
    event_type: str


class Now:
    """What compliance is judged against: the service clock's date and the area's policy."""

    def __init__(self, today: Today, policies: Policies) -> None:
        self.today = today
        self._policies = policies

    def due_soon_days(self, area: str | None) -> int:
        days: int = self._policies.for_area(area).due_soon_days
        return days


def _compliance(found: dict[str, Any], state: NotificationState | None, now: Now) -> Compliance | None:
    if state is None:
        return None
    breaches = [Breach(**b) for b in found["breaches"]]
    due = next_deadline(state, now.today)
    if due is None:
        return Compliance(status="compliant", next_notification=None, deadline=None, breaches=breaches)
    kind, deadline = due
    return Compliance(
        status=compliance(deadline, now.today, due_soon_days=now.due_soon_days(found["area"])),
        next_notification=kind,
        deadline=deadline,
        breaches=breaches,
    )


def _view(
    found: dict[str, Any], state: NotificationState | None, now: Now, principal: Principal
) -> NominalView:
    view = NominalView(
        compliance=_compliance(found, state, now),
        **{k: v for k, v in found.items() if k in NominalView.model_fields},
        notification_requirement=None if state is None else _requirement_view(state),
    )
    return view if principal.responsible_authority else view.model_copy(update=_NOT_FOR_PARTNERS)


def _requirement_view(state: NotificationState) -> NotificationRequirement:
    requirement = state.requirement
    initial = state.initial_notified_on
    return NotificationRequirement(
        relevant_date=requirement.relevant_date,
        indefinite=requirement.period.indefinite,
        period_months=requirement.period.months,
        ends_on=requirement.ends_on,
        basis=requirement.period.basis,
        initial_notified_on=initial,
        last_notified_on=state.last_notified_on,
        no_fixed_abode=state.no_fixed_abode,
        review_eligible_from=requirement.review_eligible_from(initial) if initial else None,
    )


async def _readable(session: AsyncSession, principal: Principal, platform_id: str) -> dict[str, Any]:
    found = await RegistryReads(session).nominal(platform_id)
    if found is None or not await may_read_case(session, principal, platform_id, found["area"]):
        raise NOT_FOUND
    return found


async def _state(session: AsyncSession, platform_id: str) -> NotificationState | None:
    states = await RegistryStore(session).notification_states(platform_id=platform_id)
    return states[0][1] if states else None


@router.get("/nominals/{platform_id}", response_model=NominalView)
async def nominal(
    platform_id: str, principal: Caseworker, purpose: Purpose, db: Db, now: Annotated[Now, Depends()]
) -> NominalView:
    async with db.transaction() as session:
        found = await _readable(session, principal, platform_id)
        view = _view(found, await _state(session, platform_id), now, principal)
        await audit.record_read(
            session, principal, purpose=purpose, record_type="nominal", record_id=platform_id
        )
    return view


class Lookup(RequestBody):
    scheme: Scheme
    value: str = Field(min_length=1, max_length=32)


class Search(RequestBody):
    family_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0)


# Identifiers, names and dates of birth go in request bodies, never in URLs, which proxies log.
@router.post("/nominals/lookup", response_model=NominalView)
async def by_identifier(
    lookup: Lookup,
    principal: Caseworker,
    purpose: Purpose,
    db: Db,
    now: Annotated[Now, Depends()],
) -> NominalView:
    """Look a nominal up by an agency identifier (PNC ID, CRO number, prison number, CRN)."""
    async with db.transaction() as session:
        reads = RegistryReads(session)
        platform_id = await reads.by_identifier(lookup.scheme, lookup.value)
        if platform_id is None:
            raise NOT_FOUND
        found = await _readable(session, principal, platform_id)
        view = _view(found, await _state(session, platform_id), now, principal)
        await audit.record_read(
            session, principal, purpose=purpose, record_type="nominal", record_id=platform_id
        )
    return view


@router.post("/nominals/search", response_model=list[NominalView])
async def search(
    query: Search,
    principal: Caseworker,
    purpose: Purpose,
    db: Db,
    now: Annotated[Now, Depends()],
) -> list[NominalView]:
    """Nominals the caller may read with this family name (any case; former names too) and date of birth."""
    views: list[NominalView] = []
    async with db.transaction() as session:
        reads = RegistryReads(session)
        matches = await reads.search(
            query.family_name,
            query.date_of_birth,
            area=principal.area,
            limit=query.limit,
            offset=query.offset,
        )
        for platform_id in matches:
            found = await reads.nominal(platform_id)
            if found is None or not await may_read_case(session, principal, platform_id, found["area"]):
                continue
            await audit.record_read(
                session, principal, purpose=purpose, record_type="nominal", record_id=platform_id
            )
            views.append(_view(found, await _state(session, platform_id), now, principal))
    return views


@router.get("/nominals/{platform_id}/history", response_model=list[HistoryLine])
async def nominal_history(
    platform_id: str,
    principal: Caseworker,
    purpose: Purpose,
    db: Db,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[HistoryLine]:
    """Every change to the nominal, oldest first, with the event that caused it."""
    async with db.transaction() as session:
        await _readable(session, principal, platform_id)
        return await read_history(
            session,
            principal,
            purpose,
            subject=platform_id,
            record_type="nominal-history",
            not_found=NOT_FOUND,
            limit=limit,
            offset=offset,
        )


# What a read of the nominal may have been: the record, its history, or its audit trail.
READS_OF_A_NOMINAL = ("nominal", "nominal-history", "nominal-reads")


add_audit_trail(
    router,
    "/nominals/{platform_id}/reads",
    record_types=READS_OF_A_NOMINAL,
    area_of=lambda session, platform_id: RegistryReads(session).area(platform_id),
    not_found=NOT_FOUND,
    description="Who read the nominal (its record, history or audit trail), when and why: for its auditors.",
)


async def case_visible(reads: RegistryReads, principal: Principal, platform_ids: list[str]) -> bool:
    """A case is the co-ordinator's if it is about one of their area's nominals, or about no nominal yet."""
    return not platform_ids or principal.area in {await reads.area(p) for p in platform_ids}


@router.get("/resolution-cases", response_model=list[ResolutionCase])
async def resolution_cases(
    principal: Authenticated,
    db: Db,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[ResolutionCase]:
    """Open identity resolution cases about the co-ordinator's area's nominals, or about no nominal yet."""
    if principal.role is not Role.MAPPA_COORDINATOR or not principal.responsible_authority:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "resolution cases are for MAPPA co-ordinators")
    async with db.transaction() as session:
        reads = RegistryReads(session)
        mine = [
            case
            for case in await reads.open_cases()
            if await case_visible(reads, principal, case["platform_ids"])
        ]
    return [ResolutionCase(**case) for case in mine[offset : offset + limit]]


@router.get("/notifications/overdue", response_model=list[OverdueNotification])
async def overdue(
    principal: ResponsibleAuthority,
    purpose: Purpose,
    db: Db,
    today: Today,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[OverdueNotification]:
    """Registered sex offenders in the caller's area whose notification is overdue (platform ids only)."""
    async with db.transaction() as session:
        states = await RegistryStore(session).notification_states(area=principal.area)
        late = [
            OverdueNotification(
                platform_id=platform_id,
                notification=due[0],
                deadline=due[1],
                days_overdue=(today - due[1]).days,
            )
            for platform_id, state in states
            if (due := next_deadline(state, today)) is not None and today > due[1]
        ]
        await audit.record_read(
            session, principal, purpose=purpose, record_type="overdue-notifications", record_id=principal.area
        )
    late.sort(key=lambda n: n.deadline)
    return late[offset : offset + limit]
