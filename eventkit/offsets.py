"""Commits consumed offsets in the background rather than after every message.

An offset is recorded only once its message has been applied (its
transaction committed) or dead-lettered, and is committed at the next tick,
so a committed offset never runs ahead of the work. A crash or rebalance
before the tick redelivers a few messages; the inbox makes those changes
nothing. Committing per message instead would halve a consumer's
throughput (a broker round trip per message).
"""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from eventkit.tasks import Loop

log = logging.getLogger(__name__)


class OffsetCommitter:
    def __init__(self, interval_seconds: float) -> None:
        self._interval = interval_seconds
        self._pending: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._loop = Loop(self._run, "offset-committer")

    def done(self, consumer: AIOKafkaConsumer, record: ConsumerRecord) -> None:
        """The record is applied or dead-lettered: its offset may be committed."""
        self._consumer = consumer
        self._pending[TopicPartition(record.topic, record.partition)] = record.offset + 1

    async def flush(self) -> None:
        consumer = self._consumer
        if consumer is None or not self._pending:
            return
        assigned = consumer.assignment()
        # Partitions taken away by a rebalance are the new owner's to commit.
        offsets = {tp: offset for tp, offset in self._pending.items() if tp in assigned}
        self._pending = {}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as error:
            log.warning("offset commit failed (%s); will retry", type(error).__name__)
            for tp, offset in offsets.items():
                self._pending.setdefault(tp, offset)

    def start(self) -> None:
        self._loop.start()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)  # a commit cadence, not a wait for an event
            await self.flush()

    async def stop(self) -> None:
        await self._loop.cancel()
        await self.flush()
