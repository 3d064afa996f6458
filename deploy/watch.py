"""Watching topics from their current end, as a dashboard would: for the demo and the benchmark."""

import asyncio
import time

from aiokafka import ConsumerRecord, TopicPartition

from eventkit.broker import KafkaAccess, make_admin, make_reader
from eventkit.tasks import Loop

# How long a topic created a moment ago may take to be described with its partitions.
METADATA_SECONDS = 30.0


class Tail:
    """Reads new records on some topics, each with the moment it arrived.

    It takes every partition itself rather than join a consumer group: a
    watcher whose process is busy for a while (starting services, say) must
    not be dropped from a group and come back at the end, skipping records.
    """

    def __init__(self, kafka: KafkaAccess, *topics: str) -> None:
        self.arrivals: asyncio.Queue[tuple[ConsumerRecord, float]] = asyncio.Queue()
        self._topics = topics
        self._kafka = kafka
        self._consumer = make_reader(kafka, client_id="mappa-watch")
        self._loop = Loop(self._pump, "tail")

    async def start(self) -> None:
        """Returns once every partition is assigned and positioned at its end."""
        await self._consumer.start()
        self._consumer.assign(
            [
                TopicPartition(topic, partition)
                for topic in self._topics
                for partition in await partitions_of(self._kafka, topic)
            ]
        )
        await self._consumer.seek_to_end()
        for partition in self._consumer.assignment():
            await self._consumer.position(partition)
        self._loop.start()

    async def _pump(self) -> None:
        async for record in self._consumer:
            self.arrivals.put_nowait((record, time.monotonic()))

    async def stop(self) -> None:
        await self._loop.cancel()
        await self._consumer.stop()


async def partitions_of(kafka: KafkaAccess, topic: str) -> set[int]:
    """The partition numbers of ``topic``, once the broker knows them.

    A topic created a moment ago may be described without partitions for a
    while (its metadata is still spreading): ask again until it has some.
    """
    admin = make_admin(kafka, client_id="mappa-watch")
    await admin.start()
    deadline = time.monotonic() + METADATA_SECONDS
    try:
        while True:
            [description] = await admin.describe_topics([topic])
            if partitions := {p["partition"] for p in description["partitions"]}:
                return partitions
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: no partitions after {METADATA_SECONDS}s")
            await asyncio.sleep(0.1)  # polling the broker's metadata, not waiting for a fixed time
    finally:
        await admin.close()
