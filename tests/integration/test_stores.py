"""One contract for the inbox, outbox and schedule-mark stores, run against SQLite and PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.exc import DBAPIError, IntegrityError

from eventkit import inbox, outbox, scheduler
from eventkit.db import Database
from eventkit.outbox import OutboxRecord, OutboxRelay
from eventkit.scheduler import schedule_marks
from eventkit.synthetic import Synthetic
from schemas.envelope import CloudEvent
from tests.support.stores import create_tables

tracer = TracerProvider().get_tracer("tests")


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+inloop:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    await create_tables(database)
    async with database.transaction() as session:
        await session.execute(inbox.inbox.delete())
        await session.execute(outbox.outbox.delete())
        await session.execute(schedule_marks.delete())
    yield database
    await database.dispose()


def _event(event_id: str) -> CloudEvent:
    return Synthetic().conviction_event().model_copy(update={"id": event_id, "source": "/test"})


async def _claim(db: Database, event_id: str, consumer: str = "levels") -> bool:
    async with db.transaction() as session:
        return bool(await inbox.claim(session, consumer, [_event(event_id)]))


async def test_an_event_is_claimed_once_per_consumer(db: Database) -> None:
    assert await _claim(db, "e-1") is True
    assert await _claim(db, "e-1") is False
    assert await _claim(db, "e-1", consumer="meetings") is True


async def test_claims_older_than_the_retention_are_forgotten_and_newer_ones_kept(db: Database) -> None:
    assert await _claim(db, "old") is True
    assert await _claim(db, "new") is True
    async with db.transaction() as session:
        await session.execute(
            inbox.inbox.update()
            .where(inbox.inbox.c.event_id == "old")
            .values(processed_at=datetime.now(UTC) - timedelta(days=31))
        )
    await scheduler.Scheduler(db, inbox.retention(days=30), source="/test").tick()
    assert await _claim(db, "new") is False  # still remembered: a redelivery changes nothing
    assert await _claim(db, "old") is True  # long past any redelivery the broker could make


async def test_a_scheduled_key_is_claimed_once_per_job(db: Database) -> None:
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

    async def once(job: str, key: str) -> bool:
        async with db.transaction() as session:
            return await scheduler.once(session, job=job, key=key, now=now)

    assert await once("level-review", "p-1/2027-03-10/due") is True
    assert await once("level-review", "p-1/2027-03-10/due") is False
    assert await once("level-review", "p-1/2027-03-10/overdue") is True
    assert await once("notification-overdue", "p-1/2027-03-10/due") is True


async def test_a_rolled_back_claim_leaves_the_event_unclaimed(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction() as session:
            await inbox.claim(session, "levels", [_event("e-2")])
            raise Boom
    assert await _claim(db, "e-2") is True


async def test_racing_claims_never_both_succeed(db: Database) -> None:
    outcomes = await asyncio.gather(_claim(db, "e-3"), _claim(db, "e-3"), return_exceptions=True)
    won = [o for o in outcomes if o is True]
    assert len(won) == 1
    for other in outcomes:
        if other is not True:
            assert other is False or isinstance(other, IntegrityError | DBAPIError)


def _events(n: int) -> list[CloudEvent]:
    synthetic = Synthetic(seed=7)
    return [synthetic.conviction_event() for _ in range(n)]


async def _add(db: Database, events: list[CloudEvent], key: str = "p-1") -> None:
    async with db.transaction() as session:
        for event in events:
            outbox.add(session, topic="registry.offenders.v1", key=key, event=event)


async def test_outbox_returns_pending_events_in_insertion_order(db: Database) -> None:
    events = _events(3)
    await _add(db, events)
    async with db.transaction() as session:
        pending = await outbox.pending(session, 10)
    assert [r.event_id for r in pending] == [e.id for e in events]
    assert CloudEvent.model_validate_json(pending[0].payload) == events[0]


async def test_outbox_keeps_nothing_when_the_transaction_rolls_back(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            outbox.add(session, topic="t", key="k", event=_events(1)[0])
            raise RuntimeError("state change failed")
    async with db.transaction() as session:
        assert await outbox.count(session) == 0


async def _acked() -> None:
    return None


async def test_relay_removes_only_what_was_acknowledged(db: Database) -> None:
    events = _events(3)
    await _add(db, events)
    sent: list[str] = []

    async def flaky(record: OutboxRecord) -> Awaitable[None]:
        # As the idempotent producer does: once a batch of a partition fails, the later ones do too.
        sent.append(record.event_id)
        if record.event_id != events[0].id:
            failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            failed.set_exception(ConnectionError("broker unavailable"))
            return failed
        return _acked()

    relay = OutboxRelay(db, flaky, batch_size=10, poll_seconds=1)
    with pytest.raises(ConnectionError):
        await relay.publish_pending()
    assert sent == [e.id for e in events]  # sent without waiting for each other
    async with db.transaction() as session:
        left = [r.event_id for r in await outbox.pending(session, 10)]
    assert left == [events[1].id, events[2].id]

    resent: list[str] = []

    async def healthy(record: OutboxRecord) -> Awaitable[None]:
        resent.append(record.event_id)
        return _acked()

    assert await OutboxRelay(db, healthy, batch_size=10, poll_seconds=1).publish_pending() == 2
    assert resent == [events[1].id, events[2].id]


async def test_a_send_the_producer_refuses_stops_only_its_key(db: Database) -> None:
    events = _events(4)
    await _add(db, events[:1], key="p-1")
    await _add(db, events[1:2], key="p-2")
    await _add(db, events[2:3], key="p-3")
    await _add(db, events[3:], key="p-2")
    sent: list[str] = []

    async def refuses_the_second(record: OutboxRecord) -> Awaitable[None]:
        if record.event_id == events[1].id:
            raise KeyError("no publisher for this topic")
        sent.append(record.event_id)
        return _acked()

    with pytest.raises(KeyError):
        await OutboxRelay(db, refuses_the_second, batch_size=10, poll_seconds=1).publish_pending()
    assert sent == [events[0].id, events[2].id]  # p-2's later event waits behind the refused one
    async with db.transaction() as session:
        left = [r.event_id for r in await outbox.pending(session, 10)]
    assert left == [events[1].id, events[3].id]


async def test_relay_restores_the_trace_context_of_each_event(db: Database) -> None:
    with tracer.start_as_current_span("handler") as span:
        await _add(db, _events(1))
        expected = span.get_span_context().trace_id
    seen: list[int] = []

    async def capture(_record: OutboxRecord) -> Awaitable[None]:
        seen.append(trace.get_current_span().get_span_context().trace_id)
        return _acked()

    await OutboxRelay(db, capture, batch_size=10, poll_seconds=1).publish_pending()
    assert seen == [expected]
