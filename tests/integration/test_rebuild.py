"""Rebuilding from the log on the real broker: topics that hold nothing are passed over."""

import uuid
from collections.abc import Sequence

import pytest
from aiokafka import ConsumerRecord
from tqdm import tqdm

from deploy.rebuild import replay_topics
from eventkit.broker import ensure_topics
from eventkit.consumer import BatchResult
from tests.support.kafka import access, publish


class Kept:
    def __init__(self) -> None:
        self.records: list[ConsumerRecord] = []

    async def process_batch(self, records: Sequence[ConsumerRecord]) -> BatchResult:
        self.records += records
        return BatchResult(["applied"] * len(records))


@pytest.mark.kafka
async def test_every_record_is_applied_in_order_and_empty_topics_are_passed_over(
    kafka_bootstrap: str,
) -> None:
    empty, full = f"rebuild-empty-{uuid.uuid4().hex}", f"rebuild-full-{uuid.uuid4().hex}"
    await ensure_topics(access(kafka_bootstrap), [empty, full], partitions=2, replication_factor=1)
    for n in range(5):
        await publish(kafka_bootstrap, full, f"{n}".encode(), key="one key")
    kept = Kept()
    with tqdm(total=0, disable=True) as bar:
        assert await replay_topics(access(kafka_bootstrap), [empty], kept, bar) == (0, 0)
        assert await replay_topics(access(kafka_bootstrap), [empty, full], kept, bar) == (5, 0)
    assert [r.value for r in kept.records] == [b"0", b"1", b"2", b"3", b"4"]
