"""Dead letters: recorded from the dead-letter topics, shown, replayed once, or discarded with a reason.

A dead letter is recorded by its headers only (where it came from, which
consumer gave up on it and why); the message itself stays in Kafka and is
read back for an operator who states a purpose, in an audited read.

Replaying publishes the message again to its original topic, marked with
the dead letter it came from (``mappa-replay-of``). Every consumer's inbox
applies an event once however often it arrives: the consumers that applied
it the first time see a duplicate, the one that dead-lettered it applies it
now, and a replay run twice, or again after a crash before its decision was
written, changes nothing more. That holds while the consumers remember the
event (``MAPPA_<SERVICE>_INBOX_RETENTION_DAYS``), so a dead letter older
than ``MAPPA_OPERATIONS_REPLAY_WITHIN_DAYS`` is not replayed. A header only
marks; nothing skips an event for a header, so an agency cannot have its
own event dropped by setting one.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import ConsumerRecord

from eventkit import audit
from eventkit.auth import Principal
from eventkit.broker import KafkaAccess
from eventkit.codec import parse
from eventkit.consumer import BatchResult, Outcome, PlatformUnavailable
from eventkit.db import Database
from eventkit.deadletter import (
    ATTEMPTS,
    CONSUMER,
    ERROR_CLASS,
    ERROR_MESSAGE,
    KEPT_HEADERS,
    MAX_REASON_CHARS,
    ORIGINAL_OFFSET,
    ORIGINAL_PARTITION,
    ORIGINAL_TOPIC,
    REPLAY_OF,
)
from eventkit.errors import PermanentError
from eventkit.outbox import Cause, Emitter
from eventkit.publisher import DeadLetterPublisher
from schemas.events.operations import DeadLetterDiscarded, DeadLetterReplayed, place
from services.operations import kafka
from services.operations.storage import DeadLetter, DeadLetterStore

log = logging.getLogger(__name__)

SOURCE = "/mappa/operations"
RECORD_TYPE = "dead-letter"


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _row(record: ConsumerRecord, max_bytes: int) -> dict[str, Any]:
    headers = {n: v.decode("utf-8", "replace") for n, v in record.headers or () if v is not None}
    event_type = event_id = None
    try:
        raw = parse(record.value or b"", max_bytes=max_bytes)
    except PermanentError:
        raw = None
    if isinstance(raw, dict):
        # Only the envelope's type and id: nothing of what the message says.
        event_type = raw.get("type") if isinstance(raw.get("type"), str) else None
        event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "original_topic": headers.get(ORIGINAL_TOPIC),
        "original_partition": _int(headers.get(ORIGINAL_PARTITION)),
        "original_offset": _int(headers.get(ORIGINAL_OFFSET)),
        "consumer": headers.get(CONSUMER, "")[:64] or None,
        "error_class": headers.get(ERROR_CLASS, "")[:128] or None,
        "error_message": headers.get(ERROR_MESSAGE, "")[:MAX_REASON_CHARS] or None,
        "attempts": _int(headers.get(ATTEMPTS)),
        "event_type": event_type[:128] if event_type else None,
        "event_id": event_id[:128] if event_id else None,
        "dead_lettered_at": datetime.fromtimestamp(record.timestamp / 1000, UTC),
    }


class DeadLetterRecorder:
    """Records a batch of dead letters in one transaction (a ``Subscription``'s consumer)."""

    def __init__(self, db: Database, max_message_bytes: int) -> None:
        self._db = db
        self._max_bytes = max_message_bytes

    async def process_batch(self, records: Sequence[ConsumerRecord]) -> BatchResult:
        try:
            async with self._db.transaction() as session:
                await DeadLetterStore(session).record([_row(r, self._max_bytes) for r in records])
        except Exception as error:  # the database: every record is delivered again
            return BatchResult([None] * len(records), PlatformUnavailable(type(error).__name__))
        applied: list[Outcome | None] = ["applied"] * len(records)
        return BatchResult(applied)


class NotFound(Exception):
    """No such dead letter (or the topic no longer holds its message)."""


class NotReplayable(Exception):
    """The dead letter cannot be replayed safely; the message says why."""


class AlreadyDecided(Exception):
    """The dead letter was replayed or discarded already: it is never replayed twice."""

    def __init__(self, found: DeadLetter) -> None:
        super().__init__(f"{found.place} was {found.decision} by {found.decided_by} at {found.decided_at}")
        self.found = found


@dataclass(frozen=True)
class Operator:
    """The operator acting, and the reason they give."""

    principal: Principal
    reason: str


class DeadLetters:
    """What operators do with dead letters: read them, replay them, discard them."""

    def __init__(
        self,
        db: Database,
        kafka_access: KafkaAccess,
        republish: DeadLetterPublisher,
        *,
        replay_within: timedelta,
    ) -> None:
        self._db = db
        self._kafka = kafka_access
        self._republish = republish
        self._replay_within = replay_within

    async def _open(self, topic: str, partition: int, offset: int) -> DeadLetter:
        async with self._db.transaction() as session:
            found = await DeadLetterStore(session).get(topic, partition, offset)
        if found is None:
            raise NotFound(place(topic, partition, offset))
        if found.decision is not None:
            raise AlreadyDecided(found)
        return found

    async def payload(
        self, principal: Principal, purpose: str, topic: str, partition: int, offset: int
    ) -> tuple[DeadLetter, bytes]:
        """The message itself, handed over only once its read is audited: no audit row, no payload.

        Kafka is read outside the transaction: a database transaction held while the broker answers
        would hold up the service's consumer (SQLite has one connection).
        """
        async with self._db.transaction() as session:
            found = await DeadLetterStore(session).get(topic, partition, offset)
        record = await kafka.read_one(self._kafka, topic, partition, offset) if found else None
        if found is None or record is None:
            raise NotFound(place(topic, partition, offset))
        async with self._db.transaction() as session:
            await audit.record_read(
                session, principal, purpose=purpose, record_type=RECORD_TYPE, record_id=found.place
            )
        return found, record.value or b""

    async def replay(self, operator: Operator, topic: str, partition: int, offset: int) -> DeadLetter:
        found = await self._open(topic, partition, offset)
        if found.original_topic is None:
            raise NotReplayable(f"{found.place} does not say which topic it came from: discard it")
        oldest = datetime.now(UTC) - self._replay_within
        if found.dead_lettered_at is not None and found.dead_lettered_at < oldest:
            raise NotReplayable(
                f"{found.place} is older than consumers remember the events they applied, so a replay "
                "could apply it twice: discard it, and send what is still needed afresh"
            )
        record = await kafka.read_one(self._kafka, topic, partition, offset)
        if record is None:
            raise NotFound(f"{found.place} is no longer held by {topic}")
        headers = {
            name: value.decode("utf-8", "replace")
            for name, value in record.headers or ()
            if value is not None and (name in KEPT_HEADERS or name.startswith("ce_"))
        }
        headers[REPLAY_OF] = found.place
        # Published first, decided after: a crash between the two leaves it open, and a second replay
        # is a duplicate that the consumer's inbox absorbs.
        await self._republish.publish(
            found.original_topic, record.value or b"", key=record.key, headers=headers
        )
        decision = DeadLetterReplayed(**_decision(found, operator))
        return await self._decide(found, decision, "replayed")

    async def discard(self, operator: Operator, topic: str, partition: int, offset: int) -> DeadLetter:
        found = await self._open(topic, partition, offset)
        return await self._decide(found, DeadLetterDiscarded(**_decision(found, operator)), "discarded")

    async def _decide(
        self, found: DeadLetter, decision: DeadLetterReplayed | DeadLetterDiscarded, name: str
    ) -> DeadLetter:
        async with self._db.transaction() as session:
            store = DeadLetterStore(session)
            if not await store.decided(decision, name):
                # Another operator's decision came first; this one is rolled back, event and all.
                raise AlreadyDecided(await store.get(found.topic, found.partition, found.offset) or found)
            await Emitter(session, SOURCE, Cause(found.place, f"operator/{name}")).emit(
                decision, key=found.place
            )
            decided = await store.get(found.topic, found.partition, found.offset)
        assert decided is not None
        log.info("dead letter %s %s", found.place, name)
        return decided


def _decision(found: DeadLetter, operator: Operator) -> dict[str, Any]:
    return {
        "dead_letter_topic": found.topic,
        "partition": found.partition,
        "offset": found.offset,
        "original_topic": found.original_topic,
        "decided_by": operator.principal.user,
        "reason": operator.reason,
        "decided_at": datetime.now(UTC),
    }
