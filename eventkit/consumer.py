"""Applies one consumed message: decode, de-duplicate, handle, commit, or dead-letter.

The handler runs inside one database transaction together with the inbox
claim and any events it emits (outbox), so its effects are all-or-nothing.
A message that cannot be applied is retried a bounded number of times, then
published to ``<topic>.dlt`` with its origin and the reason; only then does
the caller acknowledge it, so the partition keeps moving and nothing is lost.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.exc import InterfaceError, OperationalError
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


class Consumer:
    def __init__(
        self,
        config: ConsumerConfig,
        db: Database,
        handlers: Mapping[str, Handler],
        dead_letter: DeadLetter,
        on_emitted: Callable[[], None],
        registry: CollectorRegistry,
    ) -> None:
        self._config = config
        self._db = db
        self._handlers = handlers
        self._dead_letter = dead_letter
        # Per topic: who dead-letters a message of no type carried there, and who for each type.
        self._owners = {
            topic.name: (
                topic.dead_lettered_by(None),
                {t: topic.dead_lettered_by(t) for t in topic.event_types},
            )
            for topic in TOPICS
            if topic.consumers
        }
        self._on_emitted = on_emitted
        self._outcomes = Counter(
            "mappa_events_consumed",
            "Consumed messages by topic and outcome",
            ["topic", "outcome"],
            registry=registry,
        )

    async def process(self, record: ConsumerRecord) -> Outcome:
        """Apply or dead-letter the record.

        Raises PlatformUnavailable, and nothing else, when it could do
        neither: the record must then be delivered again.
        """
        outcome = await self._process(record)
        self._outcomes.labels(record.topic, outcome).inc()
        return outcome

    async def _process(self, record: ConsumerRecord) -> Outcome:
        received = Received(self._config.clock(), self._config.max_clock_skew)
        try:
            raw = parse(record.value or b"", max_bytes=self._config.max_message_bytes)
        except PermanentError as error:
            return await self._reject_once(record, None, error)
        # The type first: what this service does not handle is skipped without validating it.
        event_type = event_type_of(raw)
        handler = self._handlers.get(event_type) if event_type is not None else None
        if handler is None and not self._owns(record.topic, event_type):
            return "ignored"
        try:
            event = envelope(record.topic, raw, received)
            if handler is None:
                return "ignored"  # a valid event of a type this service has no use for
            incoming = Incoming(event, payload(event, received))
        except PermanentError as error:
            return await self._reject_once(record, event_type, error)
        for attempt in range(1, self._config.max_attempts + 1):
            try:
                return await self._apply(incoming, handler, received.at)
            except PermanentError as error:
                return await self._reject(record, error, attempts=attempt)
            except Exception as error:
                if attempt == self._config.max_attempts:
                    if isinstance(error, INFRASTRUCTURE_ERRORS):
                        # The message is fine; the database or broker is not.
                        raise PlatformUnavailable(type(error).__name__) from error
                    return await self._reject(record, error, attempts=attempt)
                log.warning(
                    "attempt %d of %s %s failed: %s",
                    attempt,
                    incoming.event.type,
                    incoming.event.id,
                    type(error).__name__,
                )
                await asyncio.sleep(self._config.retry_backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _owns(self, topic: str, event_type: str | None) -> bool:
        """Whether this consumer is the one that dead-letters such a message on ``topic``."""
        if (owners := self._owners.get(topic)) is None:
            return True  # a topic outside the catalogue: nobody else will
        anything, by_type = owners
        return by_type.get(event_type or "", anything) == self._config.name

    async def _reject_once(
        self, record: ConsumerRecord, event_type: str | None, error: PermanentError
    ) -> Outcome:
        if self._owns(record.topic, event_type):
            return await self._reject(record, error, attempts=1)
        return "left-to-owner"

    async def _apply(self, incoming: Incoming, handler: Handler, now: datetime) -> Outcome:
        async with self._db.transaction() as session:
            fresh = await inbox.claim(
                session,
                consumer=self._config.name,
                source=incoming.event.source,
                event_id=incoming.event.id,
                event_type=incoming.event.type,
            )
            if not fresh:
                return "duplicate"
            work = UnitOfWork(session, self._config.source, incoming.event, self._config.policies, now=now)
            await handler(incoming, work)
        if work.emitted:
            self._on_emitted()
        return "applied"

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
