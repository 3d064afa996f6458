"""Applies consumed messages: decode, de-duplicate, handle, commit, or dead-letter.

A batch is applied in one database transaction: one inbox insert claims
all its events, the handlers run in order, and what they emit reaches the
outbox in one insert as the transaction commits, so their effects are
all-or-nothing. If a handler fails, that transaction rolls back and the
batch is applied again one message at a time, each in a transaction of its
own and retried a bounded number of times: the failing message is isolated
and the others still commit. A message that cannot be applied is published
to ``<topic>.dlt`` with its origin and the reason; only then may its offset
be committed, so the partition keeps moving and nothing is lost.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from opentelemetry.propagate import extract
from opentelemetry.semconv.trace import SpanAttributes
from opentelemetry.trace import SpanKind, Tracer
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit import inbox
from eventkit.clock import Clock, local_date, system_clock
from eventkit.codec import Incoming, Received, envelope, event_type_of, parse, payload
from eventkit.db import Database
from eventkit.deadletter import dead_letter_headers, dead_letter_topic
from eventkit.errors import PermanentError
from eventkit.outbox import Cause, Emitter
from eventkit.policy import AreaPolicies
from schemas.catalogue import EVENT_MODELS, TOPICS
from schemas.contract import Contract
from schemas.envelope import CloudEvent

log = logging.getLogger(__name__)

# "left-to-owner": a message this consumer cannot apply, which another consumer of the
# topic dead-letters (schemas.catalogue.Topic.dead_lettered_by), so it is dead-lettered once.
Outcome = Literal["applied", "duplicate", "ignored", "dead-lettered", "left-to-owner"]

# Failures of the platform rather than of the message: never a reason to
# dead-letter a valid event. The caller redelivers it once they pass.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, SQLAlchemyTimeoutError, OSError, KafkaError)
# PostgreSQL gave way to a replica's transaction (deadlock detected, serialization failure): the event
# is fine, and goes again.
CROSSED_TRANSACTIONS = frozenset({"40P01", "40001"})


def platform_failure(error: BaseException) -> bool:
    """Whether ``error`` is the platform's (database, broker, a replica in the way), not the message's."""
    crossed = isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in CROSSED_TRANSACTIONS
    return crossed or isinstance(error, INFRASTRUCTURE_ERRORS)


# Only W3C trace context is taken from a message: never baggage.
_TRACE_HEADERS = ("traceparent", "tracestate")


class PlatformUnavailable(Exception):
    """A dependency kept failing; the message must be delivered again later."""


class UnitOfWork(Emitter):
    """What a handler may touch: its transaction, the event it handles, and the events it emits."""

    def __init__(
        self,
        session: AsyncSession,
        source: str,
        cause: CloudEvent,
        policies: AreaPolicies[Any] | None = None,
        *,
        now: datetime,
    ) -> None:
        super().__init__(session, source, Cause(cause.id, cause.type))
        self.cause = cause
        # The service's area policies, for rules whose values an area may change.
        self.policies = policies
        # The service's clock when the event is applied; never the sender's ``time``.
        self.now = now

    @property
    def today(self) -> date:
        """Today in England and Wales, by the service's clock."""
        return local_date(self.now)

    def for_cause(self, cause: CloudEvent) -> "UnitOfWork":
        """The same transaction, handling another event (one that was held back)."""
        return UnitOfWork(self.session, self._source, cause, self.policies, now=self.now)


Handler = Callable[[Incoming, UnitOfWork], Awaitable[None]]
C = TypeVar("C", bound=Contract)


class Handlers:
    """Handlers by event type, each typed by the payload model it takes."""

    def __init__(self) -> None:
        self.by_type: dict[str, Handler] = {}

    def on(
        self, model: type[C]
    ) -> Callable[[Callable[[C, UnitOfWork], Awaitable[None]]], Callable[[C, UnitOfWork], Awaitable[None]]]:
        def register(
            fn: Callable[[C, UnitOfWork], Awaitable[None]],
        ) -> Callable[[C, UnitOfWork], Awaitable[None]]:
            async def handle(incoming: Incoming, work: UnitOfWork) -> None:
                assert isinstance(incoming.data, model)
                await fn(incoming.data, work)

            # The same payload may arrive from several agencies: one type each.
            for kind, carried in EVENT_MODELS.items():
                if carried is model:
                    self.by_type[kind] = handle
            return fn

        return register

    def include(self, other: "Handlers") -> "Handlers":
        """Take ``other``'s handlers too (the kit's own, say); one type has one handler."""
        if clash := self.by_type.keys() & other.by_type.keys():
            raise ValueError(f"two handlers for {sorted(clash)}")
        self.by_type.update(other.by_type)
        return self


