"""The relay's producer: replaced after a failed delivery, in order; and a stalled relay is reported."""

import asyncio
from typing import Any

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from eventkit import outbox
from eventkit.db import Database
from eventkit.outbox import OutboxRecord, OutboxRelay
from eventkit.publisher import DeadLetterPublisher, OutboxPublisher
from eventkit.synthetic import Synthetic
from schemas.envelope import CONTENT_TYPE, CloudEvent
from tests.support.waiting import eventually

TOPIC = "registry.offenders.v1"


class FakeProducer:
    """Records what it is sent; fails the deliveries of the event ids in ``refuse`` and, as the
    idempotent producer does for a partition, of every later send with the same key."""

    def __init__(self, refuse: set[str]) -> None:
        self.refuse = refuse
        self.refused_keys: set[bytes] = set()
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic: str, value: bytes, *, key: bytes, headers: list[tuple[str, bytes]]) -> Any:
        decoded = {name: raw.decode() for name, raw in headers}
        self.sent.append((key.decode(), value, decoded))
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if decoded["ce_id"] in self.refuse or key in self.refused_keys:
            self.refused_keys.add(key)
            delivery.set_exception(OutOfOrderSequenceNumber())
        else:
            delivery.set_result(None)
        return delivery


def _events(n: int) -> list[CloudEvent]:
    synthetic = Synthetic(seed=11)
    return [synthetic.conviction_event() for _ in range(n)]


async def _add(db: Database, rows: list[tuple[str, CloudEvent]]) -> None:
    async with db.transaction() as session:
        for key, event in rows:
            outbox.add(session, topic=TOPIC, key=key, event=event)


async def _left(db: Database) -> list[str]:
    async with db.transaction() as session:
        return [r.event_id for r in await outbox.pending(session, 100)]


async def test_a_failed_delivery_replaces_the_producer_and_the_rest_follows_in_order(db: Database) -> None:
    a1, b1, a2, b2 = events = _events(4)
    await _add(db, [("a", a1), ("b", b1), ("a", a2), ("b", b2)])
    producers: list[FakeProducer] = []

    def factory() -> FakeProducer:
        # The first producer is the one aiokafka left refusing a1 (OutOfOrderSequenceNumber).
        producers.append(FakeProducer(refuse={a1.id} if not producers else set()))
        return producers[-1]

    spans = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(spans))
    registry = CollectorRegistry()
    publisher = OutboxPublisher(factory, tracer_provider=tracing, registry=registry)
    relay = OutboxRelay(db, publisher.send, on_failure=publisher.restart, batch_size=10, poll_seconds=1)

    with pytest.raises(OutOfOrderSequenceNumber):
        await relay.publish_pending()
    first = producers[0]
    assert [key for key, _, _ in first.sent] == ["a", "b", "a", "b"]  # pipelined
    assert first.stopped
    assert await _left(db) == [a1.id, a2.id]  # b's were acknowledged: not sent twice

    assert await relay.publish_pending() == 2
    second = producers[1]
    assert second.started
    assert not second.stopped
    assert [headers["ce_id"] for _, _, headers in second.sent] == [a1.id, a2.id]
    assert await _left(db) == []
    for _, value, headers in first.sent + second.sent:
        assert headers["content-type"] == CONTENT_TYPE
        assert CloudEvent.model_validate_json(value).id == headers["ce_id"]
    assert registry.get_sample_value("mappa_outbox_producer_restarts_total") == 1
    assert registry.get_sample_value("mappa_outbox_published_total", {"topic": TOPIC}) == len(events)
    failed = [s for s in spans.get_finished_spans() if s.status.status_code.name == "ERROR"]
    assert [dict(s.attributes or {})["messaging.message.id"] for s in failed] == [a1.id, a2.id]
    await publisher.close()
    assert second.stopped


async def test_each_event_goes_out_under_the_trace_it_was_written_in(db: Database) -> None:
    tracing = TracerProvider()
    with tracing.get_tracer("tests").start_as_current_span("handler") as span:
        await _add(db, [("a", _events(1)[0])])
        trace_id = f"{span.get_span_context().trace_id:032x}"
    producer = FakeProducer(refuse=set())
    publisher = OutboxPublisher(lambda: producer, tracer_provider=tracing, registry=CollectorRegistry())
    await OutboxRelay(db, publisher.send, batch_size=10, poll_seconds=1).publish_pending()
    [(_, _, headers)] = producer.sent
    assert headers["traceparent"].split("-")[1] == trace_id
    assert "baggage" not in headers


async def test_a_relay_that_publishes_nothing_while_rows_wait_is_reported_stalled(db: Database) -> None:
    held: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(_record: OutboxRecord) -> asyncio.Future[None]:
        return held  # the broker never answers, as in an outage

    relay = OutboxRelay(db, send, batch_size=10, poll_seconds=0.05, stall_seconds=0.2)
    relay.start()
    try:
        assert not await relay.stalled()
        await _add(db, [("a", _events(1)[0])])
        relay.wake()
        await eventually(relay.stalled, what="the relay to be reported stalled")
        held.set_result(None)  # the broker is back

        async def flowing() -> bool:
            return not await relay.stalled() and not await _left(db)

        await eventually(flowing, what="the relay to publish and be reported flowing")
    finally:
        await relay.stop()
    assert not await relay.stalled()  # a stopped relay reports nothing


async def test_a_failed_dead_letter_replaces_its_producer_and_the_next_goes_out() -> None:
    producers: list[FakeProducer] = []

    def factory() -> FakeProducer:
        # The first is left refusing the partition after an outage, as the relay's was.
        producers.append(FakeProducer(refuse={"d-1"} if not producers else set()))
        return producers[-1]

    registry = CollectorRegistry()
    dead_letters = DeadLetterPublisher(factory, registry=registry)
    headers = {"ce_id": "d-1", "dlt-error-class": "InvalidMessage"}
    with pytest.raises(OutOfOrderSequenceNumber):
        await dead_letters.publish(f"{TOPIC}.dlt", b"{}", key=b"k", headers=headers)
    await dead_letters.publish(f"{TOPIC}.dlt", b"{}", key=b"k", headers=headers | {"ce_id": "d-2"})
    assert [p.stopped for p in producers] == [True, False]
    assert [sent[2]["ce_id"] for sent in producers[1].sent] == ["d-2"]
    assert registry.get_sample_value("mappa_dead_letter_producer_restarts_total") == 1
    await dead_letters.close()
    assert producers[1].stopped
