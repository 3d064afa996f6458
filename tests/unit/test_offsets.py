"""Offsets are committed only for applied records, and only for partitions still assigned."""

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError

from eventkit.offsets import OffsetCommitter


class Consumer:
    def __init__(self, assigned: set[TopicPartition], fail: bool = False) -> None:
        self.assigned = assigned
        self.fail = fail
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.fail:
            raise KafkaConnectionError()
        self.commits.append(offsets)


def _record(partition: int, offset: int) -> ConsumerRecord:
    return ConsumerRecord(
        topic="t", partition=partition, offset=offset, timestamp=0, timestamp_type=0, key=None,
        value=b"", checksum=None, serialized_key_size=0, serialized_value_size=0, headers=[],
    )  # fmt: skip


async def test_the_next_offset_after_the_last_applied_record_is_committed() -> None:
    consumer = Consumer({TopicPartition("t", 0), TopicPartition("t", 1)})
    committer = OffsetCommitter(interval_seconds=60)
    for offset in (4, 5, 6):
        committer.done(consumer, _record(0, offset))
    committer.done(consumer, _record(1, 9))
    await committer.flush()
    await committer.flush()  # nothing new: no second commit
    assert consumer.commits == [{TopicPartition("t", 0): 7, TopicPartition("t", 1): 10}]


async def test_partitions_lost_to_a_rebalance_are_left_to_their_new_owner() -> None:
    consumer = Consumer({TopicPartition("t", 1)})
    committer = OffsetCommitter(interval_seconds=60)
    committer.done(consumer, _record(0, 3))
    committer.done(consumer, _record(1, 3))
    await committer.flush()
    assert consumer.commits == [{TopicPartition("t", 1): 4}]


async def test_a_failed_commit_is_retried_without_overtaking_newer_offsets() -> None:
    consumer = Consumer({TopicPartition("t", 0)}, fail=True)
    committer = OffsetCommitter(interval_seconds=60)
    committer.done(consumer, _record(0, 3))
    await committer.flush()
    committer.done(consumer, _record(0, 8))
    consumer.fail = False
    await committer.flush()
    assert consumer.commits == [{TopicPartition("t", 0): 9}]
