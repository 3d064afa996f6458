"""Operations' wire to Kafka beyond its subscriptions: one dead letter read back, and the offsets the
pipeline view is drawn from (topics' ends, consumer groups' commits), read with the admin API."""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from eventkit.broker import KafkaAccess, make_admin, make_reader

READ_TIMEOUT_SECONDS = 10.0


async def read_one(kafka: KafkaAccess, topic: str, partition: int, offset: int) -> ConsumerRecord | None:
    """The record at ``offset``, or None if the topic no longer holds it (or never did)."""
    tp = TopicPartition(topic, partition)
    consumer = make_reader(kafka, client_id="mappa-operations-reader", max_records=1)
    try:
        await consumer.start()
        consumer.assign([tp])
        start = (await consumer.beginning_offsets([tp]))[tp]
        end = (await consumer.end_offsets([tp]))[tp]
        if not start <= offset < end:
            return None
        consumer.seek(tp, offset)
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            while True:
                for record in (await consumer.getmany(tp, timeout_ms=1000, max_records=1)).get(tp, []):
                    # A later offset: compacted away, or a transaction marker.
                    return record if record.offset == offset else None
    except TimeoutError:
        return None
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class Offsets:
    """Where each partition of the platform's topics ends, and where each consumer group has got to."""

    ends: dict[TopicPartition, int]
    committed: dict[str, dict[TopicPartition, int]]


class OffsetReader:
    """Reads offsets with one admin client and one group-less consumer, kept open between samples."""

    def __init__(self, kafka: KafkaAccess) -> None:
        self._kafka = kafka
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        # The topics' partitions, as last described (looked up again when a topic is missing).
        self._partitions: list[TopicPartition] | None = None

    async def read(self, topics: Iterable[str], groups: Iterable[str]) -> Offsets:
        if self._admin is None or self._consumer is None:
            self._admin, self._consumer = await self._open()
        topics = list(topics)
        if self._partitions is None or not set(topics) <= {tp.topic for tp in self._partitions}:
            described = await self._admin.describe_topics(topics)
            self._partitions = [
                TopicPartition(topic["topic"], partition["partition"])
                for topic in described
                if topic["error_code"] == 0
                for partition in topic["partitions"]
            ]
        partitions = self._partitions
        ends = await self._consumer.end_offsets(partitions) if partitions else {}
        committed = {}
        for group in groups:
            found = await self._admin.list_consumer_group_offsets(group)
            committed[group] = {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}
        return Offsets(ends=dict(ends), committed=committed)

    async def _open(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        admin = make_admin(self._kafka, client_id="mappa-operations-admin")
        consumer = make_reader(self._kafka, client_id="mappa-operations-offsets")
        try:
            await admin.start()
            await consumer.start()
        except BaseException:
            await consumer.stop()
            await admin.close()
            raise
        return admin, consumer

    async def close(self) -> None:
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()
