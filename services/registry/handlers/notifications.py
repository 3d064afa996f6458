"""Notification requirements (SOA 2003 Part 2): the requirement itself, and the notifications people make."""

from datetime import date

from eventkit.consumer import UnitOfWork
from eventkit.outbox import Emitter
from schemas.events.police import (
    AddressNotified,
    ForeignTravelNotified,
    NameNotified,
    PeriodicNotificationMade,
)
from schemas.events.registry import NotificationMade, NotificationOverdue, NotificationRequirementSet
from services.registry.handlers.resolve import nominal_for, note, on
from services.registry.notification_rules import (
    Requirement,
    foreign_travel_deadline,
    longer,
    next_deadline,
    starts_afresh,
)
from services.registry.storage import RegistryStore


async def require(work: UnitOfWork, platform_id: str, requirement: Requirement) -> None:
    """A disposal brings a requirement: it governs if it ends later than the one in force."""
    store = RegistryStore(work.session)
    current = await store.requirement(platform_id)
    if (kept := longer(current, requirement)) is None:
        return
    await store.set_requirement(platform_id, kept, afresh=starts_afresh(current, kept))
    await publish_requirement(work, platform_id, kept)


async def publish_requirement(work: Emitter, platform_id: str, requirement: Requirement) -> None:
    """Say in the history and on the topic which requirement the nominal is now under."""
    await note(work, platform_id, f"notification requirement: {requirement.period.basis}")
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


async def notified(
    work: UnitOfWork, platform_id: str, notified_on: date, *, initial: bool, no_fixed_abode: bool | None
) -> None:
    """Record a notification the nominal made, and say so, with any deadline still passed after it."""
    store = RegistryStore(work.session)
    await store.notified(platform_id, notified_on, initial=initial, no_fixed_abode=no_fixed_abode)
    today = work.today
    due = [
        next_deadline(state, today) for _, state in await store.notification_states(platform_id=platform_id)
    ]
    overdue = next((deadline for _kind, deadline in filter(None, due) if today > deadline), None)
    made = NotificationMade(platform_id=platform_id, notified_on=notified_on, overdue_since=overdue)
    await work.emit(made, key=platform_id)


@on(AddressNotified)
async def address_notified(data: AddressNotified, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await notified(
            work,
            platform_id,
            data.notified_on,
            initial=data.notification == "initial",
            no_fixed_abode=data.no_fixed_abode,
        )
        await RegistryStore(work.session).add_address(
            platform_id,
            notified_on=data.notified_on,
            address=data.address.model_dump() if data.address else None,
            no_fixed_abode=data.no_fixed_abode,
        )
        where = "no fixed abode" if data.no_fixed_abode else "home address"
        await note(work, platform_id, f"{data.notification} notification: {where}")


@on(NameNotified)
async def name_notified(data: NameNotified, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await RegistryStore(work.session).rename(
            platform_id, data.family_name, data.given_names, data.notified_on
        )
        await notified(work, platform_id, data.notified_on, initial=False, no_fixed_abode=None)
        await note(work, platform_id, "name change notified")


@on(PeriodicNotificationMade)
async def periodic_notification_made(data: PeriodicNotificationMade, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await notified(work, platform_id, data.notified_on, initial=False, no_fixed_abode=None)
        await note(work, platform_id, "periodic notification")


@on(ForeignTravelNotified)
async def foreign_travel_notified(data: ForeignTravelNotified, work: UnitOfWork) -> None:
    if not (platform_id := await nominal_for(data.person, work)):
        return
    store = RegistryStore(work.session)
    deadline = foreign_travel_deadline(data.departure_date)
    in_time = data.notified_on <= deadline
    await store.add_travel(
        platform_id,
        notified_on=data.notified_on,
        departure_date=data.departure_date,
        return_date=data.return_date,
        destination_country=data.destination_country,
        notified_in_time=in_time,
    )
    await note(work, platform_id, "foreign travel notified" + ("" if in_time else " late"))
    # Notice given less than 7 days ahead is a breach already committed: on record and published.
    if not in_time and await store.add_breach(platform_id, "foreign-travel", deadline):
        await work.emit(
            NotificationOverdue(platform_id=platform_id, notification="foreign-travel", deadline=deadline),
            key=platform_id,
        )
