"""The consume pipeline on a real SQLite database: bounded retries, dead letters, inbox."""

import dataclasses
from datetime import date

import pytest
from aiokafka import ConsumerRecord
from opentelemetry import trace
from prometheus_client import CollectorRegistry
from sqlalchemy import event

from eventkit import outbox
from eventkit.codec import Incoming
from eventkit.consumer import Consumer, ConsumerConfig, Handler, UnitOfWork
from eventkit.db import Database
from eventkit.deadletter import ATTEMPTS, ERROR_CLASS, ORIGINAL_OFFSET, REPLAY_OF
from eventkit.errors import PermanentError
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE
from schemas.events.casework import LevelDecisionRecorded, StaffRef
from schemas.events.police import ConvictionRecorded
from schemas.events.registry import NominalRegistered

TOPIC = "agency.police.v1"


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
        CollectorRegistry(),
        trace.get_tracer("test"),
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


def _named(db: Database, name: str, handles: str, sink: Sink) -> Consumer:
    async def applies(_incoming: Incoming, _work: UnitOfWork) -> None:
        pass

    config = ConsumerConfig(name=name, source=f"/mappa/{name}", max_attempts=1, retry_backoff_seconds=0,
                            max_message_bytes=100_000)  # fmt: skip
    return Consumer(config, db, {handles: applies}, sink, CollectorRegistry(), trace.get_tracer("test"))


def _decision(decided_on: date) -> bytes:
    data = LevelDecisionRecorded(
        platform_id="p-1", level=2, rationale="synthetic", decided_on=decided_on,
        decided_by=StaffRef(staff_ref="s-1", role="mappa-coordinator"),
    )  # fmt: skip
    return Synthetic().agency_event(AGENCY_POLICE, data).to_json()


@pytest.mark.parametrize(
    ("body", "registry_outcome", "levels_outcome"),
    [
        (b"not json", "dead-lettered", "left-to-owner"),
        (b'{"type": "uk.mappa.police.unheard-of.v1"}', "dead-lettered", "ignored"),
        # An invalid conviction: levels has no handler and does not even validate it.
        (
            Synthetic(seed=5).conviction_event().to_json().replace(b'"disposal"', b'"x"'),
            "dead-lettered",
            "ignored",
        ),
        # Casework is levels': an implausible decision date is refused by levels alone.
        (_decision(date(2099, 1, 1)), "ignored", "dead-lettered"),
        (_decision(date.today()), "ignored", "applied"),
    ],
)
async def test_an_agency_message_is_dead_lettered_once_by_its_owner(
    db: Database, body: bytes, registry_outcome: str, levels_outcome: str
) -> None:
    conviction = AGENCY_POLICE.type_of(ConvictionRecorded)
    decision = AGENCY_POLICE.type_of(LevelDecisionRecorded)
    letters = Sink()
    registry = _named(db, "registry", conviction, letters)
    levels = _named(db, "levels", decision, letters)
    assert await registry.process(_record(body, 0)) == registry_outcome
    assert await levels.process(_record(body, 1)) == levels_outcome
    assert len(letters.letters) == [registry_outcome, levels_outcome].count("dead-lettered")


async def test_a_consumer_skips_what_it_handles_but_another_dead_letters(db: Database) -> None:
    # Were levels also handling convictions, the register would still be the one to dead-letter them.
    letters = Sink()
    levels = _named(db, "levels", AGENCY_POLICE.type_of(ConvictionRecorded), letters)
    invalid = Synthetic(seed=6).conviction_event().to_json().replace(b'"disposal"', b'"x"')
    assert await levels.process(_record(invalid)) == "left-to-owner"
    assert letters.letters == []


def _convictions(count: int) -> list[ConsumerRecord]:
    synthetic = Synthetic(seed=3)
    return [_record(synthetic.conviction_event().to_json(), offset) for offset in range(count)]


