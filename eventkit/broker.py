"""Kafka with safe defaults, and the platform's topics created explicitly."""

import asyncio
import dataclasses
import functools
import logging
import math
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from aiokafka.helpers import create_ssl_context
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.security import parse_security
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.security import BaseSecurity, SASLScram512
from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)

# Offsets are committed by eventkit.offsets once each message is applied or
# dead-lettered, never before; FastStream's own per-message commit is off.
ACK_POLICY = AckPolicy.MANUAL
AUTO_OFFSET_RESET: Literal["earliest"] = "earliest"

# How long every Kafka client (producer, consumer, admin) waits before retrying a failed request or
# reconnecting; aiokafka's default of 100 ms makes an outage a storm of reconnects and log lines.
# (aiokafka 0.14 has no reconnect_backoff_ms: retry_backoff_ms is the one knob, see below.)
RETRY_BACKOFF_MS = 500
# How long a service waits at start for its consumer group's coordinator (a new cluster elects one).
COORDINATOR_WAIT_SECONDS = 60.0


def _back_off_failed_metadata_updates() -> None:
    """Makes a failed metadata update wait ``retry_backoff_ms`` before its waiters retry.

    aiokafka 0.14 retries at once: a producer holding a batch for a partition
    whose leader it lost (the broker went away while it was sending) asks for
    metadata again the moment the last request failed, thousands of times a
    second, each time logging "Unable connect" and "Unable to update
    metadata" (aio-libs/aiokafka#267). Waiting here, in the one task that
    updates metadata, paces everything that waits for it.
    """
    update = AIOKafkaClient._metadata_update
    if getattr(update, "backs_off", False):
        return

    @functools.wraps(update)
    async def backing_off(self: Any, cluster_metadata: Any, topics: Any) -> Any:
        updated = await update(self, cluster_metadata, topics)
        if not updated:
            await asyncio.sleep(self._retry_backoff)
        return updated

    backing_off.backs_off = True  # type: ignore[attr-defined]
    AIOKafkaClient._metadata_update = backing_off


_back_off_failed_metadata_updates()


@dataclass(frozen=True)
class KafkaAccess:
    """Where the brokers are, and who this client is to them: a SCRAM-SHA-512 principal, over TLS
    when a CA file is given. With no principal it connects unauthenticated (a broker that allows it).
    """

    bootstrap_servers: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl_cafile: Path | None = None

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password is None):
            raise ValueError("a Kafka principal needs both a username and a password")

    def options(self) -> dict[str, Any]:
        """The connection settings every aiokafka client takes (FastStream maps its security to them)."""
        return {"bootstrap_servers": self.bootstrap_servers, **parse_security(self.security())}

    def security(self) -> BaseSecurity | None:
        context = self._ssl_context()
        if self.username is not None and self.password is not None:
            return SASLScram512(
                self.username, self.password, ssl_context=context, use_ssl=context is not None
            )
        return BaseSecurity(ssl_context=context, use_ssl=True) if context is not None else None

    def librdkafka(self) -> dict[str, Any]:
        """The same connection in librdkafka's words (confluent-kafka's admin client, for ACLs)."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers}
        tls = self.ssl_cafile is not None
        if self.username is not None:
            config |= {
                "security.protocol": "SASL_SSL" if tls else "SASL_PLAINTEXT",
                "sasl.mechanisms": "SCRAM-SHA-512",
                "sasl.username": self.username,
                "sasl.password": self.password,
            }
        elif tls:
            config["security.protocol"] = "SSL"
        if tls:
            config["ssl.ca.location"] = str(self.ssl_cafile)
        return config

    def _ssl_context(self) -> ssl.SSLContext | None:
        return create_ssl_context(cafile=str(self.ssl_cafile)) if self.ssl_cafile else None

    @property
    def who(self) -> str:
        """Who connects where, for logs (no password)."""
        return f"{self.username or 'no principal'} at {self.bootstrap_servers}"


def group_of(service: str, purpose: str | None = None) -> str:
    """The consumer group a service's replicas share for the topics it consumes (or for a
    ``purpose`` of its own, read in a group apart)."""
    return f"mappa-{service}" + (f"-{purpose}" if purpose else "")


def producer_options(max_message_bytes: int) -> dict[str, Any]:
    """The platform's producer settings, for FastStream's producer and the outbox relay's alike."""
    return {
        "acks": "all",
        "enable_idempotence": True,
        "max_request_size": max(max_message_bytes * 2, 1024 * 1024),
    }


