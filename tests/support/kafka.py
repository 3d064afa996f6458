"""Test access to the real broker: start it, publish raw bytes, read topics back.

The broker is secured as ``deploy/kafka.sh`` secures it: a test publishes to a topic as the principal
that produces it (an agency's topic as that agency), and reads as the admin.
"""

import asyncio
import dataclasses
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.structs import RecordMetadata

from deploy.acls import ADMIN
from deploy.local import KAFKA_SCRIPT, broker_env
from deploy.provision import credentials
from deploy.watch import partitions_of
from eventkit.broker import KafkaAccess, make_admin
from eventkit.settings import kafka_access
from schemas.catalogue import AGENCY_POLICE, TOPICS, type_of
from schemas.envelope import CloudEvent
from schemas.events.registry import NominalRegistered


def start_broker(state_dir: Path, port: int, controller_port: int) -> dict[str, str]:
    """Starts a secured broker. Every broker of a test session has the same principals and passwords,
    put in this process's environment: services started here, or by it, connect with them."""
    env = os.environ | {
        "MAPPA_KAFKA_DIR": str(state_dir),
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
        "MAPPA_PYTHON": sys.executable,  # the one running the tests provisions the broker
    }
    state_dir.mkdir(parents=True, exist_ok=True)
    if not (given := state_dir / "credentials.env").exists():
        given.touch(mode=0o600)
        given.write_text(_session_credentials())
    subprocess.run(["bash", str(KAFKA_SCRIPT), "start"], check=True, env=env)
    os.environ.update({k: v for k, v in broker_env(env).items() if k != "KAFKA_BOOTSTRAP_SERVERS"})
    return env


@functools.cache
def _session_credentials() -> str:
    return "\n".join(credentials()) + "\n"


def access(bootstrap: str, client: str = ADMIN) -> KafkaAccess:
    """How ``client`` (a service, an agency, the admin) connects to the broker at ``bootstrap``."""
    return dataclasses.replace(kafka_access(client), bootstrap_servers=bootstrap)


def producer_of(topic: str) -> str:
    """Who publishes to ``topic``: its producer in the catalogue, else the admin."""
    return next((t.producer for t in TOPICS if t.name == topic), ADMIN)


def stop_broker(env: dict[str, str]) -> None:
    subprocess.run(["bash", str(KAFKA_SCRIPT), "stop"], check=True, env=env)


async def publish(
    bootstrap: str,
    topic: str,
    value: bytes,
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    raw_headers: list[tuple[str, bytes | None]] | None = None,
    client: str | None = None,
) -> RecordMetadata:
    """Publish as any agency's Kafka client would, as ``client`` (by default the topic's producer);
    returns where the record landed."""
    producer = AIOKafkaProducer(
        **access(bootstrap, client or producer_of(topic)).options(), acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        return await producer.send_and_wait(
            topic,
            value,
            key=key.encode() if key is not None else None,
            headers=[(k, v.encode()) for k, v in (headers or {}).items()] + (raw_headers or []),
        )
    finally:
        await producer.stop()


async def publish_police(bootstrap: str, events: Iterable[CloudEvent]) -> None:
    """Publish police events at once, as a force's system catching up would: keyed by the PNC ID."""
    producer = AIOKafkaProducer(
        **access(bootstrap, AGENCY_POLICE.producer).options(), acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        sends = [
            await producer.send(AGENCY_POLICE.name, e.to_json(), key=e.data["person"]["pnc_id"].encode())
            for e in events
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


@asynccontextmanager
async def _from_beginning(bootstrap: str, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A group-less consumer on every partition of ``topic``, at the earliest offsets."""
    consumer = AIOKafkaConsumer(**access(bootstrap).options(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await partitions_of(access(bootstrap), topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        yield consumer
    finally:
        await consumer.stop()


async def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[ConsumerRecord]], bool],
    *,
    match: Callable[[ConsumerRecord], bool] = lambda _r: True,
    timeout: float = 60.0,
) -> list[ConsumerRecord]:
    """Read ``topic`` from the beginning, keeping matching records, until ``done``."""
    kept: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    async with _from_beginning(bootstrap, topic) as consumer:
        while not done(kept):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: {len(kept)} matching records after {timeout}s")
            batches = await consumer.getmany(timeout_ms=200)
            kept.extend(r for records in batches.values() for r in records if match(r))
    return kept


async def read_all(
    bootstrap: str, topic: str, *, match: Callable[[ConsumerRecord], bool] = lambda _r: True
) -> list[ConsumerRecord]:
    """Every matching record now on ``topic`` (up to the current end of each partition)."""
    kept: list[ConsumerRecord] = []
    async with _from_beginning(bootstrap, topic) as consumer:
        partitions = list(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=200)
            kept.extend(r for records in batches.values() for r in records if match(r))
    return kept


def event_of(record: ConsumerRecord) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(record.value)
    return value


def with_id(event_id: str) -> Callable[[ConsumerRecord], bool]:
    """Matches the event ``event_id``, passing over records that are not JSON (as a DLT may hold)."""

    def match(record: ConsumerRecord) -> bool:
        try:
            return bool(event_of(record).get("id") == event_id)
        except ValueError:
            return False

    return match


def headers_of(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


async def committed_offset(bootstrap: str, group: str, topic: str, partition: int) -> int | None:
    """The offset ``group`` has committed on one partition, if any."""
    admin = make_admin(access(bootstrap), client_id="mappa-tests")
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    meta = offsets.get(TopicPartition(topic, partition))
    return None if meta is None or meta.offset < 0 else int(meta.offset)


def caused_by(event_id: str, event_type: str) -> Callable[[ConsumerRecord], bool]:
    """Matches the event of ``event_type`` that the event ``event_id`` caused."""

    def match(record: ConsumerRecord) -> bool:
        event = event_of(record)
        return bool(event["type"] == event_type and event.get("causationid") == event_id)

    return match


def registered(event_id: str) -> Callable[[ConsumerRecord], bool]:
    """Matches the nominal-registered event that the agency event ``event_id`` caused."""
    return caused_by(event_id, type_of(NominalRegistered))
