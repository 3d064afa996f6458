"""Notification requirements (SOA 2003 Part 2): the requirement itself, and the notifications people make."""

from eventkit.consumer import UnitOfWork
from schemas.events.police import (
    AddressNotified,
    ForeignTravelNotified,
    NameNotified,
    PeriodicNotificationMade,
)
from schemas.events.registry import NotificationOverdue, NotificationRequirementSet
from services.registry.handlers.resolve import handlers, nominal_for, note
from services.registry.notification_rules import (
    Requirement,
    foreign_travel_deadline,
    longer,
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
    await note(work, platform_id, f"notification requirement: {kept.period.basis}")
    await work.emit(
        NotificationRequirementSet(
            platform_id=platform_id,
            relevant_date=kept.relevant_date,
            indefinite=kept.period.indefinite,
            period_months=kept.period.months,
            ends_on=kept.ends_on,
            basis=kept.period.basis,
        ),
        key=platform_id,
    )


@handlers.on(AddressNotified)
async def address_notified(data: AddressNotified, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
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
        await note(work, platform_id, f"{data.notification} notification: {where}")


@handlers.on(NameNotified)
async def name_notified(data: NameNotified, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        store = RegistryStore(work.session)
        await store.rename(platform_id, data.family_name, data.given_names, data.notified_on)
        await store.notified(platform_id, data.notified_on, initial=False, no_fixed_abode=None)
        await note(work, platform_id, "name change notified")


@handlers.on(PeriodicNotificationMade)
async def periodic_notification_made(data: PeriodicNotificationMade, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await RegistryStore(work.session).notified(
            platform_id, data.notified_on, initial=False, no_fixed_abode=None
        )
        await note(work, platform_id, "periodic notification")


@handlers.on(ForeignTravelNotified)
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
