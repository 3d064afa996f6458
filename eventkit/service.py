"""A platform service assembled from the kit: what every service runs the same way.

A service names what it consumes, what it produces and its handlers; this
module wires the database, the broker, the inbox/outbox, dead letters,
telemetry and HTTP around them.
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import uvicorn
from aiokafka import ConsumerRecord
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.specification import AsyncAPI
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData

from eventkit.broker import ACK_POLICY, AUTO_OFFSET_RESET, ensure_topics, make_broker
from eventkit.consumer import Consumer, ConsumerConfig, Handler
from eventkit.db import Database
from eventkit.deadletter import dead_letter_topic
from eventkit.http import build_http_app
from eventkit.offsets import OffsetCommitter
from eventkit.outbox import OutboxRecord, OutboxRelay
from eventkit.settings import Settings
from eventkit.telemetry import setup_tracing
from schemas.catalogue import Topic, all_topic_names
from schemas.envelope import CONTENT_TYPE

log = logging.getLogger(__name__)


async def _raw_body(msg: Any) -> bytes:
    # Leave the bytes alone: the kit decodes and validates them itself, so a
    # malformed message reaches our dead-letter path instead of failing early.
    body: bytes = msg.body
    return body


class Service:
    def __init__(
        self,
        name: str,
        *,
        metadata: MetaData,
        consumes: Sequence[Topic],
        produces: Sequence[Topic],
        handlers: Mapping[str, Handler],
        settings: Settings | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.name = name
        self.settings = settings or Settings(name)
        platform = self.settings.platform
        self._metadata = metadata
        self.registry = CollectorRegistry()
        self.tracer_provider = tracer_provider or setup_tracing(
            name, platform.agency, platform.otel_traces_exporter
        )
        self.db = Database(self.settings.database_url)
        self.broker: KafkaBroker = make_broker(
            platform.kafka_bootstrap_servers,
            client_id=f"mappa-{name}",
            tracer_provider=self.tracer_provider,
            registry=self.registry,
            max_message_bytes=platform.max_message_bytes,
        )
        self._publishers: dict[str, DefaultPublisher] = {
            topic.name: self.broker.publisher(
                topic.name,
                title=f"{topic.name}:publish",
                description=f"Events: {', '.join(topic.event_types)}. Key: {topic.key}.",
                schema=topic.envelopes,
            )
            for topic in produces
        }
        self.offsets = OffsetCommitter(self.settings.own.offset_commit_seconds)
        self.relay = OutboxRelay(
            self.db,
            self._send,
            batch_size=self.settings.own.outbox_batch_size,
            poll_seconds=self.settings.own.outbox_poll_seconds,
        )
        self.consumer = Consumer(
            ConsumerConfig(
                name=name,
                source=f"/mappa/{name}",
                max_attempts=platform.max_attempts,
                retry_backoff_seconds=platform.retry_backoff_seconds,
                max_message_bytes=platform.max_message_bytes,
            ),
            self.db,
            handlers,
            self._dead_letter,
            self.relay.wake,
            self.registry,
        )
        if consumes:
            subscriber = self.broker.subscriber(
                *(topic.name for topic in consumes),
                group_id=f"mappa-{name}",
                auto_offset_reset=AUTO_OFFSET_RESET,
                ack_policy=ACK_POLICY,
                decoder=_raw_body,
                title=f"{name}:consume",
                description="Consumes: "
                + "; ".join(f"{t.name} ({', '.join(t.event_types) or 'none yet'})" for t in consumes),
            )

            @subscriber
            async def on_message(msg: KafkaMessage) -> None:
                record: ConsumerRecord = msg.raw_message
                try:
                    await self.consumer.process(record)
                except Exception as error:
                    # Not applied and not dead-lettered (a dependency is down):
                    # pause, then seek back so the same message comes again.
                    log.warning(
                        "%s[%d]@%d will be redelivered: %s",
                        record.topic, record.partition, record.offset, type(error).__name__,
                    )  # fmt: skip
                    await asyncio.sleep(platform.retry_backoff_seconds * 2**platform.max_attempts)
                    await msg.nack()
                    return
                self.offsets.done(msg.consumer, record)

        self.asyncapi = AsyncAPI(
            self.broker,
            title=f"MAPPA {name}",
            version="1.0.0",
            description=f"Events consumed and produced by the MAPPA {name} service.",
        )

    async def _send(self, record: OutboxRecord) -> Any:
        return await self._publishers[record.topic].publish(
            record.payload,
            key=record.key.encode(),
            headers={"content-type": CONTENT_TYPE, "ce_id": record.event_id},
            no_confirm=True,
        )

    async def _dead_letter(self, topic: str, record: ConsumerRecord, headers: dict[str, str]) -> None:
        assert topic == dead_letter_topic(record.topic)
        await self.broker.publish(record.value or b"", topic, key=record.key, headers=headers)

    async def start(self) -> None:
        platform = self.settings.platform
        await self.db.create_schema(self._metadata)
        await ensure_topics(
            platform.kafka_bootstrap_servers,
            all_topic_names(),
            partitions=platform.topic_partitions,
            replication_factor=platform.topic_replication_factor,
        )
        await self.broker.start()
        self.offsets.start()
        if self.settings.own.outbox_relay:
            self.relay.start()
        log.info("%s started", self.name)

    async def stop(self) -> None:
        await self.relay.stop()
        await self.offsets.stop()
        await self.broker.stop()
        await self.db.dispose()
        log.info("%s stopped", self.name)

    async def _broker_ok(self) -> bool:
        return await self.broker.ping(timeout=2.0)

    async def _database_ok(self) -> bool:
        await self.db.ping()
        return True

    def http_app(self) -> FastAPI:
        return build_http_app(
            title=f"MAPPA {self.name}",
            registry=self.registry,
            asyncapi=self.asyncapi,
            checks={"broker": self._broker_ok, "database": self._database_ok},
            start=self.start,
            stop=self.stop,
        )

    def run(self) -> None:
        logging.basicConfig(
            level=self.settings.platform.log_level,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
        uvicorn.run(
            self.http_app(),
            host=self.settings.own.http_host,
            port=self.settings.http_port,
            log_level=self.settings.platform.log_level.lower(),
            access_log=False,
        )
