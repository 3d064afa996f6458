"""A platform service assembled from the kit: what every service runs the same way.

A service names what it consumes, what it produces and its handlers; this
module wires the database, the broker, the inbox/outbox, dead letters,
telemetry and HTTP around them.
"""

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

import uvicorn
from aiokafka import ConsumerRecord
from fastapi import APIRouter, FastAPI, Request, Response
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.specification import AsyncAPI
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData

from eventkit import migrations
from eventkit.broker import ensure_topics, group_of, make_broker, make_producer
from eventkit.clock import Clock, ahead, system_clock
from eventkit.consumer import Consumer, ConsumerConfig, Handler
from eventkit.db import Database
from eventkit.deadletter import dead_letter_topic
from eventkit.http import build_http_app
from eventkit.inbox import retention
from eventkit.logs import configure_logging
from eventkit.migrations import Schema
from eventkit.outbox import OutboxRelay, wake_on_commit
from eventkit.policy import AreaPolicies
from eventkit.publisher import DeadLetterPublisher, OutboxPublisher
from eventkit.scheduler import Job, Scheduler
from eventkit.settings import Settings
from eventkit.subscription import BatchConsumer, Subscription, redelivered_counter
from eventkit.telemetry import setup_tracing
from schemas.catalogue import Topic

log = logging.getLogger(__name__)


SHUTDOWN_GRACE_SECONDS = 10.0


