"""Convictions and cautions: what a disposal changes in custody, notification requirements and category."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from eventkit.consumer import UnitOfWork
from schemas.events import registry
from schemas.events.police import CautionRecorded, ChargeRecorded, ConvictionRecorded, LinkedTerm, Offence
from services.registry import rules
from services.registry.handlers import categories, notifications
from services.registry.handlers.resolve import nominal_for, note, on, update, update_if_newer
from services.registry.notification_rules import (
    Disposal,
    Requirement,
    aggregate_term,
    notification_period,
)
from services.registry.storage import RegistryStore


@on(ConvictionRecorded)
async def conviction_recorded(data: ConvictionRecorded, work: UnitOfWork) -> None:
    # MAPPA areas follow police force areas: the recording force's area manages a new case.
    platform_id = await nominal_for(data.person, work, area=data.recording_force)
    if platform_id is not None:
        await _area_if_unknown(work, platform_id, data.recording_force)
        await _disposed(
            work,
            platform_id,
            offence=data.offence,
            on=data.conviction_date,
            age=data.age(),
            disposal=data.disposal.type,
            custody_months=data.disposal.custody_months,
            discharge_months=data.disposal.discharge_months,
            linked_terms=data.disposal.linked_terms,
        )


@on(CautionRecorded)
async def caution_recorded(data: CautionRecorded, work: UnitOfWork) -> None:
    platform_id = await nominal_for(data.person, work, area=data.recording_force)
    if platform_id is not None:
        await _area_if_unknown(work, platform_id, data.recording_force)
        await _disposed(
            work,
            platform_id,
            offence=data.offence,
            on=data.caution_date,
            age=data.age(),
            disposal="caution",
            custody_months=None,
            discharge_months=None,
            linked_terms=(),
        )


@on(ChargeRecorded)
async def charge_recorded(data: ChargeRecorded, work: UnitOfWork) -> None:
    # A charge matters to MAPPA only for someone on the register: nobody else's charge is held.
    if platform_id := await nominal_for(data.person, work, hold_if_unknown=False):
        serious = rules.serious_further_offence(
            murder=data.offence.murder,
            criminal_justice_act_schedule_15=data.offence.criminal_justice_act_schedule_15,
        )
        await note(work, platform_id, f"charged ({data.offence.code})")
        await work.emit(
            registry.Charged(
                platform_id=platform_id, charged_on=data.charged_on, serious_further_offence=serious
            ),
            key=platform_id,
        )


async def _area_if_unknown(work: UnitOfWork, platform_id: str, area: str) -> None:
    """A nominal first registered by another agency takes the recording force's area."""
    store = RegistryStore(work.session)
    if store.registered_in_an_area(platform_id):
        return  # just registered, by this very event or another in the batch, with an area
    if (await store.facts(platform_id))["area"] is None:
        await update(work, platform_id, f"area {area} (from the recording force)", area=area)


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
    linked_terms: Sequence[LinkedTerm],
) -> None:
    store = RegistryStore(work.session)
    requirement: Requirement | None = None
    conviction = rules.Conviction(
        sexual_offences_act_schedule_3=offence.sexual_offences_act_schedule_3,
        criminal_justice_act_schedule_15=offence.criminal_justice_act_schedule_15,
        disposal=disposal,
        custody_months=custody_months,
        murder=offence.murder,
    )
    await store.add_conviction(
        platform_id, conviction, source_event_id=work.cause.id, offence_code=offence.code, on=on
    )
    # A release already on record after this sentence (events arrive out of order) wins.
    if detained := rules.detention_from(disposal):
        await update_if_newer(
            work, platform_id, "custody", on, f"{detained} (from the sentence)", custody_status=detained
        )
    if offence.sexual_offences_act_schedule_3:
        term = custody_months
        if linked_terms:
            term = aggregate_term(
                custody_months or 0, [(t.custody_months, t.overlap_months) for t in linked_terms]
            )
        period = notification_period(
            disposal, custody_months=term, discharge_months=discharge_months, under_18=age < 18
        )
        requirement = Requirement(on, period, age < 18)
        # A historic conviction whose requirement has run out (by the registry's clock, never the
        # sender's) brings neither the requirement nor category 1.
        ends = requirement.ends_on
        if ends is not None and ends < work.today:
            await note(
                work, platform_id, f"notification requirement ended on {ends.isoformat()}: {period.basis}"
            )
            conviction = replace(conviction, sexual_offences_act_schedule_3=False)
            requirement = None
    # The category first: it places the case in its area, which readers of the requirement need.
    await categories.assign(work, platform_id, rules.category_for(conviction), on)
    if requirement is not None:
        await notifications.require(work, platform_id, requirement)
