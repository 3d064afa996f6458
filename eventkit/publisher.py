"""The outbox relay's own Kafka producer, replaced by a new one after a failed delivery.

aiokafka's idempotent producer numbers the batches it sends to each
partition. A batch that fails has used its number, and aiokafka never takes
it back: if the broker did not write that batch, it refuses every later one
for the partition with ``OutOfOrderSequenceNumber``, for good (as happened
after broker outages, when batches waiting for a leader outlived the
request timeout; ``make_producer`` now lets them wait). The broker can also
forget the producer (``UnknownProducerId``) or fence it. A new producer (a
new producer id, numbering from zero) is the way out, so the relay replaces
its producer after any failed delivery. That is safe for ordering: the relay
sends nothing more after a failure and waits for everything it already
sent, so the producer is idle when it is replaced, and the rows that failed
are still in the outbox, to go first on the next pass.

Dead letters go out the same way, through a producer of their own
(``DeadLetterPublisher``), one at a time. The topics the relay publishes to
are still declared as FastStream publishers, for the AsyncAPI document.
"""

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.semconv.trace import SpanAttributes
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from prometheus_client import CollectorRegistry, Counter

from eventkit.outbox import OutboxRecord
from schemas.envelope import CONTENT_TYPE

log = logging.getLogger(__name__)

# W3C trace context only: baggage never goes into the headers.
_PROPAGATOR = TraceContextTextMapPropagator()

# Makes an aiokafka.AIOKafkaProducer, not yet started.
ProducerFactory = Callable[[], Any]
# How long closing a producer may wait for sends in flight.
_CLOSE_SECONDS = 10.0


class Replaceable:
    """A producer made on first use and replaced, by ``replace``, after a failed delivery."""

    def __init__(self, factory: ProducerFactory, restarts: Counter, purpose: str) -> None:
        self._factory = factory
        self._restarts = restarts
        self._purpose = purpose
        self._producer: Any = None

    async def get(self) -> Any:
        if self._producer is None:
            producer = self._factory()
            try:
                await producer.start()
            except BaseException:
                await _stop(producer, _CLOSE_SECONDS)
                raise
            self._producer = producer
        return self._producer

    async def replace(self, error: BaseException) -> None:
        """Drops the producer; the next send starts a new one. Call it with nothing in flight."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        self._restarts.inc()
        log.warning("%s producer replaced after a failed delivery (%s)", self._purpose, type(error).__name__)
        # Shielded: a caller cancelled meanwhile must not leave the old producer half closed.
        await asyncio.shield(_stop(producer, _CLOSE_SECONDS))

    async def close(self, grace_seconds: float = _CLOSE_SECONDS) -> None:
        """Closes the producer, waiting at most ``grace_seconds`` for sends in flight."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await _stop(producer, grace_seconds)


class DeadLetterPublisher:
    """Dead letters through a producer of their own, replaced after a failed delivery as the relay's
    is, so that a broker outage cannot leave every later dead letter refused."""

    def __init__(self, factory: ProducerFactory, *, registry: CollectorRegistry) -> None:
        restarts = Counter(
            "mappa_dead_letter_producer_restarts",
            "Producers for dead letters replaced after a failed delivery",
            registry=registry,
        )
        self._producer = Replaceable(factory, restarts, "dead-letter")
        # One dead letter at a time: a failure replaces the producer with nothing else in flight.
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connects now, so that a dead letter written during a later outage waits it out."""
        await self._producer.get()

    async def publish(self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]) -> None:
        """Returns once the broker has the message; raises (and replaces the producer) if it has not."""
        async with self._lock:
            producer = await self._producer.get()
            try:
                delivery = await producer.send(
                    topic, value, key=key, headers=[(name, v.encode()) for name, v in headers.items()]
                )
                await delivery
            except Exception as error:
                await self._producer.replace(error)
                raise

    async def close(self, grace_seconds: float = _CLOSE_SECONDS) -> None:
        await self._producer.close(grace_seconds)


class OutboxPublisher:
    """Sends outbox rows through a producer of its own; ``restart`` replaces that producer."""

    def __init__(
        self, factory: ProducerFactory, *, tracer_provider: TracerProvider, registry: CollectorRegistry
    ) -> None:
        self._tracer = tracer_provider.get_tracer(__name__)
        self._published = Counter(
            "mappa_outbox_published",
            "Outbox events the broker acknowledged, by topic",
            ["topic"],
            registry=registry,
        )
        restarts = Counter(
            "mappa_outbox_producer_restarts",
            "Producers the outbox relay replaced after a failed delivery",
            registry=registry,
        )
        self._producer = Replaceable(factory, restarts, "outbox")

    async def send(self, record: OutboxRecord) -> Awaitable[object]:
        """Sends one row under the current trace context; returns the broker's acknowledgement."""
        producer = await self._producer.get()
        span = self._tracer.start_span(
            f"{record.topic} publish",
            kind=SpanKind.PRODUCER,
            # Never the key: on some topics it identifies a person.
            attributes={
                SpanAttributes.MESSAGING_SYSTEM: "kafka",
                SpanAttributes.MESSAGING_DESTINATION_NAME: record.topic,
                SpanAttributes.MESSAGING_OPERATION: "publish",
                SpanAttributes.MESSAGING_MESSAGE_ID: record.event_id,
            },
        )
        headers = {"content-type": CONTENT_TYPE, "ce_id": record.event_id}
        _PROPAGATOR.inject(headers, context=trace.set_span_in_context(span))
        try:
            delivery: asyncio.Future[Any] = await producer.send(
                record.topic,
                record.payload,
                key=record.key.encode(),
                headers=[(name, value.encode()) for name, value in headers.items()],
            )
        except BaseException as error:
            _end(span, error)
            raise
        delivery.add_done_callback(functools.partial(self._delivered, span, record.topic))
        return delivery

    async def restart(self, error: BaseException) -> None:
        """Replaces the producer after a failed delivery (the relay waited for all it had in flight)."""
        await self._producer.replace(error)

    async def close(self, grace_seconds: float = _CLOSE_SECONDS) -> None:
        """Closes the producer, waiting at most ``grace_seconds`` for sends in flight."""
        await self._producer.close(grace_seconds)

    def _delivered(self, span: Span, topic: str, delivery: asyncio.Future[Any]) -> None:
        error = asyncio.CancelledError() if delivery.cancelled() else delivery.exception()
        if error is None:
            self._published.labels(topic).inc()
        _end(span, error)


def _end(span: Span, error: BaseException | None) -> None:
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.set_attribute("error.type", type(error).__name__)
    span.end()


async def _stop(producer: Any, grace_seconds: float) -> None:
    try:
        async with asyncio.timeout(grace_seconds):
            await producer.stop()
    except TimeoutError:
        # Sends still waiting for the broker: their rows stay in the outbox for the next start.
        log.warning("outbox producer closed with sends unacknowledged after %.0fs", grace_seconds)
    except Exception as error:  # a producer that cannot close cleanly is dropped all the same
        log.warning("outbox producer did not close cleanly (%s)", type(error).__name__)
