"""Transactional outbox: events are written with the state change that caused them.

``add`` stages an event in the caller's transaction together with the trace
context current at that moment; the rows a transaction staged are inserted
together just before it commits, and the relay is woken once it has. The
relay publishes pending rows in insertion order and deletes them once the
broker has acknowledged them, so a crash at any point either republishes
(consumers' inboxes absorb the duplicate) or publishes for the first time;
it never loses an event.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from opentelemetry import context as otel_context
from opentelemetry.propagate import extract, inject
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, String, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import Database, kit_metadata, lock_key, stage, utc
from eventkit.tasks import Loop
from schemas.catalogue import HOME_TOPIC
from schemas.contract import Contract
from schemas.envelope import CloudEvent, new_event

log = logging.getLogger(__name__)

outbox = Table(
    "kit_outbox",
    kit_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("key", String(255), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("traceparent", String(64)),
    Column("tracestate", String(512)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    topic: str
    key: str
    event_id: str
    event_type: str
    payload: bytes
    trace_headers: dict[str, str]
    created_at: datetime


def add(session: AsyncSession, *, topic: str, key: str, event: CloudEvent) -> None:
    """Stage the event in the session's transaction; it is written as the transaction commits.

    The trace context current now goes with it. Rows staged by a whole
    transaction (a batch of consumed events) reach the table in one insert.
    """
    carrier: dict[str, str] = {}
    inject(carrier)
    stage(
        session,
        outbox,
        dict(
            topic=topic,
            key=key,
            event_id=event.id,
            event_type=event.type,
            payload=event.to_json(),
            traceparent=carrier.get("traceparent"),
            tracestate=carrier.get("tracestate"),
            created_at=datetime.now(UTC),
        ),
    )


def wake_on_commit(db: Database, wake: Callable[[], None]) -> None:
    """Have ``wake`` called (the relay woken) whenever a transaction of ``db`` that emitted commits."""
    db.on_commit_of(outbox, wake)


class Cause(NamedTuple):
    """What a change was made for: an event, or a person's decision (``merge/12``)."""

    id: str
    type: str


class Emitter:
    """Emits platform events inside a transaction; they are published after it commits.

    With a ``cause``, each event names it in its ``causationid`` attribute.
    """

    def __init__(self, session: AsyncSession, source: str, cause: Cause | None = None) -> None:
        self.session = session
        self._source = source
        self.caused_by = cause
        self.emitted = 0

    async def emit(self, data: Contract, *, key: str) -> CloudEvent:
        topic = HOME_TOPIC[type(data)]
        event = new_event(
            topic.type_of(type(data)),
            data,
            source=self._source,
            subject=key,
            causation_id=self.caused_by.id if self.caused_by else None,
        )
        add(self.session, topic=topic.name, key=key, event=event)
        self.emitted += 1
        return event


# On PostgreSQL, replicas' relays share the outbox by lane: a key's rows are all in one lane (a hash of
# the key), and a relay publishes only lanes whose lock its transaction holds, so each row is published
# by one relay at a time and each key's rows in the order they were written.
LANES = 16
# A relay that found lanes held by another looks again this soon: the rows its own commits woke it
# for may be in them.
CONTENDED_RETRY_SECONDS = 0.05
_LANE = func.hashtext(outbox.c.key).op("&")(LANES - 1)
_CLAIM_LANES = text(
    "SELECT lane FROM generate_series(0, :last) AS lane WHERE pg_try_advisory_xact_lock(:first + lane)"
).bindparams(last=LANES - 1, first=lock_key("outbox lanes"))


async def claim_lanes(session: AsyncSession) -> list[int]:
    """The lanes no other replica's relay holds, held to the end of the transaction (one statement)."""
    return list((await session.scalars(_CLAIM_LANES)).all())


async def pending(
    session: AsyncSession, limit: int, lanes: Sequence[int] | None = None
) -> list[OutboxRecord]:
    """The oldest unpublished rows (of ``lanes`` only, if given), in the order they were written."""
    query = select(outbox).order_by(outbox.c.id).limit(limit)
    rows = await session.execute(query if lanes is None else query.where(_LANE.in_(lanes)))
    return [
        OutboxRecord(
            id=row.id,
            topic=row.topic,
            key=row.key,
            event_id=row.event_id,
            event_type=row.event_type,
            payload=row.payload,
            trace_headers={
                k: v for k, v in (("traceparent", row.traceparent), ("tracestate", row.tracestate)) if v
            },
            created_at=utc(row.created_at),
        )
        for row in rows
    ]


async def remove(session: AsyncSession, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(outbox.delete().where(outbox.c.id.in_(ids)))


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(outbox)) or 0)


async def has_pending(session: AsyncSession) -> bool:
    """Whether any row waits (one primary-key lookup, however long the table)."""
    return await session.scalar(select(outbox.c.id).limit(1)) is not None


# Sends one record and returns an awaitable that completes on the broker's ack.
Send = Callable[[OutboxRecord], Awaitable[Awaitable[object]]]
# Told of a failed send once nothing is in flight any more (e.g. to replace the producer).
OnFailure = Callable[[BaseException], Awaitable[None]]


