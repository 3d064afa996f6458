"""A rebuild merges partitions by a key (when the live service applied each record), keeping each
partition's own order, and lets nothing out while a partition still being read has nothing waiting."""

from aiokafka import ConsumerRecord, TopicPartition

from deploy.rebuild import InOrder

A, B = TopicPartition("t", 0), TopicPartition("t", 1)


def _record(tp: TopicPartition, offset: int, key: int) -> ConsumerRecord:
    return ConsumerRecord(tp.topic, tp.partition, offset, key, 0, None, b"", None, 0, 0, [])


def _taken(merged: InOrder, limit: int = 100) -> list[tuple[int, int]]:
    return [(r.partition, r.offset) for r in merged.take(limit)]


def _by_timestamp(record: ConsumerRecord) -> int:
    return int(record.timestamp)


def test_partitions_are_merged_by_key_and_wait_for_each_other() -> None:
    merged = InOrder([A, B], _by_timestamp)
    merged.add(A, [_record(A, 0, 10), _record(A, 1, 30)])
    assert merged.wanted() == [B]
    assert _taken(merged) == []  # B may yet hold an earlier one
    merged.add(B, [_record(B, 0, 20)])
    # A's 10 and B's 20 go; then B has nothing waiting and is still being read.
    assert _taken(merged) == [(0, 0), (1, 0)]
    merged.read_all(B)
    assert _taken(merged) == [(0, 1)]
    merged.read_all(A)
    assert merged.done()


def test_a_late_key_holds_back_the_rest_of_its_partition() -> None:
    merged = InOrder([A, B], _by_timestamp)
    # A's second record was applied late live (held, then released): A's third waits behind it.
    merged.add(A, [_record(A, 0, 10), _record(A, 1, 50), _record(A, 2, 20)])
    merged.add(B, [_record(B, 0, 30), _record(B, 1, 40)])
    merged.read_all(A)
    merged.read_all(B)
    assert _taken(merged) == [(0, 0), (1, 0), (1, 1), (0, 1), (0, 2)]


def test_at_most_the_limit_is_let_out() -> None:
    merged = InOrder([A], _by_timestamp)
    merged.add(A, [_record(A, n, n) for n in range(5)])
    merged.read_all(A)
    assert len(merged.take(2)) == 2
    assert len(merged.take(10)) == 3


def test_without_a_key_records_go_as_fetched() -> None:
    merged = InOrder([A, B], None)
    merged.add(A, [_record(A, 0, 50), _record(A, 1, 60)])
    assert merged.wanted() == []  # nothing to wait for: B's records may come later
    assert _taken(merged) == [(0, 0), (0, 1)]
    assert sorted(merged.wanted()) == [A, B]