def make_producer(
    kafka: KafkaAccess, *, client_id: str, max_message_bytes: int, request_timeout_seconds: float
) -> AIOKafkaProducer:
    """The outbox relay's aiokafka producer, with the platform's settings (not started).

    Its batches wait for their partition's leader as long as it takes. aiokafka
    would otherwise fail a batch whose partition has had no leader for
    ``request_timeout_ms`` (as when the broker goes away during a controlled
    shutdown), after giving it a sequence number: the broker may have
    written it already (so sending it again would publish it twice), or not
    (and then it refuses every later batch for that partition with
    OutOfOrderSequenceNumber). Waiting keeps the producer id and sequence
    numbers across an outage, so the broker takes each record exactly once
    when it is back; /health reports the relay stalled meanwhile.
    """
    producer = AIOKafkaProducer(
        **kafka.options(),
        client_id=client_id,
        request_timeout_ms=int(request_timeout_seconds * 1000),
        retry_backoff_ms=RETRY_BACKOFF_MS,
        **producer_options(max_message_bytes),
    )
    # aiokafka 0.14 has no setting for this (its batch lifetime is the request timeout).
    producer._message_accumulator._batch_ttl = math.inf
    return producer


def make_reader(kafka: KafkaAccess, *, client_id: str, max_records: int = 500) -> AIOKafkaConsumer:
    """A consumer in no group that commits nothing (not started): it reads partitions it is assigned,
    from where it is told, for tools that look at topics rather than consume them."""
    return AIOKafkaConsumer(
        **kafka.options(),
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        retry_backoff_ms=RETRY_BACKOFF_MS,
        max_poll_records=max_records,
    )


def make_admin(kafka: KafkaAccess, *, client_id: str) -> AIOKafkaAdminClient:
    """An admin client (not started) with the platform's retry settings."""
    return AIOKafkaAdminClient(**kafka.options(), client_id=client_id, retry_backoff_ms=RETRY_BACKOFF_MS)


def make_broker(
    kafka: KafkaAccess,
    *,
    client_id: str,
    registry: CollectorRegistry,
    max_message_bytes: int,
) -> KafkaBroker:
    return KafkaBroker(
        kafka.bootstrap_servers,
        security=kafka.security(),
        client_id=client_id,
        retry_backoff_ms=RETRY_BACKOFF_MS,
        **producer_options(max_message_bytes),
        allow_auto_create_topics=False,  # topics are created explicitly, by ensure_topics
        graceful_timeout=15.0,
        # Per-message "received/processed" lines only at DEBUG; failures still log.
        log_level=logging.DEBUG,
        # The kit makes the spans: one per event applied (consumer) and published (publisher).
        middlewares=(
            KafkaPrometheusMiddleware(registry=registry, app_name=client_id, metrics_prefix="mappa"),
        ),
    )


async def lenient_batch_parser(
    records: tuple[ConsumerRecord, ...],
    original: Callable[[tuple[ConsumerRecord, ...]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's batch parser, given only headers it can read.

    FastStream decodes every header as UTF-8 before the handler runs; one it
    cannot decode would make it drop the whole batch.
    """
    return await original(tuple(_readable(record) for record in records))


def _readable(record: ConsumerRecord) -> ConsumerRecord:
    headers = record.headers or ()
    if all(value is not None and _is_utf8(value) for _, value in headers):
        return record
    return dataclasses.replace(record, headers=[(n, v) for n, v in headers if v is not None and _is_utf8(v)])


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


async def ensure_topics(
    kafka: KafkaAccess,
    names: Iterable[str],
    *,
    partitions: int,
    replication_factor: int,
    groups: Iterable[str] = (),
) -> list[str]:
    """Create the topics that do not exist yet, then wait for the ``groups``' coordinators.

    Returns the names created. A principal sees only the topics it may use: a service's names
    are those it reads and writes, and they exist already where a provisioner created them (it
    may not create topics itself). Waiting for the coordinators spares a consumer
    starting on a new cluster its retries (and their ERROR lines) while the
    broker creates ``__consumer_offsets`` and elects them.
    """
    admin = make_admin(kafka, client_id="mappa-topics")
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
                if code == TopicAuthorizationFailedError.errno:
                    raise RuntimeError(
                        f"topic {name} does not exist, and {kafka.username} may not create it: "
                        "the platform's topics are created when the broker is provisioned"
                    )
                if code not in (0, 36):
                    raise RuntimeError(f"could not create topic {name}: error code {code}")
            log.info("created %d topics", len(wanted))
        for group in groups:
            await _wait_for_coordinator(admin, group)
        return wanted
    finally:
        await admin.close()


async def _wait_for_coordinator(admin: AIOKafkaAdminClient, group: str) -> None:
    """Until the broker names a coordinator for ``group``; after a while the consumer retries itself."""
    try:
        async with asyncio.timeout(COORDINATOR_WAIT_SECONDS):
            while True:
                try:
                    await admin.find_coordinator(group)
                    return
                except KafkaError as error:
                    if not error.retriable:
                        raise
                await asyncio.sleep(0.1)  # a healthy broker electing: ask again soon, nothing is logged
    except TimeoutError:
        log.warning(
            "no coordinator for group %s after %.0fs; its consumer will keep asking",
            group,
            COORDINATOR_WAIT_SECONDS,
        )
