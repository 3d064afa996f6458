"""Two settings aiokafka 0.14 offers no option for, made on its internals: an upgrade that moves
them must fail here, not silently bring back a reconnect storm or a stuck relay."""

import math

from aiokafka.client import AIOKafkaClient

from eventkit.broker import make_producer


def test_a_failed_metadata_update_backs_off_before_it_is_retried() -> None:
    assert getattr(AIOKafkaClient._metadata_update, "backs_off", False)


async def test_the_relay_producer_keeps_its_batches_through_an_outage() -> None:
    producer = make_producer(
        "127.0.0.1:9", client_id="t", max_message_bytes=262_144, request_timeout_seconds=40
    )
    assert producer._message_accumulator._batch_ttl == math.inf
    assert producer.client._retry_backoff == 0.5