class Background(Protocol):
    """A service's own long-running part (a sender, say): started after the kit's, stopped before."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class Service:
    def __init__(
        self,
        name: str,
        *,
        metadata: MetaData,
        consumes: Sequence[Topic],
        produces: Sequence[Topic],
        handlers: Mapping[str, Handler],
        api: Sequence[APIRouter] = (),
        jobs: Sequence[Job] = (),
        policies: AreaPolicies[Any] | None = None,
        clock: Clock = system_clock,
        settings: Settings | None = None,
        tracer_provider: TracerProvider | None = None,
        schema: Schema | None = None,
    ) -> None:
        self.name = name
        self.metadata = metadata
        # Its migrations: services/<name>/migrations unless it borrows another's (a test's service).
        self.schema = schema or Schema(name, metadata)
        # What it reads and which event types it handles: the catalogue's consumer lists must match.
        self.consumes = tuple(consumes)
        self.handles = frozenset(handlers)
        self._api = api
        self.settings = settings or Settings(name)
        platform = self.settings.platform
        offset = self.settings.own.clock_offset_days
        self.clock = ahead(clock, offset) if offset else clock
        self.policies = policies
        self.registry = CollectorRegistry()
        self.tracer_provider = tracer_provider or setup_tracing(
            name, platform.agency, platform.otel_traces_exporter
        )
        self.db = Database(self.settings.database_url)
        self.broker: KafkaBroker = make_broker(
            self.settings.kafka,
            client_id=f"mappa-{name}",
            registry=self.registry,
            max_message_bytes=platform.max_message_bytes,
        )
        # Declared for the AsyncAPI document; the relay publishes through a producer of its own.
        self._publishers: dict[str, DefaultPublisher] = {
            topic.name: self.broker.publisher(
                topic.name,
                title=f"{topic.name}:publish",
                description=f"Events: {', '.join(topic.event_types)}. Key: {topic.key}.",
                schema=topic.envelopes,
            )
            for topic in produces
        }

        def producers(purpose: str) -> functools.partial[Any]:
            return functools.partial(
                make_producer,
                self.settings.kafka,
                client_id=f"mappa-{name}-{purpose}",
                max_message_bytes=platform.max_message_bytes,
                request_timeout_seconds=platform.producer_request_timeout_seconds,
            )

        self.publisher = OutboxPublisher(
            producers("outbox"), tracer_provider=self.tracer_provider, registry=self.registry
        )
        self.dead_letters = DeadLetterPublisher(producers("dlt"), registry=self.registry)
        self.relay = OutboxRelay(
            self.db,
            self.publisher.send,
            on_failure=self.publisher.restart,
            batch_size=self.settings.own.outbox_batch_size,
            poll_seconds=self.settings.own.outbox_poll_seconds,
            stall_seconds=self.settings.own.outbox_stall_seconds,
            registry=self.registry,
        )
        self.handlers = handlers
        self.consumer_config = ConsumerConfig(
            name=name,
            source=f"/mappa/{name}",
            max_attempts=platform.max_attempts,
            retry_backoff_seconds=platform.retry_backoff_seconds,
            max_message_bytes=platform.max_message_bytes,
            policies=policies,
            clock=self.clock,
            max_clock_skew=timedelta(seconds=platform.max_clock_skew_seconds),
        )
        self.consumer = Consumer(
            self.consumer_config,
            self.db,
            handlers,
            self._dead_letter,
            self.registry,
            self.tracer_provider.get_tracer("eventkit.consumer"),
        )
        wake_on_commit(self.db, self.relay.wake)
        # Hourly, by the wall clock: the claims' age is real time, whatever the rules' clock says.
        self.retention = Scheduler(
            self.db,
            retention(self.settings.own.inbox_retention_days),
            source=f"/mappa/{name}",
            interval_seconds=3600.0,
        )
        self.schedulers = [
            Scheduler(
                self.db,
                job,
                source=f"/mappa/{name}",
                clock=self.clock,
                interval_seconds=self.settings.own.schedule_seconds,
            )
            for job in jobs
        ]
        self._redelivered = redelivered_counter(self.registry)
        self.subscription = (
            self._subscribe(
                [topic.name for topic in consumes],
                group_id=group_of(name),
                consumer=self.consumer,
                description="Consumes: "
                + "; ".join(f"{t.name} ({', '.join(t.event_types) or 'none yet'})" for t in consumes),
            )
            if consumes
            else None
        )
        # Subscriptions of the service's own beyond its events' (operations reads the dead letters).
        self._more_subscriptions: list[Subscription] = []

        self._background: list[Background] = []
        # A service's own parts its routes reach through ``request.app.state``, and its own error pages.
        self.app_state: dict[str, object] = {}
        self.exception_handlers: dict[Any, Callable[[Request, Any], Awaitable[Response]]] = {}
        self.asyncapi = AsyncAPI(
            self.broker,
            title=f"MAPPA {name}",
            version="1.0.0",
            description=f"Events consumed and produced by the MAPPA {name} service.",
        )

    def _subscribe(
        self, topics: Sequence[str], *, group_id: str, consumer: BatchConsumer, description: str
    ) -> Subscription:
        """A subscription with the service's consuming settings (not yet started)."""
        own, platform = self.settings.own, self.settings.platform
        return Subscription(
            self.broker,
            topics,
            group_id=group_id,
            consumer=consumer,
            redelivery_pause_seconds=platform.retry_backoff_seconds * 2**platform.max_attempts,
            commit_interval_seconds=own.offset_commit_seconds,
            batch_size=own.consume_batch_size,
            batch_wait_ms=own.consume_wait_ms,
            fetch_min_bytes=own.consume_fetch_min_bytes,
            fetch_wait_ms=own.consume_fetch_wait_ms,
            redelivered=self._redelivered,
            description=description,
        )

    def also_subscribe(
        self, topics: Sequence[str], *, group_id: str, consumer: BatchConsumer, description: str
    ) -> None:
        """Read ``topics`` as well, in a group of their own, started and drained with the service."""
        self._more_subscriptions.append(
            self._subscribe(topics, group_id=group_id, consumer=consumer, description=description)
        )

    @property
    def subscriptions(self) -> list[Subscription]:
        """Every subscription: the events it consumes first, then any of its own."""
        return [s for s in (self.subscription, *self._more_subscriptions) if s is not None]

    def alongside(self, part: Background) -> None:
        """Run ``part`` with the service: what it emits is published before the service stops."""
        self._background.append(part)

    async def _dead_letter(self, topic: str, record: ConsumerRecord, headers: dict[str, str]) -> None:
        assert topic == dead_letter_topic(record.topic)
        await self.dead_letters.publish(topic, record.value or b"", key=record.key, headers=headers)

    async def migrate(self) -> None:
        """Brings the service's database to its code's schema."""
        before, after = await migrations.upgrade(self.db, self.schema)
        if before != after:
            shown = migrations.shown
            log.info("%s's database migrated from %s to %s", self.name, shown(before), shown(after))

    @property
    def topics(self) -> list[str]:
        """The topics it reads and writes (dead letters included), which it may see on the broker."""
        read = [topic for s in self.subscriptions for topic in s.topics]
        dead_letters = [topic.dead_letter for topic in self.consumes]
        return list(dict.fromkeys([*read, *dead_letters, *self._publishers]))

    async def start(self) -> None:
        platform = self.settings.platform
        if self.settings.own.migrate_at_start:
            await self.migrate()
        try:
            await migrations.check(self.db, self.schema)
        except migrations.SchemaNotCurrent as refused:
            log.error("%s", refused)  # the reason it will not start, on one line
            raise
        await self.db.ensure_probe_row()
        log.info("%s connects to Kafka as %s", self.name, self.settings.kafka.who)
        await ensure_topics(
            self.settings.kafka,
            self.topics,
            partitions=platform.topic_partitions,
            replication_factor=platform.topic_replication_factor,
            # The subscriptions' groups.
            groups=([self.subscription.group_id] if self.subscription else [])
            + [s.group_id for s in self._more_subscriptions],
        )
        await self.broker.start()
        await self.dead_letters.start()
        if self.subscription:
            self.subscription.start()
            self.retention.start()
        for subscription in self._more_subscriptions:
            subscription.start()
        if self.settings.own.outbox_relay:
            self.relay.start()
        for scheduler in self.schedulers:
            scheduler.start()
        for part in self._background:
            part.start()
        if self.settings.own.clock_offset_days:
            log.warning("%s runs %s days ahead of the time (a test or demo clock)", self.name,
                        self.settings.own.clock_offset_days)  # fmt: skip
        log.info("%s started", self.name)

    async def stop(self) -> None:
        # Finish the message in hand and commit, publish what it emitted,
        # and only then close the consumer and producer.
        for part in self._background:
            await part.stop()
        for scheduler in self.schedulers:
            await scheduler.stop()
        await self.retention.stop()
        for subscription in self.subscriptions:
            await subscription.drain(SHUTDOWN_GRACE_SECONDS)
        await self.relay.stop()
        if self.settings.own.outbox_relay:
            await self.relay.flush(SHUTDOWN_GRACE_SECONDS)
        await self.publisher.close(SHUTDOWN_GRACE_SECONDS)
        await self.dead_letters.close(SHUTDOWN_GRACE_SECONDS)
        await self.broker.stop()
        await self.db.dispose()
        log.info("%s stopped", self.name)

    async def _broker_ok(self) -> bool:
        return await self.broker.ping(timeout=2.0)

    async def _database_ok(self) -> bool:
        await self.db.probe_write()
        return True

    async def _consumer_ok(self) -> bool:
        """False while a partition's record cannot be applied for a failing dependency."""
        return not any(s.failing for s in self.subscriptions)

    async def _outbox_ok(self) -> bool:
        """False while rows wait and the relay has published nothing for ``outbox_stall_seconds``."""
        return not await self.relay.stalled()

    def http_app(self) -> FastAPI:
        return build_http_app(
            title=f"MAPPA {self.name}",
            db=self.db,
            clock=self.clock,
            policies=self.policies,
            routers=self._api,
            registry=self.registry,
            asyncapi=self.asyncapi,
            checks={
                "broker": self._broker_ok,
                "database": self._database_ok,
                "consumer": self._consumer_ok,
                "outbox": self._outbox_ok,
            },
            start=self.start,
            stop=self.stop,
            state=self.app_state,
            exception_handlers=self.exception_handlers,
        )

    def run(self) -> None:
        configure_logging(
            self.settings.platform.log_level,
            repeat_interval_seconds=self.settings.platform.log_repeat_seconds,
        )
        uvicorn.run(
            self.http_app(),
            host=self.settings.own.http_host,
            port=self.settings.http_port,
            log_level=self.settings.platform.log_level.lower(),
            access_log=False,
        )
