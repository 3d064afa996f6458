"""What a batch leaves to be delivered again: offsets and seeks per partition, without a broker."""

from collections.abc import Sequence

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from eventkit.consumer import BatchResult, Outcome, PlatformUnavailable
from eventkit.subscription import Subscription, redelivered_counter


def _record(partition: int, offset: int) -> ConsumerRecord:
    return ConsumerRecord(
        topic="agency.police.v1", partition=partition, offset=offset, timestamp=0, timestamp_type=0,
        key=b"k", value=b"{}", checksum=None, serialized_key_size=1, serialized_value_size=2, headers=[],
    )  # fmt: skip


class FakeKafkaConsumer:
    """The aiokafka consumer calls a subscription makes after a batch."""

    def __init__(self, partitions: set[TopicPartition]) -> None:
        self.partitions = partitions
        self.sought: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return self.partitions

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.sought[tp] = offset


class Scripted:
    """A Consumer whose batch result is given, or which fails outright."""

    def __init__(self, outcomes: list[Outcome | None] | None) -> None:
        self.outcomes = outcomes

    async def process_batch(self, records: Sequence[ConsumerRecord]) -> BatchResult:
        if self.outcomes is None:
            raise KeyError("2003/0012345N")  # a fault of the kit, quoting data
        return BatchResult(self.outcomes, PlatformUnavailable("OperationalError"))


def _subscription(consumer: Scripted, kafka: FakeKafkaConsumer) -> Subscription:
    subscription = Subscription(
        KafkaBroker("127.0.0.1:1"), ["agency.police.v1"], group_id="mappa-test",
        consumer=consumer,
        redelivery_pause_seconds=0, commit_interval_seconds=1, batch_size=10, batch_wait_ms=10,
        fetch_min_bytes=1, fetch_wait_ms=10,
        redelivered=redelivered_counter(CollectorRegistry()), description="test",
    )  # fmt: skip
    subscription._subscriber.consumer = kafka
    return subscription


async def test_offsets_stop_at_the_first_record_of_each_partition_to_be_delivered_again() -> None:
    batch = [_record(0, 10), _record(1, 20), _record(0, 11), _record(1, 21), _record(0, 12)]
    kafka = FakeKafkaConsumer({TopicPartition("agency.police.v1", 0), TopicPartition("agency.police.v1", 1)})
    subscription = _subscription(Scripted(["applied", "applied", None, "applied", "applied"]), kafka)
    await subscription._on_batch(batch)
    p0, p1 = TopicPartition("agency.police.v1", 0), TopicPartition("agency.police.v1", 1)
    # Partition 0 again from 11 (12 was applied, but comes after it); partition 1 all done.
    assert kafka.sought == {p0: 11}
    assert subscription.offsets._pending == {p0: 11, p1: 22}
    assert subscription.failing == {p0}


async def test_a_batch_that_fails_outright_is_delivered_again_whole(caplog: pytest.LogCaptureFixture) -> None:
    batch = [_record(0, 10), _record(0, 11)]
    p0 = TopicPartition("agency.police.v1", 0)
    kafka = FakeKafkaConsumer({p0})
    subscription = _subscription(Scripted(None), kafka)
    await subscription._on_batch(batch)
    assert kafka.sought == {p0: 10}
    assert subscription.offsets._pending == {}
    assert "KeyError" in caplog.text
    assert "2003/0012345N" not in caplog.text


async def test_a_partition_taken_by_a_rebalance_is_not_sought() -> None:
    kafka = FakeKafkaConsumer(set())
    subscription = _subscription(Scripted([None]), kafka)
    await subscription._on_batch([_record(3, 5)])
    assert kafka.sought == {}
