"""Registry handlers: parse, decide with the rules, store, emit."""

import json
import logging
from collections.abc import Mapping
from datetime import date

from eventkit.codec import decode
from eventkit.consumer import Handlers, UnitOfWork
from eventkit.outbox import Emitter
from schemas.catalogue import TOPIC_OF_EVENT
from schemas.events import registry
from schemas.events.common import (
    AreaTransferred,
    CategoryReferralAccepted,
    LeadAgencySet,
    OffenderManagerAllocated,
    PersonRef,
    RiskAssessmentCompleted,
)
from schemas.events.health import HospitalOrderEnded, HospitalOrderMade
from schemas.events.police import (
    AddressNotified,
    CautionRecorded,
    ConvictionRecorded,
    ForeignTravelNotified,
    NameNotified,
    Offence,
    PeriodicNotificationMade,
    PersonDetails,
)
from schemas.events.prison import CustodyStarted, Released, ReleaseDateSet
from schemas.events.probation import LicenceEnded
from schemas.events.registry import (
    AgencyIdentifier,
    CategoryAssigned,
    IdentifiersLinked,
    NominalRegistered,
    NotificationRequirementSet,
)
from schemas.identifiers import Scheme
from services.registry import identity, rules
from services.registry.notification_rules import (
    Disposal,
    Requirement,
    foreign_travel_deadline,
    longer,
    notification_period,
)
from services.registry.storage import RegistryStore

log = logging.getLogger(__name__)
# A held event was accepted once already; its size was checked then.
HELD_MAX_BYTES = 16 * 1024 * 1024
handlers = Handlers()


def _claimed(person: PersonDetails | PersonRef) -> dict[Scheme, str]:
    ids = person.identifiers if isinstance(person, PersonRef) else person
    pnc = ids.pnc_id
    cro = ids.cro_number
    prison = getattr(ids, "prison_number", None)
    crn = getattr(ids, "crn", None)
    found: dict[Scheme, str | None] = {"pnc": pnc, "cro": cro, "prison-number": prison, "crn": crn}
    return {scheme: value for scheme, value in found.items() if value}


def _listed(ids: Mapping[Scheme, str]) -> list[AgencyIdentifier]:
    return [AgencyIdentifier(scheme=s, value=v) for s, v in ids.items()]


async def _nominal(
    person: PersonDetails | PersonRef, work: UnitOfWork, *, area: str | None = None
) -> str | None:
    """The platform id the event is about: found, linked or newly registered.

    None when the event contradicts the register: it is then held in a
    resolution case for a person to decide, and nothing else changes.
    """
    store = RegistryStore(work.session)
    claimed = _claimed(person)
    resolution = identity.resolve(
        identity.Claim(claimed, person.date_of_birth), await store.candidates(claimed)
    )
    cause = work.cause
    if isinstance(resolution, identity.Conflict):
        await store.open_case(
            reason=resolution.reason,
            platform_ids=resolution.platform_ids,
            event_id=cause.id,
            event_type=cause.type,
            event=cause.model_dump(mode="json"),
            claimed=claimed,
        )
        log.warning("resolution case opened (%s) for event %s", resolution.reason, cause.id)
        return None
    if isinstance(resolution, identity.Matched):
        if resolution.link:
            await store.link(resolution.platform_id, resolution.link)
            await _note(
                work, resolution.platform_id, f"identifiers linked: {', '.join(sorted(resolution.link))}"
            )
            await work.emit(
                IdentifiersLinked(platform_id=resolution.platform_id, identifiers=_listed(resolution.link)),
                key=resolution.platform_id,
            )
            await _release_held(work, resolution.link)
        return resolution.platform_id
    if person.date_of_birth is None or not person.family_name or not person.given_names:
        await store.open_case(
            reason="unknown-person",
            platform_ids=(),
            event_id=cause.id,
            event_type=cause.type,
            event=cause.model_dump(mode="json"),
            claimed=claimed,
        )
        log.warning("resolution case opened (unknown-person) for event %s", cause.id)
        return None
    platform_id = await store.add_nominal(
        family_name=person.family_name,
        given_names=list(person.given_names),
        date_of_birth=person.date_of_birth,
        identifiers_=claimed,
        area=area,
    )
    await _note(work, platform_id, "registered")
    await work.emit(NominalRegistered(platform_id=platform_id, identifiers=_listed(claimed)), key=platform_id)
    await _release_held(work, claimed)
    return platform_id