async def test_a_batch_is_applied_in_one_transaction_with_one_inbox_insert(db: Database) -> None:
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split()[0] + " " + statement.split()[2 if "INSERT" in statement else 0])

    async def registers(incoming: Incoming, work: UnitOfWork) -> None:
        await work.emit(NominalRegistered(platform_id=incoming.event.id, schemes=["pnc"]), key="p")

    def committed(_conn: object) -> None:
        statements.append("COMMIT")

    batch = _convictions(5)
    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    event.listen(db.engine.sync_engine, "commit", committed)
    result = await _consumer(db, registers, Sink()).process_batch(batch)
    event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    event.remove(db.engine.sync_engine, "commit", committed)
    assert result.outcomes == ["applied"] * 5
    assert statements == ["BEGIN BEGIN", "INSERT kit_inbox", "INSERT kit_outbox", "COMMIT"]
    async with db.transaction() as session:
        assert await outbox.count(session) == 5


async def test_a_poison_message_mid_batch_is_dead_lettered_alone_and_the_rest_applied(db: Database) -> None:
    batch = _convictions(5)
    poison = batch[2]
    applied: list[int] = []

    async def refuses_the_third(incoming: Incoming, work: UnitOfWork) -> None:
        record = next(r for r in batch if incoming.event.id.encode() in (r.value or b""))
        if record is poison:
            raise PermanentError("refused by a rule")
        await work.emit(NominalRegistered(platform_id=incoming.event.id, schemes=["pnc"]), key="p")
        applied.append(record.offset)

    sink = Sink()
    result = await _consumer(db, refuses_the_third, sink).process_batch(batch)
    assert result.outcomes == ["applied", "applied", "dead-lettered", "applied", "applied"]
    assert result.unavailable is None
    assert [headers[ORIGINAL_OFFSET] for _, headers in sink.letters] == [str(poison.offset)]
    async with db.transaction() as session:
        assert await outbox.count(session) == 4  # the rolled-back batch left nothing twice
    assert sorted(set(applied)) == [0, 1, 3, 4]


async def test_a_duplicate_within_a_batch_is_applied_once(db: Database) -> None:
    [first] = _convictions(1)
    again = _record(first.value or b"", 1)
    calls = 0

    async def counts(_incoming: Incoming, _work: UnitOfWork) -> None:
        nonlocal calls
        calls += 1

    result = await _consumer(db, counts, Sink()).process_batch([first, again])
    assert (result.outcomes, calls) == (["applied", "duplicate"], 1)


async def test_an_outage_mid_batch_leaves_that_record_and_the_rest_for_redelivery(db: Database) -> None:
    from sqlalchemy.exc import OperationalError

    batch = _convictions(4)

    async def database_down_at_the_third(incoming: Incoming, _work: UnitOfWork) -> None:
        if incoming.event.id.encode() in (batch[2].value or b""):
            raise OperationalError("INSERT ...", None, ConnectionRefusedError())

    result = await _consumer(db, database_down_at_the_third, Sink()).process_batch(batch)
    assert result.outcomes == ["applied", "applied", None, None]
    assert result.unavailable is not None


async def test_a_replay_header_never_makes_a_consumer_skip_an_event_it_has_not_applied(db: Database) -> None:
    # Agencies write straight to Kafka: a header they set must not be a way to have an event dropped.
    applied = 0

    async def counts(_incoming: Incoming, _work: UnitOfWork) -> None:
        nonlocal applied
        applied += 1

    body = Synthetic(seed=1).conviction_event().to_json()
    replayed = dataclasses.replace(_record(body, 1), headers=[(REPLAY_OF, b"agency.police.v1.dlt/0/7")])
    registry = _consumer(db, counts, Sink())
    assert await registry.process(replayed) == "applied"
    assert await registry.process(dataclasses.replace(replayed, offset=2)) == "duplicate"  # a second replay
    assert applied == 1
