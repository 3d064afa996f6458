"""The register rebuilt from the log on the real broker equals the one kept live: every platform id
kept, co-ordinators' decisions made again, breaches recorded again, and nothing published twice."""

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import RecordsToDelete
from sqlalchemy import select

from deploy.local import free_ports
from deploy.postgres import fresh_database
from deploy.rebuild import REBUILDABLE, NotRebuilt, rebuild
from deploy.watch import partitions_of
from eventkit import outbox
from eventkit.auth import Principal, Role
from eventkit.broker import make_admin
from eventkit.history import history
from eventkit.scheduler import Scheduler
from eventkit.service import Service
from eventkit.settings import Settings
from eventkit.synthetic import Synthetic
from schemas.agencies import Agency
from schemas.catalogue import (
    AGENCY_HEALTH,
    AGENCY_POLICE,
    AGENCY_PRISON,
    AGENCY_PROBATION,
    AGENCY_TOPICS,
    MEETINGS_SCHEDULE,
    REGISTRY_OFFENDERS,
    Topic,
)
from schemas.contract import Contract
from schemas.events.common import OffenderManagerAllocated, PersonIdentifiers, PersonRef
from schemas.events.health import HospitalOrderMade
from schemas.events.police import ConvictionRecorded, Disposal
from schemas.events.prison import CustodyStarted
from services.registry.app import create as create_registry
from services.registry.schedule import notification_periods_ended, overdue_notifications
from services.registry.tables import MOVABLE, metadata, nominals, resolution_cases
from tests.support.api import asgi_client, bearer
from tests.support.kafka import access, publish, start_broker, stop_broker
from tests.support.waiting import eventually

AREA = "01"
SOURCE = "/mappa/registry"
COORDINATOR = Principal(user="u-co-rebuild", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area=AREA)
TOPICS = [*(t.name for t in AGENCY_TOPICS), MEETINGS_SCHEDULE.name, REGISTRY_OFFENDERS.name]
# Stamped by the live register's clock as it wrote them; the rebuild takes them from the events it
# published then, milliseconds apart. Record rows are numbered again ("id").
STAMPED = {"nominals": "created_at", "breaches": "recorded_at"}


