"""One person, three agencies, one nominal; contradictions open a case instead of merging."""

from collections.abc import Callable
from datetime import date

from aiokafka import ConsumerRecord
from sqlalchemy import select

from eventkit.history import history
from eventkit.service import Service
from eventkit.synthetic import Synthetic
from schemas.catalogue import (
    AGENCY_POLICE,
    AGENCY_PRISON,
    AGENCY_PROBATION,
    REGISTRY_OFFENDERS,
    Topic,
    type_of,
)
from schemas.contract import Contract
from schemas.events.common import OffenderManagerAllocated, PersonIdentifiers, PersonRef
from schemas.events.prison import CustodyStarted, Released
from schemas.events.registry import IdentifiersLinked
from services.registry.tables import identifiers, nominals, resolution_cases
from tests.support.kafka import caused_by, event_of, publish, read_until, registered
from tests.support.waiting import eventually


async def _held(registry: Service, event_id: str) -> bool:
    """Whether the event waits, open, in a resolution case."""
    async with registry.db.transaction() as session:
        rows = await session.execute(
            select(resolution_cases.c.status).where(resolution_cases.c.event_id == event_id)
        )
        return list(rows.scalars()) == ["open"]


async def test_three_agencies_one_nominal_and_a_contradiction_held_for_a_person(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    conviction = synthetic.conviction()
    person = conviction.person
    prison_number, crn = synthetic.prison_number(), synthetic.crn()

    async def send(topic: Topic, data: Contract, key: str) -> str:
        event = synthetic.agency_event(topic, data)
        await publish(kafka_bootstrap, topic.name, event.to_json(), key=key)
        return event.id

    sent = await send(AGENCY_POLICE, conviction, person.pnc_id)
    [nominal] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(sent))
    platform_id = event_of(nominal)["subject"]

    def linked(record: ConsumerRecord) -> bool:
        event = event_of(record)
        return bool(event["type"] == type_of(IdentifiersLinked) and event["subject"] == platform_id)

    def at_least(count: int) -> Callable[[list[ConsumerRecord]], bool]:
        return lambda found: len(found) >= count

    # Agencies' topics are not ordered with each other: each step waits for the last.
    custody = CustodyStarted(
        person=PersonRef(
            identifiers=PersonIdentifiers(pnc_id=person.pnc_id, prison_number=prison_number),
            date_of_birth=person.date_of_birth,
        ),
        started_on=conviction.conviction_date,
        establishment="LEI",
    )
    await send(AGENCY_PRISON, custody, prison_number)
    await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, at_least(1), match=linked)
    allocated = OffenderManagerAllocated(
        person=PersonRef(identifiers=PersonIdentifiers(prison_number=prison_number, crn=crn)),
        allocated_on=date(2026, 11, 2),
        staff_ref="staff-0042",
        team_code="N01T1",
    )
    await send(AGENCY_PROBATION, allocated, crn)
    links = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, at_least(2), match=linked)
    assert {scheme for r in links for scheme in event_of(r)["data"]["schemes"]} == {
        "prison-number",
        "crn",
    }

    # The same PNC with another date of birth must not merge into this nominal.
    contradiction = CustodyStarted(
        person=PersonRef(identifiers=PersonIdentifiers(pnc_id=person.pnc_id), date_of_birth=date(1901, 1, 1)),
        started_on=date(2026, 11, 3),
        establishment="MAN",
    )
    await send(AGENCY_PRISON, contradiction, person.pnc_id)

    async def case_opened() -> bool:
        async with registry.db.transaction() as session:
            rows = (
                await session.execute(select(resolution_cases.c.reason, resolution_cases.c.platform_ids))
            ).all()
        return ("date-of-birth-differs", [platform_id]) in [(r.reason, r.platform_ids) for r in rows]

    await eventually(case_opened, what="a resolution case for the contradiction")
    async with registry.db.transaction() as session:
        schemes = (
            await session.execute(
                select(identifiers.c.scheme).where(identifiers.c.platform_id == platform_id)
            )
        ).scalars()
        held = (
            await session.execute(
                select(
                    nominals.c.custody_status, nominals.c.offender_manager_ref, nominals.c.date_of_birth
                ).where(nominals.c.platform_id == platform_id)
            )
        ).one()
    assert set(schemes) == {"pnc", "cro", "prison-number", "crn"}
    assert held.custody_status == "in-custody"
    assert held.offender_manager_ref == "staff-0042"
    async with registry.db.transaction() as session:
        changes = (
            await session.execute(select(history.c.change).where(history.c.subject == platform_id))
        ).scalars()
    assert list(changes).count("custody started") == 1  # the contradicting event changed nothing


async def test_an_event_about_a_person_not_yet_registered_waits_and_is_then_applied(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    conviction = synthetic.conviction()
    person = conviction.person
    prison_number = synthetic.prison_number()
    early = CustodyStarted(
        person=PersonRef(identifiers=PersonIdentifiers(pnc_id=person.pnc_id, prison_number=prison_number)),
        started_on=conviction.conviction_date,
        establishment="LEI",
    )
    sent = synthetic.agency_event(AGENCY_PRISON, early)
    await publish(kafka_bootstrap, AGENCY_PRISON.name, sent.to_json(), key=prison_number)

    await eventually(lambda: _held(registry, sent.id), what="the prison's event to be held")
    await publish(
        kafka_bootstrap,
        AGENCY_POLICE.name,
        synthetic.agency_event(AGENCY_POLICE, conviction).to_json(),
        key=person.pnc_id,
    )

    # Applied once the person is known: the prison number is linked, on the prison event's account.
    linked = caused_by(sent.id, type_of(IdentifiersLinked))
    [link] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=linked)
    assert event_of(link)["data"]["schemes"] == ["prison-number"]
    platform_id = event_of(link)["subject"]
    async with registry.db.transaction() as session:
        status = await session.scalar(
            select(resolution_cases.c.status).where(resolution_cases.c.event_id == sent.id)
        )
        changes = (
            await session.execute(select(history.c.change).where(history.c.subject == platform_id))
        ).scalars()
    assert status == "applied"
    assert "custody started" in list(changes)


async def test_a_release_that_arrived_first_is_not_undone_by_the_sentence(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    conviction = synthetic.conviction()  # custody, convicted 1 to 30 days ago
    person = conviction.person
    released = Released(
        person=PersonRef(identifiers=PersonIdentifiers(pnc_id=person.pnc_id)),
        released_on=date.today(),
        on_licence=True,
    )
    sent = synthetic.agency_event(AGENCY_PRISON, released)
    await publish(kafka_bootstrap, AGENCY_PRISON.name, sent.to_json(), key=person.pnc_id)

    await eventually(lambda: _held(registry, sent.id), what="the release to be held")
    police = synthetic.agency_event(AGENCY_POLICE, conviction)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, police.to_json(), key=person.pnc_id)

    [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(police.id))
    async with registry.db.transaction() as session:
        status = await session.scalar(
            select(nominals.c.custody_status).where(nominals.c.platform_id == event_of(record)["subject"])
        )
    assert status == "in-community"
