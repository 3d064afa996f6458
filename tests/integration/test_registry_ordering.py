"""Agencies' topics are not ordered with each other: a late, older fact never overwrites a newer one,
and an event held for an unknown person is applied after the event that registers them."""

from datetime import date, timedelta

from eventkit.service import Service
from eventkit.synthetic import Synthetic
from schemas.agencies import Agency
from schemas.catalogue import (
    AGENCY_POLICE,
    AGENCY_PRISON,
    AGENCY_PROBATION,
    REGISTRY_OFFENDERS,
    Topic,
    type_of,
)
from schemas.contract import Contract
from schemas.envelope import CloudEvent
from schemas.events.common import PersonIdentifiers, PersonRef, RiskAssessmentCompleted
from schemas.events.police import AddressNotified
from schemas.events.prison import CustodyStarted, Released
from schemas.events.registry import RiskAssessed
from services.registry.storage import RegistryStore
from tests.support.kafka import caused_by, event_of, publish, read_until, registered
from tests.support.register import changes_caused_by


async def _send(kafka_bootstrap: str, topic: Topic, data: Contract, key: str) -> CloudEvent:
    event = Synthetic().agency_event(topic, data)
    await publish(kafka_bootstrap, topic.name, event.to_json(), key=key)
    return event


async def test_older_facts_arriving_late_do_not_overwrite_newer_ones(
    kafka_bootstrap: str, registry: Service
) -> None:
    conviction = Synthetic().conviction(convicted_on=date.today() - timedelta(days=100))
    pnc = conviction.person.pnc_id
    convicted = await _send(kafka_bootstrap, AGENCY_POLICE, conviction, pnc)
    [record] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(convicted.id)
    )
    platform_id = event_of(record)["subject"]
    ref = PersonRef(identifiers=PersonIdentifiers(pnc_id=pnc))
    released_on = conviction.conviction_date + timedelta(days=20)

    newer = RiskAssessmentCompleted(
        person=ref, completed_on=released_on, tool="ARMS", rosh="very-high", assessor_agency=Agency.POLICE
    )
    older = newer.model_copy(
        update={"completed_on": released_on - timedelta(days=60), "tool": "OASys", "rosh": "medium"}
    )
    assessed = await _send(kafka_bootstrap, AGENCY_POLICE, newer, pnc)
    await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=caused_by(assessed.id, type_of(RiskAssessed))
    )
    late_assessment = await _send(kafka_bootstrap, AGENCY_PROBATION, older, pnc)
    release = await _send(
        kafka_bootstrap, AGENCY_PRISON, Released(person=ref, released_on=released_on, on_licence=True), pnc
    )
    await changes_caused_by(registry.db, release.id)
    # The prison's record of the sentence starting arrives after the release it preceded.
    started = CustodyStarted(person=ref, started_on=conviction.conviction_date, establishment="LEI")
    late_custody = await _send(kafka_bootstrap, AGENCY_PRISON, started, pnc)

    assert (await changes_caused_by(registry.db, late_assessment.id))[-1].endswith(
        "older than the rosh on record"
    )
    assert (await changes_caused_by(registry.db, late_custody.id))[-1].endswith(
        "older than the custody on record"
    )
    async with registry.db.transaction() as session:
        facts = await RegistryStore(session).facts(platform_id)
    assert (facts["rosh"], facts["custody_status"], facts["released_on"]) == (
        "very-high",
        "in-community",
        released_on,
    )


async def test_a_held_initial_notification_counts_once_the_conviction_is_applied(
    kafka_bootstrap: str, registry: Service
) -> None:
    conviction = Synthetic().conviction()
    pnc = conviction.person.pnc_id
    notified_on = conviction.conviction_date + timedelta(days=1)
    # The notification comes first, about a person not yet on the register: it is held.
    early = AddressNotified(
        person=PersonRef(identifiers=PersonIdentifiers(pnc_id=pnc)),
        notified_on=notified_on,
        notification="initial",
        no_fixed_abode=True,
    )
    held = await _send(kafka_bootstrap, AGENCY_POLICE, early, pnc)

    convicted = await _send(kafka_bootstrap, AGENCY_POLICE, conviction, pnc)
    [record] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(convicted.id)
    )
    platform_id = event_of(record)["subject"]
    assert await changes_caused_by(registry.db, held.id) == ["initial notification: no fixed abode"]
    async with registry.db.transaction() as session:
        [(_, state)] = await RegistryStore(session).notification_states(platform_id=platform_id)
    assert (state.initial_notified_on, state.no_fixed_abode) == (notified_on, True)