@pytest.fixture(scope="module")
def own_kafka() -> Iterator[str]:
    """A broker of this module's own: it deletes records, which other tests' consumers would not expect."""
    state = Path(tempfile.mkdtemp(prefix="mappa-kafka-rebuild-"))
    port, controller_port = free_ports(2)
    env = start_broker(state, port, controller_port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_broker(env)
        shutil.rmtree(state, ignore_errors=True)


async def _emptied(bootstrap: str) -> None:
    """Delete every record now on the register's topics (one left there first, as by an earlier run):
    an earlier run's register published other ids for its agency events."""
    await publish(bootstrap, AGENCY_POLICE.name, b"left by an earlier run", key="earlier")
    consumer = AIOKafkaConsumer(**access(bootstrap).options())
    admin = make_admin(access(bootstrap), client_id="mappa-tests")
    await consumer.start()
    await admin.start()
    try:
        partitions = [TopicPartition(t, p) for t in TOPICS for p in await partitions_of(access(bootstrap), t)]
        ends = await consumer.end_offsets(partitions)
        await admin.delete_records({tp: RecordsToDelete(end) for tp, end in ends.items() if end > 0})
    finally:
        await consumer.stop()
        await admin.close()


async def _rows(service: Service) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    async with service.db.transaction() as session:
        for table in metadata.sorted_tables:
            kept = [c for c in table.c if c.name != "id" and c.name != STAMPED.get(table.name)]
            rows = [tuple(_moved(v) if c.name == "moved" else v for c, v in zip(kept, row, strict=True))
                    for row in await session.execute(select(*kept))]  # fmt: skip
            found[table.name] = sorted(rows, key=repr)
    return found


def _moved(moved: dict[str, Any]) -> dict[str, Any]:
    """What a merge moved, with how many records of each kind rather than their row numbers."""
    return {kind: len(v) if kind in MOVABLE else v for kind, v in moved.items()}


async def _stamps(service: Service) -> dict[str, datetime]:
    async with service.db.transaction() as session:
        return dict((await session.execute(select(nominals.c.platform_id, nominals.c.created_at))).all())


async def _published(service: Service) -> bool:
    async with service.db.transaction() as session:
        return await outbox.count(session) == 0


async def _ends(bootstrap: str) -> dict[TopicPartition, int]:
    """Where each partition of the register's topic ends."""
    consumer = AIOKafkaConsumer(**access(bootstrap).options())
    await consumer.start()
    try:
        topic = REGISTRY_OFFENDERS.name
        ends: dict[TopicPartition, int] = await consumer.end_offsets(
            [TopicPartition(topic, p) for p in await partitions_of(access(bootstrap), topic)]
        )
    finally:
        await consumer.stop()
    return ends


@pytest.mark.kafka
@pytest.mark.usefixtures("_auth")
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_rebuilt_register_equals_the_live_one_and_publishes_nothing(
    own_kafka: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    database: str,
) -> None:
    kafka_bootstrap = own_kafka
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    await _emptied(kafka_bootstrap)
    url = (
        f"sqlite+inloop:///{tmp_path / 'registry.db'}"
        if database == "sqlite"
        else await fresh_database(request.getfixturevalue("postgres_url"), "registry")
    )
    monkeypatch.setenv("MAPPA_REGISTRY_DATABASE_URL", url)
    monkeypatch.setenv("MAPPA_RETRY_BACKOFF_SECONDS", "0")
    service = create_registry(settings=Settings("registry"))
    synthetic = Synthetic()

    async def send(topic: Topic, data: Contract, key: str) -> str:
        event = synthetic.agency_event(topic, data)
        await publish(kafka_bootstrap, topic.name, event.to_json(), key=key)
        return event.id

    async def applied(event_id: str) -> str:
        """The nominal the event was applied to, once it is."""

        async def about() -> str | None:
            async with service.db.transaction() as session:
                return await session.scalar(select(history.c.subject).where(history.c.cause_id == event_id))

        return await eventually(about, what=f"event {event_id} to be applied")

    async def held(event_id: str) -> int:
        async def case() -> int | None:
            async with service.db.transaction() as session:
                return await session.scalar(
                    select(resolution_cases.c.id).where(resolution_cases.c.event_id == event_id)
                )

        return await eventually(case, what=f"event {event_id} to be held")

    def convicted(age: int, convicted_on: date | None = None) -> ConvictionRecorded:
        person = synthetic.person(age=age)
        conviction = synthetic.conviction(person=person, convicted_on=convicted_on)
        return conviction.model_copy(update={"recording_force": AREA})

    await service.start()
    try:
        # A sex offender in custody, and one given a suspended sentence three weeks ago who has not
        # notified: a breach, once the schedule looks.
        a = convicted(40)
        a_id = await applied(await send(AGENCY_POLICE, a, a.person.pnc_id))
        late = convicted(33, convicted_on=date.today() - timedelta(days=21)).model_copy(
            update={"disposal": Disposal(type="suspended-sentence", custody_months=12)}
        )
        await applied(await send(AGENCY_POLICE, late, late.person.pnc_id))
        # A prison's event before the conviction that registers its person: held, then applied.
        b = convicted(51)
        prison_number = synthetic.prison_number()
        early = CustodyStarted(
            person=PersonRef(
                identifiers=PersonIdentifiers(pnc_id=b.person.pnc_id, prison_number=prison_number)
            ),
            started_on=b.conviction_date,
            establishment="LEI",
        )
        early_id = await send(AGENCY_PRISON, early, prison_number)
        await held(early_id)
        await applied(await send(AGENCY_POLICE, b, b.person.pnc_id))
        await applied(early_id)

        # Contradictions of A's date of birth: one a co-ordinator applies to A, one dismissed; and
        # an event about nobody known, left open.
        def contradiction(pnc: str) -> CustodyStarted:
            ref = PersonRef(identifiers=PersonIdentifiers(pnc_id=pnc), date_of_birth=date(1901, 1, 1))
            return CustodyStarted(
                person=ref, started_on=date.today() - timedelta(days=2), establishment="MAN"
            )

        to_apply = await held(await send(AGENCY_PRISON, contradiction(a.person.pnc_id), a.person.pnc_id))
        to_dismiss = await held(await send(AGENCY_PRISON, contradiction(a.person.pnc_id), a.person.pnc_id))
        nobody = synthetic.pnc_id()
        unknown = CustodyStarted(
            person=PersonRef(identifiers=PersonIdentifiers(pnc_id=nobody)),
            started_on=date.today(),
            establishment="LEI",
        )
        await held(await send(AGENCY_PRISON, unknown, nobody))
        # Two records of one person merged; then an event about the absorbed one's PNC finds the
        # survivor. Two more merged and unmerged.
        c, d, e, f = convicted(29), convicted(30), convicted(61), convicted(62)
        c_id, d_id, e_id, f_id = [
            await applied(await send(AGENCY_POLICE, x, x.person.pnc_id)) for x in (c, d, e, f)
        ]
        async with asgi_client(service) as http:
            decided = await http.post(
                f"/resolution-cases/{to_apply}/decision",
                json={"platform_id": a_id, "note": "same person, DOB mistyped"},
                headers=bearer(COORDINATOR),
            )
            assert decided.status_code == 200, decided.text
            dismissed = await http.post(
                f"/resolution-cases/{to_dismiss}/decision",
                json={"note": "not ours"},
                headers=bearer(COORDINATOR),
            )
            assert dismissed.status_code == 200, dismissed.text
            merged = await http.post(
                f"/nominals/{c_id}/merge", json={"absorbed": d_id}, headers=bearer(COORDINATOR)
            )
            assert merged.status_code == 200, merged.text
            other = await http.post(
                f"/nominals/{e_id}/merge", json={"absorbed": f_id}, headers=bearer(COORDINATOR)
            )
            assert other.status_code == 200, other.text
            undone = await http.post(
                f"/merges/{other.json()['merge_id']}/unmerge", headers=bearer(COORDINATOR)
            )
            assert undone.status_code == 200, undone.text
        allocated = OffenderManagerAllocated(
            person=PersonRef(identifiers=PersonIdentifiers(pnc_id=d.person.pnc_id)),
            allocated_on=date.today(),
            staff_ref="staff-0099",
            team_code="N01T2",
        )
        assert await applied(await send(AGENCY_PROBATION, allocated, d.person.pnc_id)) == c_id
        # One that publishes nothing: only the register's history says it went to the survivor.
        order = HospitalOrderMade(
            person=PersonRef(identifiers=PersonIdentifiers(pnc_id=d.person.pnc_id)),
            made_on=date.today(),
            order="hospital-order",
            restriction_order=False,
        )
        assert await applied(await send(AGENCY_HEALTH, order, d.person.pnc_id)) == c_id
        # A conditional discharge's requirement, which the schedule ends a year on.
        discharged = convicted(45).model_copy(
            update={"disposal": Disposal(type="conditional-discharge", discharge_months=12)}
        )
        await applied(await send(AGENCY_POLICE, discharged, discharged.person.pnc_id))
        later = datetime.now(UTC) + timedelta(days=800)
        await Scheduler(
            service.db, notification_periods_ended, source="/mappa/registry", clock=lambda: later
        ).tick()
        await Scheduler(service.db, overdue_notifications, source=SOURCE).tick()
        await eventually(lambda: _published(service), what="the register to publish all it emitted")
    finally:
        await service.stop()

    live, stamps = await _rows(service), await _stamps(service)
    published = await _ends(kafka_bootstrap)
    steer = REBUILDABLE["registry"].steer
    # This test deleted the records an earlier run left: refused unless told that was on purpose, and
    # nothing is emptied.
    with pytest.raises(NotRebuilt, match="the log no longer holds everything"):
        await rebuild(service, steer=steer)
    assert await _rows(service) == live
    done = await rebuild(service, steer=steer, log_may_start_late=True)

    assert done.records == 14
    assert "category 1 ended again for 1, 3 merges and unmerges made again, 0 could not be" in done.finished
    assert done.not_applied == 0
    assert "0 events waited to the end" in done.finished
    assert live["breaches"]
    assert live["merges"]
    assert await _rows(service) == live
    rebuilt = await _stamps(service)
    assert rebuilt.keys() == stamps.keys()
    assert all(abs(rebuilt[p] - stamps[p]) < timedelta(seconds=1) for p in stamps)
    assert await _ends(kafka_bootstrap) == published  # nothing published again
    async with service.db.transaction() as session:
        assert await outbox.count(session) == 0
    # Into an empty database (the register lost): every nominal under its published platform id,
    # each identifier with its nominal, each merge between the same two.
    settings = Settings("registry")
    settings.database_url = f"sqlite+inloop:///{tmp_path / 'empty.db'}"
    lost = create_registry(settings=settings)
    again = await rebuild(lost, steer=steer, log_may_start_late=True)
    assert "8 nominals, 0 of them under a platform id the log did not hold" in again.finished
    found = await _rows(lost)
    assert found["identifiers"] == live["identifiers"]
    assert [n[0] for n in found["nominals"]] == [n[0] for n in live["nominals"]]
    assert [m[:2] for m in found["merges"]] == [m[:2] for m in live["merges"]]
    assert await _ends(kafka_bootstrap) == published

    # Merge ids were given back, not drawn: the next decision still gets a new one.
    async with asgi_client(service) as http:
        remerged = await http.post(
            f"/nominals/{e_id}/merge", json={"absorbed": f_id}, headers=bearer(COORDINATOR)
        )
    assert remerged.status_code == 200, remerged.text
    assert remerged.json()["merge_id"] > other.json()["merge_id"]
    await service.db.dispose()
