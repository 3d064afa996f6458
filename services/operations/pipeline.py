"""The pipeline as operators see it: events per second per topic, consumer lag per group and partition,
dead letters waiting, each service's health and oldest unpublished outbox row, recent errors by class.

Sampled every few seconds: offsets from Kafka's admin API, health and the
outbox's age from each service's own ``/health`` and ``/metrics`` (HTTP is
for dashboards; no service's tables are read), dead letters from the read
model. The latest picture is kept in memory for the pages and exported as
Prometheus metrics.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from eventkit.broker import KafkaAccess
from eventkit.db import Database
from eventkit.tasks import Loop
from schemas.catalogue import DEAD_LETTER_SUFFIX
from services.operations.kafka import OffsetReader
from services.operations.storage import CaseworkStore, DeadLetterStore

log = logging.getLogger(__name__)

OUTBOX_AGE_METRIC = "mappa_outbox_oldest_age_seconds"
RECENT_ERRORS = timedelta(hours=24)


@dataclass(frozen=True)
class TopicFlow:
    topic: str
    messages: int  # every message the topic has taken (the sum of its partitions' end offsets)
    per_second: float | None  # over the last sample; None on the first


@dataclass(frozen=True)
class Lag:
    group: str
    topic: str
    partition: int
    lag: int


@dataclass(frozen=True)
class ServiceState:
    name: str
    status: str  # "ok", "failing" or "unreachable"
    failing: tuple[str, ...]  # the checks that failed
    outbox_oldest_seconds: float | None


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    topics: tuple[TopicFlow, ...] = ()
    lags: tuple[Lag, ...] = ()
    dead_letters: Mapping[str, int] = field(default_factory=dict)
    services: tuple[ServiceState, ...] = ()
    errors: Mapping[tuple[str, str], int] = field(default_factory=dict)
    kafka_error: str | None = None
    # Each area's casework measures (area, measure): counts, never ids.
    casework: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def lag_of(self, group: str) -> int:
        return sum(lag.lag for lag in self.lags if lag.group == group)


def lags(ends: Mapping[TopicPartition, int], committed: Mapping[str, Mapping[TopicPartition, int]],
         reads: Mapping[str, Iterable[str]]) -> tuple[Lag, ...]:  # fmt: skip
    """Per group and partition of the topics it reads: messages not yet committed (all, if none were)."""
    found = []
    for group, topics in reads.items():
        done = committed.get(group, {})
        for tp in sorted(ends, key=lambda tp: (tp.topic, tp.partition)):
            if tp.topic in topics:
                found.append(Lag(group, tp.topic, tp.partition, max(0, ends[tp] - done.get(tp, 0))))
    return tuple(found)


def flows(
    ends: Mapping[TopicPartition, int], before: Mapping[str, int], seconds: float
) -> tuple[TopicFlow, ...]:
    totals: dict[str, int] = {}
    for tp, end in ends.items():
        totals[tp.topic] = totals.get(tp.topic, 0) + end
    return tuple(
        TopicFlow(
            topic,
            total,
            (total - before[topic]) / seconds if topic in before and seconds > 0 else None,
        )
        for topic, total in sorted(totals.items())
    )


def outbox_age(metrics_text: str) -> float | None:
    for family in text_string_to_metric_families(metrics_text):
        if family.name == OUTBOX_AGE_METRIC:
            return next((sample.value for sample in family.samples), None)
    return None


class Pipeline:
    def __init__(
        self,
        db: Database,
        kafka: KafkaAccess,
        *,
        reads: Mapping[str, Iterable[str]],
        services: Mapping[str, str],
        sample_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``reads``: the topics each consumer group reads; ``services``: each service's base URL."""
        self._db = db
        self._reads = {group: frozenset(topics) for group, topics in reads.items()}
        self._topics = sorted({t for topics in self._reads.values() for t in topics})
        self._services = dict(services)
        self._sample_seconds = sample_seconds
        self._clock = clock
        self._offsets = OffsetReader(kafka)
        self._http = httpx.AsyncClient(timeout=2.0)
        self._loop = Loop(self._run, "pipeline-sampler")
        self._before: tuple[float, dict[str, int]] | None = None
        self.latest = Snapshot(at=clock())

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.cancel()
        await self._offsets.close()
        await self._http.aclose()

    async def _run(self) -> None:
        while True:
            try:
                self.latest = await self.sample()
            except Exception:
                log.exception("pipeline sample failed; will retry")
            await asyncio.sleep(self._sample_seconds)  # a sampling cadence, not a wait for an event

    async def sample(self) -> Snapshot:
        now = self._clock()
        services = await asyncio.gather(*(self._service(n, url) for n, url in self._services.items()))
        async with self._db.transaction() as session:
            store = DeadLetterStore(session)
            depth = await store.depth()
            errors = await store.errors_since(now - RECENT_ERRORS)
            casework = await CaseworkStore(session).counts_by_area()
        dead_letters = {t + DEAD_LETTER_SUFFIX: 0 for t in self._topics if not t.endswith(DEAD_LETTER_SUFFIX)}
        dead_letters |= depth
        try:
            offsets = await self._offsets.read(self._topics, self._reads)
        except Exception as error:
            await self._offsets.close()  # a fresh connection next time
            failed = type(error).__name__
            return Snapshot(now, (), (), dead_letters, tuple(services), errors, failed, casework)
        monotonic = time.monotonic()
        totals_before = self._before[1] if self._before else {}
        seconds = monotonic - self._before[0] if self._before else 0.0
        topic_flows = flows(offsets.ends, totals_before, seconds)
        self._before = (monotonic, {flow.topic: flow.messages for flow in topic_flows})
        return Snapshot(
            now, topic_flows, lags(offsets.ends, offsets.committed, self._reads), dead_letters,
            tuple(services), errors, None, casework,
        )  # fmt: skip

    async def _service(self, name: str, url: str) -> ServiceState:
        try:
            health = await self._http.get(f"{url}/health")
            metrics = await self._http.get(f"{url}/metrics")
            checks = health.json().get("checks", {}) if health.status_code in (200, 503) else {}
            age = outbox_age(metrics.text) if metrics.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):  # down, or answering with something else
            return ServiceState(name, "unreachable", (), None)
        failing = tuple(sorted(check for check, state in checks.items() if state != "ok"))
        return ServiceState(name, "ok" if health.status_code == 200 else "failing", failing, age)


