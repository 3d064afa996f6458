"""Kafka with safe defaults, and the platform's topics created explicitly."""

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from eventkit.telemetry import KafkaTracing

log = logging.getLogger(__name__)

# Offsets are committed by eventkit.offsets once each message is applied or
# dead-lettered, never before; FastStream's own per-message commit is off.
ACK_POLICY = AckPolicy.MANUAL
AUTO_OFFSET_RESET: Literal["earliest"] = "earliest"


def make_broker(
    bootstrap_servers: str,
    *,
    client_id: str,
    tracer_provider: TracerProvider,
    registry: CollectorRegistry,
    max_message_bytes: int,
) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        max_request_size=max(max_message_bytes * 2, 1024 * 1024),
        allow_auto_create_topics=False,  # topics are created explicitly, by ensure_topics
        graceful_timeout=15.0,
        # Per-message "received/processed" lines only at DEBUG; failures still log.
        log_level=logging.DEBUG,
        middlewares=(
            KafkaTracing(tracer_provider),
            KafkaPrometheusMiddleware(registry=registry, app_name=client_id, metrics_prefix="mappa"),
        ),
    )


async def lenient_parser(
    record: ConsumerRecord, original: Callable[[ConsumerRecord], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """FastStream's parser, given only headers it can read and none that carry baggage.

    FastStream decodes every header as UTF-8 before the handler runs; one it
    cannot decode would make it skip the message. Baggage is dropped so that
    nothing an agency put there travels on with our own publishes.
    """
    headers = [
        (name, value)
        for name, value in record.headers or ()
        if name != "baggage" and value is not None and _is_utf8(value)
    ]
    return await original(dataclasses.replace(record, headers=headers))


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


async def ensure_topics(
    bootstrap_servers: str, names: Iterable[str], *, partitions: int, replication_factor: int
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="mappa-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [n for n in dict.fromkeys(names) if n not in existing]
        if wanted:
            response = await admin.create_topics(
                [
                    NewTopic(n, num_partitions=partitions, replication_factor=replication_factor)
                    for n in wanted
                ]
            )
            for name, code, *_ in response.topic_errors:
                # 36: TOPIC_ALREADY_EXISTS, when another service created it first.
                if code not in (0, 36):
                    raise RuntimeError(f"could not create topic {name}: error code {code}")
            log.info("created %d topics", len(wanted))
        return wanted
    finally:
        await admin.close()