DeadLetter = Callable[[str, ConsumerRecord, dict[str, str]], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerConfig:
    name: str
    source: str
    max_attempts: int
    retry_backoff_seconds: float
    max_message_bytes: int
    policies: AreaPolicies[Any] | None = None
    clock: Clock = system_clock
    # How far ahead of the service's clock a sender's event time may be.
    max_clock_skew: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class _Ready:
    """A decoded record this consumer has a handler for."""

    record: ConsumerRecord
    incoming: Incoming
    handler: Handler


class _HandlerFailed(Exception):
    """A handler failed while its batch was applied together."""

    def __init__(self, step: _Ready, error: Exception) -> None:
        super().__init__(type(error).__name__)
        self.step = step
        self.error = error


# What a record needs once decoded: nothing more (an outcome), dead-lettering, or applying.
_Step = Outcome | PermanentError | _Ready


@dataclass
class BatchResult:
    """One outcome per record, or None for a record to be delivered again."""

    outcomes: list[Outcome | None]
    # Why records were left to be delivered again, if any were.
    unavailable: PlatformUnavailable | None = None


class Consumer:
    def __init__(
        self,
        config: ConsumerConfig,
        db: Database,
        handlers: Mapping[str, Handler],
        dead_letter: DeadLetter,
        registry: CollectorRegistry,
        tracer: Tracer,
    ) -> None:
        self._config = config
        self._db = db
        self._handlers = handlers
        self._dead_letter = dead_letter
        self._tracer = tracer
        # Per topic: who dead-letters a message of no type carried there, and who for each type.
        self._owners = {
            topic.name: (
                topic.dead_lettered_by(None),
                {t: topic.dead_lettered_by(t) for t in topic.event_types},
            )
            for topic in TOPICS
            if topic.consumers
        }
        self._outcomes = Counter(
            "mappa_events_consumed",
            "Consumed messages by topic and outcome",
            ["topic", "outcome"],
            registry=registry,
        )
        self._batches_split = Counter(
            "mappa_consumer_batches_split",
            "Batches of several events rolled back for a failure and applied again one event at a time",
            registry=registry,
        )

    async def process(self, record: ConsumerRecord) -> Outcome:
        """Apply or dead-letter one record; raises PlatformUnavailable when it could do neither."""
        result = await self.process_batch([record])
        if result.unavailable is not None:
            raise result.unavailable
        [outcome] = result.outcomes
        assert outcome is not None
        return outcome

    async def process_batch(self, records: Sequence[ConsumerRecord]) -> BatchResult:
        """Apply or dead-letter each record, in order.

        A record it could do neither for (a dependency is down) is left, with
        every record after it, to be delivered again.
        """
        received = Received(self._config.clock(), self._config.max_clock_skew)
        steps = [self._prepare(record, received) for record in records]
        outcomes: list[Outcome | None] = [step if isinstance(step, str) else None for step in steps]
        ready = [(i, step) for i, step in enumerate(steps) if isinstance(step, _Ready)]
        failed: _HandlerFailed | None = None
        if ready:
            try:
                applied = await self._apply_together([step for _, step in ready], received.at)
            except Exception as error:
                # One of them, or the database, failed: each is applied on its own below.
                failed = error if isinstance(error, _HandlerFailed) else None
                if len(ready) > 1:
                    self._batches_split.inc()
                log.info(
                    "batch of %d rolled back (%s); applying one by one", len(ready), type(error).__name__
                )
            else:
                for (i, _), outcome in zip(ready, applied, strict=True):
                    outcomes[i] = outcome
        result = BatchResult(outcomes)
        try:
            for i, step in enumerate(steps):
                if outcomes[i] is not None:
                    continue
                if isinstance(step, PermanentError):
                    outcomes[i] = await self._reject(records[i], step, attempts=1)
                else:
                    assert isinstance(step, _Ready)
                    # The handler that failed in the batch has had its first attempt.
                    earlier = failed.error if failed is not None and failed.step is step else None
                    outcomes[i] = await self._apply_alone(step, received.at, earlier)
        except PlatformUnavailable as unavailable:
            result.unavailable = unavailable
        for record, done in zip(records, outcomes, strict=True):
            if done is not None:
                self._outcomes.labels(record.topic, done).inc()
        return result

    def _prepare(self, record: ConsumerRecord, received: Received) -> _Step:
        try:
            raw = parse(record.value or b"", max_bytes=self._config.max_message_bytes)
        except PermanentError as error:
            return self._rejected(record, None, error)
        # The type first: what this service does not handle is skipped without validating it.
        event_type = event_type_of(raw)
        handler = self._handlers.get(event_type) if event_type is not None else None
        if handler is None and not self._owns(record.topic, event_type):
            return "ignored"
        try:
            event = envelope(record.topic, raw, received)
            if handler is None:
                return "ignored"  # a valid event of a type this service has no use for
            return _Ready(record, Incoming(event, payload(event, received)), handler)
        except PermanentError as error:
            return self._rejected(record, event_type, error)

    def _owns(self, topic: str, event_type: str | None) -> bool:
        """Whether this consumer is the one that dead-letters such a message on ``topic``."""
        if (owners := self._owners.get(topic)) is None:
            return True  # a topic outside the catalogue: nobody else will
        anything, by_type = owners
        return by_type.get(event_type or "", anything) == self._config.name

    def _rejected(self, record: ConsumerRecord, event_type: str | None, error: PermanentError) -> _Step:
        return error if self._owns(record.topic, event_type) else "left-to-owner"

    async def _apply_together(self, ready: Sequence[_Ready], now: datetime) -> list[Outcome]:
        """Apply the events in one transaction; raises, having changed nothing, if any fails."""
        outcomes: list[Outcome] = []
        async with self._db.transaction() as session:
            fresh = await inbox.claim(session, self._config.name, [step.incoming.event for step in ready])
            for step in ready:
                event = step.incoming.event
                if (event.source, event.id) not in fresh:
                    outcomes.append("duplicate")
                    continue
                fresh.discard((event.source, event.id))  # a second copy in this batch is a duplicate
                with self._span(step.record, event):
                    try:
                        await step.handler(step.incoming, self._work(session, event, now))
                    except Exception as error:
                        raise _HandlerFailed(step, error) from error
                outcomes.append("applied")
        return outcomes

    async def _apply_alone(self, step: _Ready, now: datetime, earlier: Exception | None = None) -> Outcome:
        """Apply one event in its own transaction, retrying; dead-letter it if it cannot be applied.

        ``earlier`` is the failure of an attempt already made (in a batch).
        """
        event = step.incoming.event
        attempt, error = (0, None) if earlier is None else (1, earlier)
        while True:
            if error is not None:
                if isinstance(error, PermanentError):
                    return await self._reject(step.record, error, attempts=attempt)
                if attempt == self._config.max_attempts:
                    if platform_failure(error):
                        # The message is fine; the database or broker is not.
                        raise PlatformUnavailable(type(error).__name__) from error
                    return await self._reject(step.record, error, attempts=attempt)
                log.warning(
                    "attempt %d of %s %s failed: %s", attempt, event.type, event.id, type(error).__name__
                )
                await asyncio.sleep(self._config.retry_backoff_seconds * 2 ** (attempt - 1))
            attempt += 1
            try:
                async with self._db.transaction() as session:
                    if not await inbox.claim(session, self._config.name, [event]):
                        return "duplicate"
                    with self._span(step.record, event):
                        await step.handler(step.incoming, self._work(session, event, now))
                return "applied"
            except Exception as failure:
                error = failure

    def _work(self, session: AsyncSession, event: CloudEvent, now: datetime) -> UnitOfWork:
        return UnitOfWork(session, self._config.source, event, self._config.policies, now=now)

    @contextmanager
    def _span(self, record: ConsumerRecord, event: CloudEvent) -> Iterator[None]:
        """A span for applying the event, in the trace its sender started (no key, no payload)."""
        carrier = {
            name: value.decode("ascii", "replace")
            for name, value in record.headers or ()
            if name in _TRACE_HEADERS and value is not None
        }
        with self._tracer.start_as_current_span(
            f"{record.topic} process",
            context=extract(carrier),
            kind=SpanKind.CONSUMER,
            record_exception=False,  # an exception's text may quote the data
            attributes={
                SpanAttributes.MESSAGING_SYSTEM: "kafka",
                SpanAttributes.MESSAGING_DESTINATION_NAME: record.topic,
                SpanAttributes.MESSAGING_KAFKA_DESTINATION_PARTITION: record.partition,
                SpanAttributes.MESSAGING_KAFKA_MESSAGE_OFFSET: record.offset,
                SpanAttributes.MESSAGING_MESSAGE_ID: event.id,
                "cloudevents.event_type": event.type,
            },
        ):
            yield

    async def _reject(self, record: ConsumerRecord, error: BaseException, *, attempts: int) -> Outcome:
        headers = dead_letter_headers(record, error, consumer=self._config.name, attempts=attempts)
        try:
            await self._dead_letter(dead_letter_topic(record.topic), record, headers)
        except Exception as failure:
            raise PlatformUnavailable(f"dead-letter publish failed: {type(failure).__name__}") from failure
        log.error(
            "dead-lettered %s[%d]@%d: %s",
            record.topic,
            record.partition,
            record.offset,
            type(error).__name__,
        )
        return "dead-lettered"
