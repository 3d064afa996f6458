"""A broker outage longer than the producer's timeout: the relay recovers by itself, and says so meanwhile.

Events keep coming while the broker shuts down, so the relay's producer
sees partitions lose their leader and holds batches for them through the
outage. A batch that gave up waiting after the request timeout used to leave
aiokafka's idempotent producer refusing every later batch for its partition
(OutOfOrderSequenceNumber, once a second, for good) while /health said all
was well. This test runs a broker of its own, since it stops it.
"""

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import MetaData

from deploy.local import free_ports
from eventkit import outbox
from eventkit.migrations import Schema
from eventkit.service import Service
from eventkit.settings import Settings
from eventkit.synthetic import Synthetic
from schemas.catalogue import REGISTRY_OFFENDERS
from schemas.envelope import CONTENT_TYPE
from services.registry.tables import metadata as registry_tables
from tests.support.api import asgi_client
from tests.support.kafka import event_of, headers_of, read_all, read_until, start_broker, stop_broker
from tests.support.waiting import eventually

TOPIC = REGISTRY_OFFENDERS.name
PRODUCER_TIMEOUT_SECONDS = 2  # how long a batch may wait for its partition's leader
STALL_SECONDS = 3  # longer than that: a failing outbox check means the outage outlasted it
KEYS = [f"pid-{n:02d}" for n in range(12)]


class Broker:
    """A broker on free ports, stopped and started again by the test."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.port, self.controller_port = free_ports(2)
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.env: dict[str, str] = {}

    async def start(self) -> None:
        self.env = await asyncio.to_thread(start_broker, self.state, self.port, self.controller_port)

    async def stop(self) -> None:
        # In a thread: the relay keeps sending while the broker shuts down.
        await asyncio.to_thread(stop_broker, self.env)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    own = Broker(tmp_path / "kafka")
    await own.start()
    try:
        yield own
    finally:
        await own.stop()
        shutil.rmtree(own.state, ignore_errors=True)


class Emitted:
    """Events written to the outbox as handlers write them, each under a trace of its own."""

    def __init__(self, service: Service, tracer_provider: TracerProvider) -> None:
        self._service = service
        self._tracer = tracer_provider.get_tracer("tests")
        self._synthetic = Synthetic(seed=8)
        self.keys: dict[str, str] = {}  # event id -> key, in the order written
        self.trace_ids: dict[str, str] = {}

    async def one(self) -> None:
        key = KEYS[len(self.keys) % len(KEYS)]
        event = self._synthetic.conviction_event()
        with self._tracer.start_as_current_span("handler") as span:
            async with self._service.db.transaction() as session:
                outbox.add(session, topic=TOPIC, key=key, event=event)
            self.trace_ids[event.id] = f"{span.get_span_context().trace_id:032x}"
        self.keys[event.id] = key
        self._service.relay.wake()

    async def until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.one()


async def _pending(service: Service) -> int:
    async with service.db.transaction() as session:
        return await outbox.count(session)


async def _dead_letter(service: Service, value: str) -> None:
    headers = {"dlt-error-class": "InvalidMessage"}
    await service.dead_letters.publish(f"{TOPIC}.dlt", value.encode(), key=b"k", headers=headers)


async def _outbox_check(service: Service) -> str:
    async with asgi_client(service) as http:
        body: dict[str, Any] = (await http.get("/health")).json()
    return str(body["checks"]["outbox"])


async def test_after_an_outage_the_relay_publishes_every_pending_event_once_in_order(
    broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
    monkeypatch.setenv("MAPPA_RELAYTEST_DATABASE_URL", f"sqlite+inloop:///{tmp_path / 'relay.db'}")
    monkeypatch.setenv("MAPPA_PRODUCER_REQUEST_TIMEOUT_SECONDS", str(PRODUCER_TIMEOUT_SECONDS))
    # None of the platform's services: it connects as the admin.
    for setting in ("USERNAME", "PASSWORD"):
        monkeypatch.setenv(f"MAPPA_RELAYTEST_KAFKA_{setting}", os.environ[f"MAPPA_ADMIN_KAFKA_{setting}"])
    monkeypatch.setenv("MAPPA_RELAYTEST_OUTBOX_STALL_SECONDS", str(STALL_SECONDS))
    monkeypatch.setenv("MAPPA_RELAYTEST_MIGRATE_AT_START", "true")
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    service = Service(
        "relaytest",
        metadata=MetaData(),
        consumes=(),
        produces=(REGISTRY_OFFENDERS,),
        handlers={},
        settings=Settings("relaytest"),
        tracer_provider=provider,
        schema=Schema("registry", registry_tables),
    )
    await service.start()
    emitted = Emitted(service, provider)
    try:
        # The relay is publishing as fast as events come when the broker goes.
        stopped = asyncio.Event()
        feeding = asyncio.create_task(emitted.until(stopped))

        async def flowing() -> bool:
            return len(emitted.keys) - await _pending(service) >= 100

        await eventually(flowing, what="the relay to publish")
        assert await _outbox_check(service) == "ok"
        await broker.stop()
        down_since = time.monotonic()
        stopped.set()
        await feeding
        # A dead letter sent during the outage: whether it waits or fails (the consumer then
        # delivers its record again), it must not leave later dead letters refused.
        dead_letter = asyncio.create_task(_dead_letter(service, "during"))

        async def stalled_past_the_producer_timeout() -> bool:
            outlasted = time.monotonic() - down_since > PRODUCER_TIMEOUT_SECONDS
            return outlasted and await _outbox_check(service) == "failing"

        await eventually(stalled_past_the_producer_timeout, what="/health to report the stalled outbox")
        assert await _pending(service) > 0

        await broker.start()

        async def drained() -> bool:
            return await _pending(service) == 0

        await eventually(drained, timeout=60, what="the relay to publish what waited")

        async def healthy() -> bool:
            return await _outbox_check(service) == "ok"

        await eventually(healthy, what="/health to report the outbox ok again")
        try:
            await dead_letter
            sent = [b"during"]
        except KafkaError:
            sent = []
        await _dead_letter(service, "after")
    finally:
        await service.stop()

    dead = await read_all(broker.bootstrap, f"{TOPIC}.dlt")
    assert [r.value for r in dead] == [*sent, b"after"]

    ours = set(emitted.keys)

    def every_event(found: list[ConsumerRecord]) -> bool:
        return {event_of(r)["id"] for r in found} >= ours

    await read_until(broker.bootstrap, TOPIC, every_event)
    records = await read_all(broker.bootstrap, TOPIC)
    ids = [event_of(r)["id"] for r in records]
    assert len(ids) == len(set(ids)) == len(ours), "an event was published twice"
    for key in KEYS:
        written = [event_id for event_id, k in emitted.keys.items() if k == key]
        assert [event_of(r)["id"] for r in records if r.key == key.encode()] == written
    for record in records:
        headers = headers_of(record)
        event_id = event_of(record)["id"]
        assert headers["content-type"] == CONTENT_TYPE
        assert headers["ce_id"] == event_id
        assert headers["traceparent"].split("-")[1] == emitted.trace_ids[event_id]
    producer_spans = [s for s in spans.get_finished_spans() if s.kind.name == "PRODUCER"]
    assert {f"{s.context.trace_id:032x}" for s in producer_spans} >= set(emitted.trace_ids.values())
    for span in producer_spans:
        assert not set(KEYS) & {str(v) for v in (span.attributes or {}).values()}
