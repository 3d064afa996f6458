"""Registry handlers: parse, decide with the rules, store, emit."""

from eventkit.consumer import Handlers, UnitOfWork
from schemas.events.police import ConvictionRecorded
from schemas.events.registry import AgencyIdentifier, CategoryAssigned, NominalRegistered
from services.registry import rules
from services.registry.storage import RegistryStore

handlers = Handlers()


@handlers.on(ConvictionRecorded)
async def conviction_recorded(data: ConvictionRecorded, work: UnitOfWork) -> None:
    store = RegistryStore(work.session)
    person = data.person
    platform_id = await store.find_by_identifier("pnc", person.pnc_id)
    if platform_id is None:
        ids = {"pnc": person.pnc_id} | ({"cro": person.cro_number} if person.cro_number else {})
        platform_id = await store.add_nominal(
            family_name=person.family_name,
            given_names=person.given_names,
            date_of_birth=person.date_of_birth,
            identifiers_=ids,
        )
        await work.emit(
            NominalRegistered(
                platform_id=platform_id,
                identifiers=[AgencyIdentifier(scheme=s, value=v) for s, v in ids.items()],
            ),
            key=platform_id,
        )
    await store.add_conviction(
        platform_id,
        source_event_id=work.cause.id,
        offence_code=data.offence.code,
        conviction_date=data.conviction_date,
        disposal=data.disposal.type,
        custody_months=data.disposal.custody_months,
    )
    decision = rules.category_for(
        rules.Conviction(
            sexual_offences_act_schedule_3=data.offence.sexual_offences_act_schedule_3,
            criminal_justice_act_schedule_15=data.offence.criminal_justice_act_schedule_15,
            disposal=data.disposal.type,
            custody_months=data.disposal.custody_months,
        )
    )
    decision = rules.prevailing(await store.category(platform_id), decision)
    if decision is None:
        return
    await store.set_category(platform_id, decision.category, decision.reason)
    await work.emit(
        CategoryAssigned(
            platform_id=platform_id,
            category=decision.category,
            reason=decision.reason,
            legal_basis=decision.legal_basis,
            effective_date=data.conviction_date,
        ),
        key=platform_id,
    )
