"""A category 2 case through release, licence end and exit; a referral into category 3, a transfer, and
the decision that ends category 3."""

from datetime import date, timedelta

from aiokafka import ConsumerRecord

from eventkit.service import Service
from eventkit.synthetic import OTHER_OFFENCE, VIOLENT_OFFENCE, Synthetic
from schemas.catalogue import (
    AGENCY_POLICE,
    AGENCY_PRISON,
    AGENCY_PROBATION,
    REGISTRY_OFFENDERS,
    Topic,
    type_of,
)
from schemas.contract import Contract
from schemas.events import registry as registry_events
from schemas.events.common import (
    AreaTransferred,
    CategoryEnded,
    CategoryReferralAccepted,
    PersonIdentifiers,
    PersonRef,
)
from schemas.events.prison import Released, ReleaseDateSet
from schemas.events.probation import LicenceEnded
from schemas.events.registry import CategoryAssigned, ExitedMappa, Transferred
from services.registry.storage import RegistryStore
from tests.support.kafka import event_of, publish, read_until, registered


async def test_a_case_leaves_mappa_when_its_licence_ends_and_referrals_and_transfers_are_published(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()

    async def send(topic: Topic, data: Contract, key: str) -> str:
        event = synthetic.agency_event(topic, data)
        await publish(kafka_bootstrap, topic.name, event.to_json(), key=key)
        return event.id

    async def published(model: type[Contract], platform_id: str) -> dict[str, object]:
        def match(record: ConsumerRecord) -> bool:
            event = event_of(record)
            return bool(event["type"] == type_of(model) and event["subject"] == platform_id)

        [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=match)
        data: dict[str, object] = event_of(record)["data"]
        return data

    async def nominal_of(event_id: str) -> str:
        [record] = await read_until(
            kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(event_id)
        )
        platform_id: str = event_of(record)["subject"]
        return platform_id

    # Convicted over a year ago: released since, and the licence has ended today.
    violent = synthetic.conviction(
        VIOLENT_OFFENCE, custody_months=18, convicted_on=date.today() - timedelta(days=400)
    )
    pnc = violent.person.pnc_id
    platform_id = await nominal_of(await send(AGENCY_POLICE, violent, pnc))
    assert (await published(CategoryAssigned, platform_id))["category"] == 2
    ref = PersonRef(identifiers=PersonIdentifiers(pnc_id=pnc))
    released_on = violent.conviction_date + timedelta(days=10)
    # The release date goes out for level management's release screening.
    await send(AGENCY_PRISON, ReleaseDateSet(person=ref, release_date=released_on), pnc)
    assert (await published(registry_events.ReleaseDateSet, platform_id))[
        "release_date"
    ] == released_on.isoformat()
    await send(AGENCY_PRISON, Released(person=ref, released_on=released_on, on_licence=True), pnc)
    assert (await published(registry_events.Released, platform_id))["on_licence"] is True
    async with registry.db.transaction() as session:
        facts = await RegistryStore(session).facts(platform_id)
    assert (facts["custody_status"], facts["released_on"], facts["on_licence"]) == (
        "in-community",
        released_on,
        True,
    )
    await send(AGENCY_PROBATION, LicenceEnded(person=ref, ended_on=date.today()), pnc)
    exited = await published(ExitedMappa, platform_id)
    assert exited == {
        "platform_id": platform_id,
        "category": 2,
        "reason": "Licence ended",
        "exited_on": date.today().isoformat(),
    }

    # A new qualifying conviction brings them back into MAPPA.
    await send(
        AGENCY_POLICE, synthetic.conviction(VIOLENT_OFFENCE, person=violent.person, custody_months=24), pnc
    )

    def assigned(record: ConsumerRecord) -> bool:
        event = event_of(record)
        return bool(event["type"] == type_of(CategoryAssigned) and event["subject"] == platform_id)

    again = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, lambda found: len(found) >= 2, match=assigned
    )
    assert [event_of(r)["data"]["category"] for r in again] == [2, 2]
    async with registry.db.transaction() as session:
        assert (await RegistryStore(session).facts(platform_id))["mappa_status"] == "active"

    theft = synthetic.conviction(OTHER_OFFENCE, custody_months=3)
    other_pnc = theft.person.pnc_id
    other = await nominal_of(await send(AGENCY_POLICE, theft, other_pnc))
    other_ref = PersonRef(identifiers=PersonIdentifiers(pnc_id=other_pnc))
    referral = CategoryReferralAccepted(
        person=other_ref,
        category=3,
        accepted_on=date(2026, 6, 1),
        reason="Serious harm risk to a former partner",
    )
    await send(AGENCY_PROBATION, referral, other_pnc)
    assert (await published(CategoryAssigned, other))["category"] == 3
    transfer = AreaTransferred(
        person=other_ref, from_area=theft.recording_force, to_area="N01", transferred_on=date(2026, 7, 1)
    )
    await send(AGENCY_POLICE, transfer, other_pnc)
    assert (await published(Transferred, other))["to_area"] == "N01"

    # The Responsible Authority judges the risk reduced: category 3 ends by that decision alone.
    ended = CategoryEnded(person=other_ref, category=3, ended_on=date(2026, 9, 1), reason="Risk reduced")
    await send(AGENCY_PROBATION, ended, other_pnc)
    assert (await published(ExitedMappa, other))[
        "reason"
    ] == "Category 3 ended: risk of serious harm judged reduced"
