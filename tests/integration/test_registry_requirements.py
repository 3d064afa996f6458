"""Notification requirements through the real broker: aggregated terms, a requirement after an ended
one, and a late foreign-travel notice, which is a breach on record and published."""

from datetime import UTC, date, datetime, timedelta

from eventkit.service import Service
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, REGISTRY_OFFENDERS, type_of
from schemas.contract import Contract
from schemas.envelope import CloudEvent
from schemas.events.common import PersonIdentifiers, PersonRef
from schemas.events.police import (
    AddressNotified,
    CautionRecorded,
    Disposal,
    ForeignTravelNotified,
    LinkedTerm,
)
from schemas.events.registry import NotificationOverdue, NotificationRequirementSet
from services.registry.reads import RegistryReads
from services.registry.storage import RegistryStore
from tests.support.clock import FakeClock
from tests.support.delivery import deliver
from tests.support.kafka import caused_by, event_of, publish, read_until, registered
from tests.support.register import changes_caused_by


async def _send(
    kafka_bootstrap: str, synthetic: Synthetic, data: Contract, key: str, *, time: datetime | None = None
) -> CloudEvent:
    event = synthetic.agency_event(AGENCY_POLICE, data, time=time)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, event.to_json(), key=key)
    return event


async def _requirement_set(kafka_bootstrap: str, cause: CloudEvent) -> dict[str, object]:
    match = caused_by(cause.id, type_of(NotificationRequirementSet))
    [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=match)
    data: dict[str, object] = event_of(record)["data"]
    return data


async def test_consecutive_terms_for_schedule_3_offences_are_added_together(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    conviction = synthetic.conviction(custody_months=20)
    alone = await _send(kafka_bootstrap, synthetic, conviction, conviction.person.pnc_id)
    assert (await _requirement_set(kafka_bootstrap, alone))["period_months"] == 120

    # Another person, the same 20 months, with a consecutive 12-month term: 32 months, indefinite.
    consecutive = synthetic.conviction(custody_months=20)
    consecutive = consecutive.model_copy(
        update={
            "disposal": Disposal(
                type="custody", custody_months=20, linked_terms=[LinkedTerm(custody_months=12)]
            )
        }
    )
    together = await _send(kafka_bootstrap, synthetic, consecutive, consecutive.person.pnc_id)
    requirement = await _requirement_set(kafka_bootstrap, together)
    assert (requirement["indefinite"], requirement.get("period_months")) == (True, None)


async def test_a_requirement_after_an_ended_one_needs_a_new_initial_notification(
    kafka_bootstrap: str, clocked_registry: Service, clock: FakeClock
) -> None:
    registry = clocked_registry
    synthetic = Synthetic()
    person = synthetic.person(age=40)
    ref = PersonRef(identifiers=PersonIdentifiers(pnc_id=person.pnc_id))
    old = CautionRecorded(
        person=person,
        offence=synthetic.conviction().offence,
        caution_date=date(2015, 1, 10),
        recording_force="01",
    )
    # Published in 2015, when the two years had not run out: the registry's clock says so, too.
    in_2015 = datetime(2015, 1, 10, 12, tzinfo=UTC)
    clock.now = in_2015
    cautioned = await _send(kafka_bootstrap, synthetic, old, person.pnc_id, time=in_2015)
    assert (await _requirement_set(kafka_bootstrap, cautioned))["period_months"] == 24
    notified = AddressNotified(
        person=ref, notified_on=date(2015, 1, 11), notification="initial", no_fixed_abode=True
    )
    await _send(kafka_bootstrap, synthetic, notified, person.pnc_id, time=in_2015)
    # That requirement ended in 2017; a caution now brings a new one.
    clock.now = datetime.now(UTC)  # the registry's clock has moved on to today
    again = old.model_copy(update={"caution_date": date.today() - timedelta(days=1)})
    await _requirement_set(kafka_bootstrap, await _send(kafka_bootstrap, synthetic, again, person.pnc_id))
    [record] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(cautioned.id)
    )
    async with registry.db.transaction() as session:
        [(_, state)] = await RegistryStore(session).notification_states(
            platform_id=event_of(record)["subject"]
        )
    assert state.requirement.relevant_date == again.caution_date
    # The 2015 notifications do not count for the new requirement.
    assert (state.initial_notified_on, state.last_notified_on, state.no_fixed_abode) == (None, None, False)


async def test_a_historic_conviction_whose_requirement_has_ended_brings_no_category_1(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    person = synthetic.person(age=40)
    historic = CautionRecorded(
        person=person,
        offence=synthetic.conviction().offence,
        caution_date=date(2015, 1, 10),
        recording_force="01",
    )
    cautioned = await _send(kafka_bootstrap, synthetic, historic, person.pnc_id)
    [record] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(cautioned.id)
    )
    platform_id = event_of(record)["subject"]

    changes = await changes_caused_by(registry.db, cautioned.id)
    assert "notification requirement ended on 2017-01-09: s.82(1): caution" in changes
    async with registry.db.transaction() as session:
        store = RegistryStore(session)
        assert (await store.category(platform_id), await store.requirement(platform_id)) == (None, None)


async def test_foreign_travel_notified_late_is_a_breach_on_record_and_published(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    conviction = synthetic.conviction(convicted_on=date.today() - timedelta(days=30))
    pnc = conviction.person.pnc_id
    convicted = await _send(kafka_bootstrap, synthetic, conviction, pnc)
    [record] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(convicted.id)
    )
    platform_id = event_of(record)["subject"]
    ref = PersonRef(identifiers=PersonIdentifiers(pnc_id=pnc))
    departure = date.today() + timedelta(days=3)
    in_time = ForeignTravelNotified(
        person=ref,
        notified_on=departure - timedelta(days=7),
        departure_date=departure,
        destination_country="FR",
    )
    late = in_time.model_copy(
        update={"notified_on": departure - timedelta(days=6), "destination_country": "ES"}
    )
    await _send(kafka_bootstrap, synthetic, in_time, pnc)
    late_event = await _send(kafka_bootstrap, synthetic, late, pnc)

    match = caused_by(late_event.id, type_of(NotificationOverdue))
    [breach] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=match)
    assert event_of(breach)["subject"] == platform_id
    assert event_of(breach)["data"] == {
        "platform_id": platform_id,
        "notification": "foreign-travel",
        "deadline": (departure - timedelta(days=7)).isoformat(),
    }
    async with registry.db.transaction() as session:
        found = await RegistryReads(session).nominal(platform_id)
    assert found is not None
    # Sentenced to custody, so nothing is due now; the breach stays on record all the same.
    assert found["custody_status"] == "in-custody"
    assert found["breaches"] == [
        {"notification": "foreign-travel", "deadline": departure - timedelta(days=7)}
    ]


async def test_a_new_persons_second_conviction_in_the_same_batch_sees_the_first_ones_requirement(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    longer = synthetic.conviction(custody_months=20)  # ten years
    shorter = longer.model_copy(update={"disposal": Disposal(type="custody", custody_months=3)})  # seven
    first, second = (synthetic.agency_event(AGENCY_POLICE, c) for c in (longer, shorter))
    # One batch: the person is registered by the first, in the very transaction that applies the second.
    assert await deliver(registry, first, second) == ["applied", "applied"]
    platform_id = str((await _requirement_set(kafka_bootstrap, first))["platform_id"])
    async with registry.db.transaction() as session:
        held = await RegistryStore(session).requirement(platform_id)
    assert held is not None
    assert held.period.months == 120
