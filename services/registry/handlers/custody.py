"""Custody, release, licences and hospital orders: where the person is, and what ends with them.

Prison, probation and health publish on topics not ordered with each
other, so each fact is applied only if it is at least as recent as the
one on record: a late ``custody-started`` cannot undo a later release.
"""

from eventkit.consumer import UnitOfWork
from schemas.events import registry
from schemas.events.health import HospitalOrderEnded, HospitalOrderMade
from schemas.events.prison import CustodyStarted, Released, ReleaseDateSet
from schemas.events.probation import LicenceEnded
from services.registry.handlers import categories
from services.registry.handlers.resolve import nominal_for, on, update, update_if_newer
from services.registry.storage import RegistryStore


@on(CustodyStarted)
async def custody_started(data: CustodyStarted, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await update_if_newer(
            work, platform_id, "custody", data.started_on, "custody started", custody_status="in-custody"
        )


@on(ReleaseDateSet)
async def release_date_set(data: ReleaseDateSet, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await update(work, platform_id, "release date set", release_date=data.release_date)
        await work.emit(
            registry.ReleaseDateSet(platform_id=platform_id, release_date=data.release_date), key=platform_id
        )


@on(Released)
async def released(data: Released, work: UnitOfWork) -> None:
    if not (platform_id := await nominal_for(data.person, work)):
        return
    on = data.released_on
    if not await update_if_newer(
        work, platform_id, "custody", on, "released", custody_status="in-community", released_on=on
    ):
        return
    await update_if_newer(work, platform_id, "licence", on, "on licence", on_licence=data.on_licence)
    await work.emit(
        registry.Released(platform_id=platform_id, released_on=on, on_licence=data.on_licence),
        key=platform_id,
    )
    if not data.on_licence:
        await categories.ended(work, platform_id, "released-without-licence", on)


@on(LicenceEnded)
async def licence_ended(data: LicenceEnded, work: UnitOfWork) -> None:
    if not (platform_id := await nominal_for(data.person, work)):
        return
    if await update_if_newer(work, platform_id, "licence", data.ended_on, "licence ended", on_licence=False):
        await categories.ended(work, platform_id, "licence-ended", data.ended_on)


@on(HospitalOrderMade)
async def hospital_order_made(data: HospitalOrderMade, work: UnitOfWork) -> None:
    if not (platform_id := await nominal_for(data.person, work)):
        return
    change = f"{data.order} made"
    if (
        await update_if_newer(
            work, platform_id, "hospital-order", data.made_on, change, hospital_order=data.order
        )
        and data.order == "hospital-order"
    ):
        await update_if_newer(
            work, platform_id, "custody", data.made_on, change, custody_status="detained-in-hospital"
        )


@on(HospitalOrderEnded)
async def hospital_order_ended(data: HospitalOrderEnded, work: UnitOfWork) -> None:
    if not (platform_id := await nominal_for(data.person, work)):
        return
    on, change = data.ended_on, f"{data.order} ended"
    if not await update_if_newer(work, platform_id, "hospital-order", on, change, hospital_order=None):
        return
    if (await RegistryStore(work.session).facts(platform_id))["custody_status"] == "detained-in-hospital":
        await update_if_newer(work, platform_id, "custody", on, change, custody_status="in-community")
    await categories.ended(work, platform_id, "hospital-order-ended", on)