async def _release_held(work: UnitOfWork, known: Mapping[Scheme, str]) -> None:
    """Apply events held because their person was unknown, now that an identifier of theirs is known.

    Agencies' topics are not ordered with each other, so a prison's event
    can arrive before the police conviction that registers the person.
    """
    for held in await RegistryStore(work.session).take_held(known):
        event_type = held["type"]
        incoming = decode(
            TOPIC_OF_EVENT[event_type].name, json.dumps(held).encode(), max_bytes=HELD_MAX_BYTES
        )
        replay = work.for_cause(incoming.event)
        await handlers.by_type[event_type](incoming, replay)
        work.emitted += replay.emitted


async def _area_if_unknown(work: UnitOfWork, platform_id: str, area: str) -> None:
    """A nominal first registered by another agency takes the recording force's area."""
    if (await RegistryStore(work.session).facts(platform_id))["area"] is None:
        await _update(work, platform_id, f"area {area} (from the recording force)", area=area)


async def _disposed(
    work: UnitOfWork,
    platform_id: str,
    *,
    offence: Offence,
    on: date,
    age: int,
    disposal: Disposal,
    custody_months: int | None,
    discharge_months: int | None,
) -> None:
    """What a conviction or caution changes: category and notification requirement."""
    store = RegistryStore(work.session)
    cause = work.cause
    await store.add_conviction(
        platform_id,
        source_event_id=cause.id,
        offence_code=offence.code,
        conviction_date=on,
        disposal=disposal,
        custody_months=custody_months,
        caution=disposal == "caution",
    )
    released_on = (await store.facts(platform_id))["released_on"]
    # A release already on record after this sentence (events arrive out of order) wins.
    if (detained := rules.detention_from(disposal)) and (released_on is None or released_on < on):
        await store.update(platform_id, custody_status=detained)
        await _note(work, platform_id, f"{detained} (from the sentence)")
    if offence.sexual_offences_act_schedule_3:
        period = notification_period(
            disposal, custody_months=custody_months, discharge_months=discharge_months, under_18=age < 18
        )
        requirement = longer(await store.requirement(platform_id), Requirement(on, period, age < 18))
        if requirement is not None:
            await store.set_requirement(platform_id, requirement)
            await _note(work, platform_id, f"notification requirement: {period.basis}")
            await work.emit(
                NotificationRequirementSet(
                    platform_id=platform_id,
                    relevant_date=requirement.relevant_date,
                    indefinite=requirement.period.indefinite,
                    period_months=requirement.period.months,
                    ends_on=requirement.ends_on,
                    basis=requirement.period.basis,
                ),
                key=platform_id,
            )
    decision = rules.prevailing(
        await store.category(platform_id),
        rules.category_for(
            rules.Conviction(
                sexual_offences_act_schedule_3=offence.sexual_offences_act_schedule_3,
                criminal_justice_act_schedule_15=offence.criminal_justice_act_schedule_15,
                disposal=disposal,
                custody_months=custody_months,
                murder=offence.murder,
            )
        ),
    )
    if decision is None:
        return
    await store.set_category(platform_id, decision.category, decision.reason)
    await store.update(platform_id, mappa_status="active")
    await _note(work, platform_id, f"category {decision.category}")
    await work.emit(
        CategoryAssigned(
            platform_id=platform_id,
            category=decision.category,
            reason=decision.reason,
            legal_basis=decision.legal_basis,
            effective_date=on,
        ),
        key=platform_id,
    )


@handlers.on(ConvictionRecorded)
async def conviction_recorded(data: ConvictionRecorded, work: UnitOfWork) -> None:
    # MAPPA areas follow police force areas: the recording force's area manages a new case.
    platform_id = await _nominal(data.person, work, area=data.recording_force)
    if platform_id is not None:
        await _area_if_unknown(work, platform_id, data.recording_force)
        await _disposed(
            work,
            platform_id,
            offence=data.offence,
            on=data.conviction_date,
            age=data.age_at_conviction,
            disposal=data.disposal.type,
            custody_months=data.disposal.custody_months,
            discharge_months=data.disposal.discharge_months,
        )


