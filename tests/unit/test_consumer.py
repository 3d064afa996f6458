"""The consume pipeline on a real SQLite database: bounded retries, dead letters, inbox."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from eventkit import outbox
from eventkit.codec import Incoming
from eventkit.consumer import Consumer, ConsumerConfig, Handler, UnitOfWork
from eventkit.db import Database
from eventkit.deadletter import ATTEMPTS, ERROR_CLASS
from eventkit.errors import PermanentError
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE
from schemas.events.police import ConvictionRecorded
from schemas.events.registry import NominalRegistered

TOPIC = "agency.police.v1"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await database.create_schema()
    yield database
    await database.dispose()


def _record(value: bytes, offset: int = 0) -> ConsumerRecord:
    return ConsumerRecord(
        topic=TOPIC, partition=0, offset=offset, timestamp=0, timestamp_type=0, key=b"k",
        value=value, checksum=None, serialized_key_size=1, serialized_value_size=len(value), headers=[],
    )  # fmt: skip


class Sink:
    def __init__(self) -> None:
        self.letters: list[tuple[str, dict[str, str]]] = []

    async def __call__(self, topic: str, _record: ConsumerRecord, headers: dict[str, str]) -> None:
        self.letters.append((topic, headers))


def _consumer(db: Database, handler: Handler, sink: Sink) -> Consumer:
    config = ConsumerConfig(
        name="registry", source="/mappa/registry", max_attempts=3,
        retry_backoff_seconds=0, max_message_bytes=100_000,
    )  # fmt: skip
    return Consumer(
        config,
        db,
        {AGENCY_POLICE.type_of(ConvictionRecorded): handler},
        sink,
        lambda: None,
        CollectorRegistry(),
    )


async def test_a_failing_handler_is_retried_a_bounded_number_of_times_then_dead_lettered(
    db: Database,
) -> None:
    calls = 0

    async def broken(_incoming: Incoming, _work: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("downstream unavailable")

    sink = Sink()
    body = Synthetic(seed=1).conviction_event().to_json()
    outcome = await _consumer(db, broken, sink).process(_record(body))
    assert (outcome, calls) == ("dead-lettered", 3)
    assert sink.letters[0][0] == "agency.police.v1.dlt"
    assert sink.letters[0][1][ATTEMPTS] == "3"
    assert sink.letters[0][1][ERROR_CLASS] == "RuntimeError"


async def test_a_permanent_error_is_not_retried(db: Database) -> None:
    calls = 0

    async def refuses(_incoming: Incoming, _work: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("cannot ever apply")

    sink = Sink()
    body = Synthetic(seed=1).conviction_event().to_json()
    assert await _consumer(db, refuses, sink).process(_record(body)) == "dead-lettered"
    assert calls == 1


async def test_a_redelivered_event_is_applied_once_and_its_emits_are_kept_once(db: Database) -> None:
    calls = 0

    async def registers(incoming: Incoming, work: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        await work.emit(NominalRegistered(platform_id="p-1", schemes=["pnc"]), key="p-1")

    sink = Sink()
    consumer = _consumer(db, registers, sink)
    body = Synthetic(seed=1).conviction_event().to_json()
    assert await consumer.process(_record(body, 0)) == "applied"
    assert await consumer.process(_record(body, 1)) == "duplicate"
    assert calls == 1
    async with db.transaction() as session:
        assert await outbox.count(session) == 1
    assert sink.letters == []


async def test_a_failed_attempt_leaves_no_state_behind(db: Database) -> None:
    attempts = 0

    async def fails_after_emitting(_incoming: Incoming, work: UnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        await work.emit(NominalRegistered(platform_id="p-1", schemes=["pnc"]), key="p-1")
        if attempts == 1:
            raise RuntimeError("transient")

    consumer = _consumer(db, fails_after_emitting, Sink())
    body = Synthetic(seed=1).conviction_event().to_json()
    assert await consumer.process(_record(body)) == "applied"
    async with db.transaction() as session:
        assert await outbox.count(session) == 1  # the first attempt's emit was rolled back


async def test_a_database_outage_is_redelivered_not_dead_lettered(db: Database) -> None:
    from sqlalchemy.exc import OperationalError

    from eventkit.consumer import PlatformUnavailable

    calls = 0

    async def database_down(_incoming: Incoming, _work: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        raise OperationalError("INSERT ...", None, ConnectionRefusedError())

    sink = Sink()
    body = Synthetic(seed=1).conviction_event().to_json()
    with pytest.raises(PlatformUnavailable):
        await _consumer(db, database_down, sink).process(_record(body))
    assert calls == 3
    assert sink.letters == []
