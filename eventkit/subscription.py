"""The consuming side of a service: one Kafka subscription feeding the Consumer batches.

FastStream's batch subscriber hands over what the broker has, up to a batch
size, waiting at most a short while when it has nothing. Offsets are
committed only for records the Consumer applied or dead-lettered, up to the
first in each partition it could do neither for (a dependency is down):
that partition is sought back to it and delivered again after a pause.
Offsets are flushed when partitions are revoked and when the service drains
for shutdown, so a routine restart or rebalance redelivers nothing.
"""

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter

from eventkit.broker import ACK_POLICY, AUTO_OFFSET_RESET, lenient_batch_parser
from eventkit.consumer import BatchResult, PlatformUnavailable
from eventkit.offsets import OffsetCommitter

log = logging.getLogger(__name__)


async def _records(msg: Any) -> Sequence[ConsumerRecord]:
    # The records themselves, undecoded: the kit decodes and validates them, so a
    # malformed message reaches our dead-letter path instead of failing early.
    # Handed over as the body, not asked for through FastStream's context: a
    # context parameter is resolved on a worker thread, a hop per batch.
    records: Sequence[ConsumerRecord] = msg.raw_message
    return records


class BatchConsumer(Protocol):
    """What applies a subscription's batches: the kit's Consumer, or a reader of raw records."""

    async def process_batch(self, records: Sequence[ConsumerRecord]) -> BatchResult: ...


def redelivered_counter(registry: CollectorRegistry) -> Counter:
    """The counter of records to be delivered again, one per service, shared by its subscriptions."""
    return Counter(
        "mappa_events_redelivered",
        "Messages neither applied nor dead-lettered (a dependency failed), to be delivered again",
        ["topic"],
        registry=registry,
    )


class _FlushOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, offsets: OffsetCommitter, failing: set[TopicPartition]) -> None:
        self._offsets = offsets
        self._failing = failing

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._offsets.flush()
        self._failing.difference_update(revoked)  # another member answers for them now

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass


class Subscription:
    def __init__(
        self,
        broker: KafkaBroker,
        topics: Sequence[str],
        *,
        group_id: str,
        consumer: BatchConsumer,
        redelivery_pause_seconds: float,
        commit_interval_seconds: float,
        batch_size: int,
        batch_wait_ms: int,
        fetch_min_bytes: int,
        fetch_wait_ms: int,
        redelivered: Counter,
        description: str,
    ) -> None:
        self.group_id = group_id
        self.topics = tuple(topics)
        self.consumer = consumer
        self.offsets = OffsetCommitter(commit_interval_seconds)
        self._pause = redelivery_pause_seconds
        self._idle = asyncio.Event()
        self._idle.set()
        # Partitions whose record could not be applied for a failing dependency, until one is.
        self.failing: set[TopicPartition] = set()
        self._redelivered = redelivered
        self._subscriber = broker.subscriber(
            *topics,
            group_id=group_id,
            batch=True,
            max_records=batch_size,
            batch_timeout_ms=batch_wait_ms,
            fetch_min_bytes=fetch_min_bytes,
            fetch_max_wait_ms=fetch_wait_ms,
            auto_offset_reset=AUTO_OFFSET_RESET,
            ack_policy=ACK_POLICY,
            parser=lenient_batch_parser,
            decoder=_records,
            listener=_FlushOnRevoke(self.offsets, self.failing),
            title=f"{group_id}:consume",
            description=description,
        )

        @self._subscriber
        async def on_batch(records: Any) -> None:
            self._idle.clear()
            try:
                await self._on_batch(records)
            finally:
                self._idle.set()

    async def _on_batch(self, records: Sequence[ConsumerRecord]) -> None:
        try:
            result = await self.consumer.process_batch(records)
        except Exception as error:  # a fault of the kit itself: nothing in the batch counts as done
            # By class only: an exception's text may quote the data.
            log.error(
                "batch of %d failed (%s); it will be delivered again", len(records), type(error).__name__
            )
            result = BatchResult([None] * len(records), PlatformUnavailable(type(error).__name__))
        consumer = self._subscriber.consumer
        assert consumer is not None
        # Per partition, the first record to be delivered again; those before it are done.
        again: dict[TopicPartition, ConsumerRecord] = {}
        for record, outcome in zip(records, result.outcomes, strict=True):
            tp = TopicPartition(record.topic, record.partition)
            if tp in again:
                continue
            if outcome is None:
                again[tp] = record
            else:
                self.offsets.done(consumer, record)
        self.failing.difference_update({TopicPartition(r.topic, r.partition) for r in records} - again.keys())
        if not again:
            return
        self.failing.update(again)
        for tp, record in again.items():
            self._redelivered.labels(record.topic).inc()
            log.warning(
                "%s[%d]@%d not applied, will be delivered again: %s",
                record.topic, record.partition, record.offset, result.unavailable,
            )  # fmt: skip
            if tp in consumer.assignment():  # a rebalance may have taken it meanwhile
                consumer.seek(tp, record.offset)
        await asyncio.sleep(self._pause)  # let the failing dependency recover

    def start(self) -> None:
        self.offsets.start()

    async def drain(self, grace_seconds: float) -> None:
        """Stop taking records, let the batch in hand finish, commit what was done."""
        consumer = self._subscriber.consumer
        if consumer is not None:
            consumer.pause(*consumer.assignment())
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
        except TimeoutError:
            log.warning("a batch was still being applied after %ss; it will be redelivered", grace_seconds)
        await self.offsets.stop()
