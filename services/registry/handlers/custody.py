"""Custody, release, licences and hospital orders: where the person is, and what ends with them."""

from eventkit.consumer import UnitOfWork
from schemas.events import registry
from schemas.events.health import HospitalOrderEnded, HospitalOrderMade
from schemas.events.prison import CustodyStarted, Released, ReleaseDateSet
from schemas.events.probation import LicenceEnded
from services.registry.handlers import categories
from services.registry.handlers.resolve import handlers, nominal_for, update
from services.registry.storage import RegistryStore


@handlers.on(CustodyStarted)
async def custody_started(data: CustodyStarted, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await update(work, platform_id, "custody started", custody_status="in-custody")


@handlers.on(ReleaseDateSet)
async def release_date_set(data: ReleaseDateSet, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await update(work, platform_id, "release date set", release_date=data.release_date)


@handlers.on(Released)
async def released(data: Released, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await update(
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


@handlers.on(LicenceEnded)
async def licence_ended(data: LicenceEnded, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await update(work, platform_id, "licence ended", on_licence=False)
        await categories.ended(work, platform_id, "licence-ended", data.ended_on)


@handlers.on(HospitalOrderMade)
async def hospital_order_made(data: HospitalOrderMade, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        facts: dict[str, object] = {"hospital_order": data.order}
        if data.order == "hospital-order":
            facts["custody_status"] = "detained-in-hospital"
        await update(work, platform_id, f"{data.order} made", **facts)


@handlers.on(HospitalOrderEnded)
async def hospital_order_ended(data: HospitalOrderEnded, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        facts: dict[str, object] = {"hospital_order": None}
        if (await RegistryStore(work.session).facts(platform_id))["custody_status"] == "detained-in-hospital":
            facts["custody_status"] = "in-community"
        await update(work, platform_id, f"{data.order} ended", **facts)
        await categories.ended(work, platform_id, "hospital-order-ended", data.ended_on)
