"""Black-box findings on the real broker: the platform's clock decides, implausible input is refused
with its reason, and each invalid agency message is dead-lettered once."""

from datetime import UTC, date, datetime, timedelta

import pytest

from eventkit.auth import Principal, Role
from eventkit.deadletter import CONSUMER, ERROR_MESSAGE
from eventkit.service import Service
from eventkit.synthetic import VIOLENT_OFFENCE, Synthetic
from schemas.agencies import Agency
from schemas.catalogue import AGENCY_POLICE, AGENCY_PROBATION, LEVELS_DECISIONS, REGISTRY_OFFENDERS, type_of
from schemas.events import levels as published
from schemas.events.police import CautionRecorded
from services.levels.storage import LevelStore
from services.registry.reads import RegistryReads
from services.registry.storage import RegistryStore
from tests.support.api import asgi_client, bearer
from tests.support.casework import a_platform_id, categorised, level_decision
from tests.support.kafka import (
    caused_by,
    event_of,
    headers_of,
    publish,
    read_all,
    read_until,
    registered,
    with_id,
)
from tests.support.register import changes_caused_by

TODAY = date.today()


def _caution(synthetic: Synthetic, caution_date: date) -> CautionRecorded:
    person = synthetic.person(age=40)
    return CautionRecorded(
        person=person,
        offence=synthetic.conviction().offence,  # a Schedule 3 offence
        caution_date=caution_date,
        recording_force="01",
    )


async def test_a_sender_clock_in_the_future_is_refused_not_allowed_to_end_a_requirement(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    caution = _caution(synthetic, TODAY - timedelta(days=30))
    pnc = caution.person.pnc_id
    future = synthetic.agency_event(AGENCY_POLICE, caution, time=datetime(2029, 1, 1, tzinfo=UTC))
    await publish(kafka_bootstrap, AGENCY_POLICE.name, future.to_json(), key=pnc)
    [dead] = await read_until(kafka_bootstrap, f"{AGENCY_POLICE.name}.dlt", bool, match=with_id(future.id))
    assert "ahead of the platform's clock" in headers_of(dead)[ERROR_MESSAGE]
    async with registry.db.transaction() as session:
        assert await RegistryReads(session).by_identifier("pnc", pnc) is None

    # Sent again with an honest clock: a live two-year requirement and category 1.
    honest = synthetic.agency_event(AGENCY_POLICE, caution)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, honest.to_json(), key=pnc)
    [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(honest.id))
    platform_id = event_of(record)["subject"]
    await read_until(
        kafka_bootstrap,
        REGISTRY_OFFENDERS.name,
        bool,
        match=caused_by(honest.id, "uk.mappa.registry.category-assigned.v1"),
    )
    async with registry.db.transaction() as session:
        store = RegistryStore(session)
        assert (await store.facts(platform_id))["category"] == 1
        assert (await store.requirement(platform_id)) is not None


async def test_an_age_contradicting_the_dates_is_dead_lettered_naming_the_fields(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    conviction = synthetic.conviction()
    stated = conviction.age() + 20  # a wrong age: no age may disagree with the dates
    sent = synthetic.conviction_event(conviction).model_copy(
        update={"data": conviction.model_dump(mode="json") | {"age_at_conviction": stated}}
    )
    await publish(kafka_bootstrap, AGENCY_POLICE.name, sent.to_json(), key=conviction.person.pnc_id)
    [dead] = await read_until(kafka_bootstrap, f"{AGENCY_POLICE.name}.dlt", bool, match=with_id(sent.id))
    reason = headers_of(dead)[ERROR_MESSAGE]
    assert "age_at_conviction contradicts person.date_of_birth and conviction_date" in reason
    assert str(stated) not in reason
    assert conviction.person.date_of_birth.isoformat() not in reason


async def test_a_decision_dated_2099_is_refused_and_the_review_date_stands(
    kafka_bootstrap: str, levels: Service
) -> None:
    platform_id = a_platform_id()
    category = categorised(platform_id, TODAY)
    await publish(kafka_bootstrap, "registry.offenders.v1", category.to_json(), key=platform_id)
    await read_until(
        kafka_bootstrap,
        LEVELS_DECISIONS.name,
        bool,
        match=caused_by(category.id, type_of(published.ScreeningDue)),
    )
    async with levels.db.transaction() as session:
        before = await LevelStore(session).case(platform_id)
    assert before is not None

    decision = level_decision(platform_id, date(2099, 1, 1), 1)
    sent = Synthetic().agency_event(AGENCY_PROBATION, decision)
    await publish(kafka_bootstrap, AGENCY_PROBATION.name, sent.to_json(), key=platform_id)
    [dead] = await read_until(kafka_bootstrap, f"{AGENCY_PROBATION.name}.dlt", bool, match=with_id(sent.id))
    assert headers_of(dead)[CONSUMER] == "levels"
    assert "decided_on: Value error, is in the future" in headers_of(dead)[ERROR_MESSAGE]
    async with levels.db.transaction() as session:
        after = await LevelStore(session).case(platform_id)
    assert after is not None
    assert after.next_review_by == before.next_review_by


async def test_an_invalid_agency_message_is_dead_lettered_once(
    kafka_bootstrap: str, registry: Service, levels: Service
) -> None:
    synthetic = Synthetic()
    conviction = synthetic.conviction()
    pnc = conviction.person.pnc_id
    invalid = synthetic.conviction_event(conviction).model_copy(
        update={"data": conviction.model_dump(mode="json") | {"conviction_date": "2099-01-01"}}
    )
    # Behind it on the same partition: casework only levels dead-letters, then a conviction the
    # register applies. When both are through, each service has judged the invalid conviction.
    casework = synthetic.agency_event(AGENCY_POLICE, level_decision(a_platform_id(), date(2099, 1, 1), 1))
    valid = synthetic.conviction_event(synthetic.conviction(person=conviction.person))
    for event in (invalid, casework, valid):
        await publish(kafka_bootstrap, AGENCY_POLICE.name, event.to_json(), key=pnc)
    await read_until(kafka_bootstrap, f"{AGENCY_POLICE.name}.dlt", bool, match=with_id(casework.id))
    await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(valid.id))

    dead = await read_all(kafka_bootstrap, f"{AGENCY_POLICE.name}.dlt", match=with_id(invalid.id))
    assert [headers_of(r)[CONSUMER] for r in dead] == ["registry"]
    dead = await read_all(kafka_bootstrap, f"{AGENCY_POLICE.name}.dlt", match=with_id(casework.id))
    assert [headers_of(r)[CONSUMER] for r in dead] == ["levels"]


@pytest.mark.usefixtures("_auth")
async def test_a_person_never_in_mappa_reads_as_not_mappa_managed(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    # Wounding with 11 months' custody: Schedule 15, but under the 12 months category 2 needs.
    conviction = synthetic.conviction(VIOLENT_OFFENCE, custody_months=11)
    sent = synthetic.conviction_event(conviction)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, sent.to_json(), key=conviction.person.pnc_id)
    [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(sent.id))
    platform_id = event_of(record)["subject"]
    await changes_caused_by(registry.db, sent.id)
    reader = Principal(
        user="u-om", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area=conviction.recording_force
    )
    async with asgi_client(registry) as http:
        response = await http.get(f"/nominals/{platform_id}", headers=bearer(reader))
    assert response.status_code == 200
    assert (response.json()["mappa_status"], response.json()["category"]) == ("not-mappa", None)
