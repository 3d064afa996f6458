"""Two replicas' outbox relays on one PostgreSQL database: each row published once, each key's rows in
the order they were written, while both relays run and rows keep coming."""

import asyncio
import random
from collections import defaultdict
from collections.abc import Awaitable

import pytest
from sqlalchemy.exc import DBAPIError

from deploy.migrate import schema_of
from deploy.postgres import fresh_database
from eventkit import outbox
from eventkit.consumer import platform_failure
from eventkit.db import Database
from eventkit.migrations import upgrade
from eventkit.outbox import OutboxRecord, OutboxRelay
from eventkit.synthetic import Synthetic
from schemas.catalogue import REGISTRY_OFFENDERS
from tests.support.waiting import eventually

pytestmark = pytest.mark.postgres

KEYS = [f"pid-{n:02d}" for n in range(20)]
ROWS = 600


class Broker:
    """Records what each relay sent, in the order the sends were acknowledged."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (relay, key, event id)
        self._random = random.Random(3)

    def send(self, relay: str) -> "outbox.Send":
        async def send(record: OutboxRecord) -> Awaitable[object]:
            self.sent.append((relay, record.key, record.event_id))
            await asyncio.sleep(self._random.random() / 500)  # the broker takes a moment to answer
            return asyncio.sleep(0)

        return send


async def test_two_relays_publish_each_row_once_and_each_key_in_order(postgres_url: str) -> None:
    url = await fresh_database(postgres_url, "relays")
    writer, first, second = Database(url), Database(url), Database(url)
    await upgrade(writer, schema_of("registry"))
    broker = Broker()
    relays = [
        OutboxRelay(db, broker.send(name), batch_size=25, poll_seconds=0.05)
        for name, db in (("one", first), ("two", second))
    ]
    synthetic = Synthetic(seed=5)
    written: dict[str, list[str]] = defaultdict(list)
    try:
        for relay in relays:
            relay.start()
        for n in range(ROWS // 10):
            async with writer.transaction() as session:
                for _ in range(10):
                    key, event = KEYS[n % len(KEYS)], synthetic.conviction_event()
                    outbox.add(session, topic=REGISTRY_OFFENDERS.name, key=key, event=event)
                    written[key].append(event.id)
            for relay in relays:
                relay.wake()
            await asyncio.sleep(0)  # let the relays at it while rows keep coming

        async def drained() -> bool:
            async with writer.transaction() as session:
                return await outbox.count(session) == 0

        await eventually(drained, timeout=60, what="the relays to empty the outbox")
    finally:
        for relay in relays:
            await relay.stop()
        for db in (writer, first, second):
            await db.dispose()

    ids = [event_id for _, _, event_id in broker.sent]
    assert len(ids) == len(set(ids)) == ROWS, "a row was published twice, or not at all"
    for key, expected in written.items():
        assert [event_id for _, k, event_id in broker.sent if k == key] == expected
    assert {relay for relay, _, _ in broker.sent} == {"one", "two"}, "both relays took part"


class _Crossed(Exception):
    def __init__(self, sqlstate: str) -> None:
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("sqlstate", "platform"), [("40P01", True), ("40001", True), ("23505", False)])
def test_a_transaction_that_crossed_a_replicas_is_the_platforms_failure_not_the_events(
    sqlstate: str, platform: bool
) -> None:
    """Deadlocks and serialization failures go again (never dead-lettered); a unique violation that
    persists through the retries is the event's."""
    error = DBAPIError("UPDATE ...", {}, _Crossed(sqlstate))
    assert platform_failure(error) is platform