class PipelineMetrics(Collector):
    """The latest sample as Prometheus metrics: lag and dead letters waiting, by their own names."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        snapshot = self._pipeline.latest
        lag = GaugeMetricFamily(
            "mappa_consumer_lag_messages",
            "Messages in a partition its consumer group has not yet committed",
            labels=["group", "topic", "partition"],
        )
        for item in snapshot.lags:
            lag.add_metric([item.group, item.topic, str(item.partition)], item.lag)
        depth = GaugeMetricFamily(
            "mappa_dead_letters_open_messages",
            "Dead letters nobody has replayed or discarded yet, by dead-letter topic",
            labels=["topic"],
        )
        for topic, count in sorted(snapshot.dead_letters.items()):
            depth.add_metric([topic], count)
        messages = CounterMetricFamily(
            "mappa_topic_messages", "Messages every partition of the topic has taken", labels=["topic"]
        )
        for flow in snapshot.topics:
            messages.add_metric([flow.topic], flow.messages)
        items = GaugeMetricFamily(
            "mappa_casework_items",
            "Cases, meetings, actions or notifications a casework measure counts, by area",
            labels=["area", "measure"],
        )
        for (area, measure), count in sorted(snapshot.casework.items()):
            items.add_metric([area, measure], count)
        yield from (lag, depth, messages, items)


def register_metrics(pipeline: Pipeline, registry: CollectorRegistry) -> None:
    registry.register(PipelineMetrics(pipeline))