@handlers.on(CautionRecorded)
async def caution_recorded(data: CautionRecorded, work: UnitOfWork) -> None:
    platform_id = await _nominal(data.person, work, area=data.recording_force)
    if platform_id is not None:
        await _area_if_unknown(work, platform_id, data.recording_force)
        await _disposed(
            work,
            platform_id,
            offence=data.offence,
            on=data.caution_date,
            age=data.age_at_caution,
            disposal="caution",
            custody_months=None,
            discharge_months=None,
        )


@handlers.on(CustodyStarted)
async def custody_started(data: CustodyStarted, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        await _update(work, platform_id, "custody started", custody_status="in-custody")


@handlers.on(ReleaseDateSet)
async def release_date_set(data: ReleaseDateSet, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        await _update(work, platform_id, "release date set", release_date=data.release_date)


@handlers.on(Released)
async def released(data: Released, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        await _update(
            work,
            platform_id,
            "released",
            custody_status="in-community",
            released_on=data.released_on,
            on_licence=data.on_licence,
        )
        await work.emit(
            registry.Released(
                platform_id=platform_id, released_on=data.released_on, on_licence=data.on_licence
            ),
            key=platform_id,
        )


@handlers.on(LeadAgencySet)
async def lead_agency_set(data: LeadAgencySet, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        await _update(work, platform_id, f"lead agency {data.lead_agency}", lead_agency=data.lead_agency)


@handlers.on(OffenderManagerAllocated)
async def offender_manager_allocated(data: OffenderManagerAllocated, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        await _update(
            work,
            platform_id,
            "offender manager allocated",
            offender_manager_ref=data.staff_ref,
            offender_manager_team=data.team_code,
        )
        await work.emit(
            registry.OffenderManagerAllocated(
                platform_id=platform_id,
                staff_ref=data.staff_ref,
                team_code=data.team_code,
                allocated_on=data.allocated_on,
            ),
            key=platform_id,
        )


@handlers.on(RiskAssessmentCompleted)
async def risk_assessment_completed(data: RiskAssessmentCompleted, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        await RegistryStore(work.session).add_risk_assessment(
            platform_id,
            completed_on=data.completed_on,
            tool=data.tool,
            rosh=data.rosh,
            assessor_agency=data.assessor_agency,
        )
        await _update(work, platform_id, f"risk assessed ({data.tool}): {data.rosh}", rosh=data.rosh)
        await work.emit(
            registry.RiskAssessed(
                platform_id=platform_id,
                rosh=data.rosh,
                completed_on=data.completed_on,
                assessor_agency=data.assessor_agency,
            ),
            key=platform_id,
        )


async def _update(work: UnitOfWork, platform_id: str, change: str, **facts: object) -> None:
    await RegistryStore(work.session).update(platform_id, **facts)
    await _note(work, platform_id, change)


async def _note(work: UnitOfWork, platform_id: str, change: str) -> None:
    """A line in the nominal's history, naming the event that caused it."""
    await RegistryStore(work.session).record(
        platform_id, change, event_id=work.cause.id, event_type=work.cause.type
    )


@handlers.on(AddressNotified)
async def address_notified(data: AddressNotified, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        store = RegistryStore(work.session)
        await store.notified(
            platform_id,
            data.notified_on,
            initial=data.notification == "initial",
            no_fixed_abode=data.no_fixed_abode,
        )
        await store.add_address(
            platform_id,
            notified_on=data.notified_on,
            address=data.address.model_dump() if data.address else None,
            no_fixed_abode=data.no_fixed_abode,
        )
        where = "no fixed abode" if data.no_fixed_abode else "home address"
        await _note(work, platform_id, f"{data.notification} notification: {where}")


@handlers.on(NameNotified)
async def name_notified(data: NameNotified, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        store = RegistryStore(work.session)
        await store.rename(platform_id, data.family_name, data.given_names, data.notified_on)
        await store.notified(platform_id, data.notified_on, initial=False, no_fixed_abode=None)
        await _note(work, platform_id, "name change notified")


@handlers.on(PeriodicNotificationMade)
async def periodic_notification_made(data: PeriodicNotificationMade, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        store = RegistryStore(work.session)
        await store.notified(platform_id, data.notified_on, initial=False, no_fixed_abode=None)
        await _note(work, platform_id, "periodic notification")


@handlers.on(ForeignTravelNotified)
async def foreign_travel_notified(data: ForeignTravelNotified, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        store = RegistryStore(work.session)
        in_time = data.notified_on <= foreign_travel_deadline(data.departure_date)
        await store.add_travel(
            platform_id,
            notified_on=data.notified_on,
            departure_date=data.departure_date,
            return_date=data.return_date,
            destination_country=data.destination_country,
            notified_in_time=in_time,
        )
        change = "foreign travel notified" + ("" if in_time else " late: less than 7 days before departure")
        await _note(work, platform_id, change)


async def _exit_if_ended(work: UnitOfWork, platform_id: str, ending: rules.Ending, on: date) -> None:
    store = RegistryStore(work.session)
    facts = await store.facts(platform_id)
    still = bool(facts["on_licence"] or facts["hospital_order"])
    reason = rules.exit_reason(facts["category"], ending, still_detained_or_supervised=still)
    if facts["mappa_status"] == "active" and reason is not None:
        await exit_mappa(work, platform_id, facts["category"], reason, on)


async def exit_mappa(work: Emitter, platform_id: str, category: int, reason: str, on: date) -> None:
    """Record and publish that the nominal left MAPPA."""
    store = RegistryStore(work.session)
    # The category ends with the exit, so a later qualifying fact brings them back in.
    await store.update(platform_id, mappa_status="exited", category=None, category_reason=None)
    cause = work.cause if isinstance(work, UnitOfWork) else None
    await store.record(
        platform_id,
        f"exited MAPPA: {reason}",
        event_id=cause.id if cause else f"schedule/{on.isoformat()}",
        event_type=cause.type if cause else "schedule/mappa-exits",
    )
    await work.emit(
        registry.ExitedMappa(platform_id=platform_id, category=category, reason=reason, exited_on=on),
        key=platform_id,
    )


@handlers.on(LicenceEnded)
async def licence_ended(data: LicenceEnded, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        await _update(work, platform_id, "licence ended", on_licence=False)
        await _exit_if_ended(work, platform_id, "licence-ended", data.ended_on)


@handlers.on(HospitalOrderMade)
async def hospital_order_made(data: HospitalOrderMade, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        facts: dict[str, object] = {"hospital_order": data.order}
        if data.order == "hospital-order":
            facts["custody_status"] = "detained-in-hospital"
        await _update(work, platform_id, f"{data.order} made", **facts)


@handlers.on(HospitalOrderEnded)
async def hospital_order_ended(data: HospitalOrderEnded, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        facts: dict[str, object] = {"hospital_order": None}
        if (await RegistryStore(work.session).facts(platform_id))["custody_status"] == "detained-in-hospital":
            facts["custody_status"] = "in-community"
        await _update(work, platform_id, f"{data.order} ended", **facts)
        await _exit_if_ended(work, platform_id, "hospital-order-ended", data.ended_on)


@handlers.on(CategoryReferralAccepted)
async def category_referral_accepted(data: CategoryReferralAccepted, work: UnitOfWork) -> None:
    if not (platform_id := await _nominal(data.person, work)):
        return
    store = RegistryStore(work.session)
    decision = rules.prevailing(
        await store.category(platform_id),
        rules.CategoryDecision(
            category=data.category,
            reason=f"Category {data.category} referral accepted",
            legal_basis="CJA 2003 s.325(2)" if data.category == 3 else "CJA 2003 s.327(4A)",
        ),
    )
    if decision is None:
        return
    await store.set_category(platform_id, decision.category, decision.reason)
    # The referral's own words stay in the register's history, not in published events.
    await _update(
        work,
        platform_id,
        f"category {decision.category} by referral: {data.reason}"[:200],
        mappa_status="active",
    )
    await work.emit(
        CategoryAssigned(
            platform_id=platform_id,
            category=decision.category,
            reason=decision.reason,
            legal_basis=decision.legal_basis,
            effective_date=data.accepted_on,
        ),
        key=platform_id,
    )


@handlers.on(AreaTransferred)
async def area_transferred(data: AreaTransferred, work: UnitOfWork) -> None:
    if platform_id := await _nominal(data.person, work):
        await _update(work, platform_id, f"transferred to area {data.to_area}", area=data.to_area)
        await work.emit(
            registry.Transferred(
                platform_id=platform_id,
                from_area=data.from_area,
                to_area=data.to_area,
                transferred_on=data.transferred_on,
            ),
            key=platform_id,
        )
