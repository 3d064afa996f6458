"""Test access to the real broker: start it, publish raw bytes, read topics back."""

import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import RecordMetadata

from deploy.watch import partitions_of
from schemas.catalogue import type_of
from schemas.events.registry import NominalRegistered

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = ROOT / "deploy" / "kafka.sh"


def start_broker(state_dir: Path, port: int, controller_port: int) -> dict[str, str]:
    env = os.environ | {
        "MAPPA_KAFKA_DIR": str(state_dir),
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
    }
    subprocess.run(["bash", str(KAFKA_SCRIPT), "start"], check=True, env=env)
    return env


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
) -> RecordMetadata:
    """Publish as any agency's Kafka client would; returns where the record landed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
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


@asynccontextmanager
async def _from_beginning(bootstrap: str, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A group-less consumer on every partition of ``topic``, at the earliest offsets."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
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
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
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