class OutboxRelay:
    """Publishes pending outbox rows, in order, until stopped."""

    def __init__(
        self,
        db: Database,
        send: Send,
        *,
        batch_size: int,
        poll_seconds: float,
        on_failure: OnFailure | None = None,
        stall_seconds: float = 30.0,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._db = db
        self._send = send
        self._on_failure = on_failure
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._stall_seconds = stall_seconds
        self._wake = asyncio.Event()
        self._contended = False  # the last pass found lanes another replica's relay held
        self._loop = Loop(self._run, "outbox-relay")
        self._running = False
        # When the relay last published a row or found nothing to publish.
        self._progress_at = time.monotonic()
        # When the oldest row the relay last saw unpublished was written; None once it found none.
        self._oldest_pending_at: datetime | None = None
        if registry is not None:
            Gauge(
                "mappa_outbox_oldest_age_seconds",
                "Age of the oldest outbox row waiting to be published, as the relay last saw it (0: none)",
                registry=registry,
            ).set_function(self.oldest_age_seconds)

    def oldest_age_seconds(self) -> float:
        oldest = self._oldest_pending_at
        return 0.0 if oldest is None else max(0.0, (datetime.now(UTC) - oldest).total_seconds())

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._running = True
        self._progress_at = time.monotonic()
        self._loop.start()

    async def stop(self) -> None:
        # Rows still pending stay in the table and go out on the next start.
        self._running = False
        await self._loop.cancel()

    async def stalled(self) -> bool:
        """Rows wait and the running relay has published nothing for longer than the stall time.

        Cheap enough for every health check: the database is asked (one
        primary-key lookup) only once the relay has made no progress for that long.
        """
        if not self._running or time.monotonic() - self._progress_at <= self._stall_seconds:
            return False
        async with self._db.transaction() as session:
            return await has_pending(session)

    async def _run(self) -> None:
        while True:
            try:
                while await self.publish_pending() == self._batch_size:
                    pass
            except Exception:
                log.exception("outbox relay pass failed; will retry")
            wait = CONTENDED_RETRY_SECONDS if self._contended else self._poll_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def flush(self, grace_seconds: float) -> None:
        """Publish what is pending now, for a clean shutdown; what is left waits for the next start."""
        try:
            async with asyncio.timeout(grace_seconds):
                while await self.publish_pending() == self._batch_size:
                    pass
        except Exception as error:
            log.warning(
                "outbox not emptied at shutdown (%s); the rest goes out at next start", type(error).__name__
            )

    async def publish_pending(self) -> int:
        """Publish one batch in outbox order; returns how many rows were published.

        Every row is sent without waiting for the one before: the idempotent
        producer writes each partition's batches one at a time, in order, and
        a batch it could not write stops the later ones for its partition, so
        nothing overtakes an earlier event for its key. A row the producer
        refuses outright stops the rest of its key in this pass. Acknowledged
        rows are then removed; the rest go again, first, on the next pass.

        On SQLite (one process owns the file) the database is not held while
        the broker answers: reading and removing are short transactions of
        their own. On PostgreSQL one transaction holds the pass's lanes from
        reading to removing, so no other replica's relay publishes them meanwhile.
        """
        if self._db.is_sqlite:
            async with self._db.transaction() as session:
                batch = await pending(session, self._batch_size)
            published, failure = await self._send_all(batch)
            if published:
                async with self._db.transaction() as session:
                    await remove(session, published)
        else:
            async with self._db.transaction() as session:
                lanes = await claim_lanes(session)
                self._contended = len(lanes) < LANES
                if not lanes:
                    return 0  # another replica's relay is at every lane: neither progress nor a stall
                # Holding every lane (one replica, or the others idle), no row need be hashed to choose.
                batch = await pending(session, self._batch_size, None if len(lanes) == LANES else lanes)
                published, failure = await self._send_all(batch)
                await remove(session, published)
        if published or not batch:
            self._progress_at = time.monotonic()
        if len(published) == len(batch) < self._batch_size:
            self._oldest_pending_at = None  # all published, and nothing was left behind them
        if failure is not None:
            if self._on_failure is not None:
                await self._on_failure(failure)
            raise failure
        return len(published)

    async def _send_all(self, batch: list[OutboxRecord]) -> tuple[list[int], BaseException | None]:
        """Sends the batch; the ids the broker acknowledged, and the first failure."""
        self._oldest_pending_at = batch[0].created_at if batch else None
        in_flight: list[tuple[OutboxRecord, Awaitable[object]]] = []
        stopped_keys: set[str] = set()
        failure: BaseException | None = None
        for record in batch:
            if record.key in stopped_keys:
                continue
            token = otel_context.attach(extract(record.trace_headers))
            try:
                in_flight.append((record, await self._send(record)))
            except Exception as error:
                stopped_keys.add(record.key)
                failure = failure or error
            finally:
                otel_context.detach(token)
        results = await asyncio.gather(*(ack for _, ack in in_flight), return_exceptions=True)
        published = [
            record.id
            for (record, _), result in zip(in_flight, results, strict=True)
            if not isinstance(result, BaseException)
        ]
        failure = next((r for r in results if isinstance(r, BaseException)), None) or failure
        return published, failure
