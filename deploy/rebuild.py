"""Rebuilds a service's state from the log: ``python -m deploy.rebuild operations|registry``.

Stop the service first: the tool refuses while it answers on its port. It also refuses, before
anything is emptied, while the service's outbox holds unpublished events (the log lacks them) and
when a topic it reads no longer starts at offset 0 (``--log-may-start-late`` accepts that).

The rebuild empties the service's own tables and its inbox, reads every topic it consumes from
offset 0 up to where each partition ends now, and applies each record as the live service would,
with a progress bar. What is not a projection stays: the read audit, the schedule's marks, each
subject's history (the lines written again are dropped) and what the service's own part (``Steer``)
keeps; what the handlers emit again is dropped, never published. A record that cannot be applied is
counted, not dead-lettered again: it was dead-lettered when it first came. Start the service again
afterwards; its consumer group carries on from where it stopped. The registry's part
(``services/registry/rebuild.py``) keeps every platform id and co-ordinators' decisions.

``REBUILDABLE`` names the services whose state can be rebuilt this way. Levels, meetings and
notifications cannot: they hold decisions made through their APIs that no topic carries in full, and
notifications' deliveries are things done, which a rebuild must not do again.
"""

import argparse
import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from opentelemetry.trace import NoOpTracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy import Table, func, select
from tqdm import tqdm

from deploy.watch import partitions_of
from eventkit.broker import KafkaAccess, make_reader
from eventkit.clock import Clock, system_clock
from eventkit.consumer import BatchResult, Consumer
from eventkit.deadletter import ERROR_CLASS
from eventkit.history import history
from eventkit.inbox import inbox
from eventkit.outbox import count as unpublished
from eventkit.outbox import outbox
from eventkit.service import Service
from eventkit.settings import Settings
from eventkit.subscription import BatchConsumer
from services.operations.app import create as operations
from services.registry.app import create as registry
from services.registry.rebuild import Reader, RegisterRebuild

log = logging.getLogger(__name__)
BATCH = 500


class Steer(Protocol):
    """A service's own part in its rebuild."""

    keeps: tuple[Table, ...]  # its tables that are not projections
    reads: tuple[str, ...]  # topics it reads besides those it consumes

    async def prepare(self) -> None:
        """Read what it needs, before anything is emptied."""

    def clock(self) -> datetime:
        """The service's clock for the records being applied again."""

    def order(self, record: ConsumerRecord) -> Any:
        """The key its records are applied in across partitions (given in each partition's order)."""

    async def apply(self, records: Sequence[ConsumerRecord], consumer: BatchConsumer) -> BatchResult:
        """Apply the next records through ``consumer``, with whatever must happen between them."""

    async def finish(self) -> str:
        """Complete the rebuild after the last record; what it did, said in a line."""

    def close(self) -> None:
        """Let go of what ``prepare`` took, whether the rebuild finished or failed."""


class NotRebuilt(Exception):
    """The rebuild would lose something: nothing was emptied."""


class Create(Protocol):
    def __call__(self, *, settings: Settings | None = None) -> Service: ...


@dataclass(frozen=True)
class Rebuildable:
    create: Create
    steer: Callable[[Service, Reader], Steer] | None = None


REBUILDABLE = {
    "operations": Rebuildable(operations),
    "registry": Rebuildable(registry, RegisterRebuild),
}


@dataclass(frozen=True)
class Rebuilt:
    records: int
    not_applied: int
    dropped_events: int
    seconds: float
    finished: str = ""

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


async def _partitions(kafka: KafkaAccess, topics: Sequence[str]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topics for p in sorted(await partitions_of(kafka, t))]


async def _extent(
    consumer: AIOKafkaConsumer, kafka: KafkaAccess, topics: Sequence[str]
) -> tuple[dict[TopicPartition, int], int]:
    """Where each partition that holds anything ends now, and how many records they hold."""
    partitions = await _partitions(kafka, topics)
    consumer.assign(partitions)
    starts = await consumer.beginning_offsets(partitions)
    ends = {tp: end for tp, end in (await consumer.end_offsets(partitions)).items() if end > starts[tp]}
    return ends, sum(end - starts[tp] for tp, end in ends.items())


Order = Callable[[ConsumerRecord], Any]
Replay = Callable[[Sequence[str], BatchConsumer, Order | None], Awaitable[tuple[int, int]]]


class InOrder:
    """Records of several partitions merged by ``key``, each partition's own order kept.

    A record is let out only while every partition still being read has one waiting, so that none
    with an earlier key can come after it (a key that falls within a partition holds it back).
    Without a key, records are let out as they were fetched.
    """

    def __init__(self, partitions: Iterable[TopicPartition], key: Order | None) -> None:
        self._key = key
        self._buffers: dict[TopicPartition, deque[tuple[Any, ConsumerRecord]]] = {
            tp: deque() for tp in partitions
        }
        self._open = set(self._buffers)

    def add(self, tp: TopicPartition, records: Iterable[ConsumerRecord]) -> None:
        key = self._key
        self._buffers[tp].extend((key(r) if key else None, r) for r in records)

    def read_all(self, tp: TopicPartition) -> None:
        self._open.discard(tp)

    def wanted(self) -> list[TopicPartition]:
        """The partitions to fetch from before more can be let out."""
        if self._key is None and any(self._buffers.values()):
            return []
        return [tp for tp in self._open if not self._buffers[tp]]

    def take(self, limit: int) -> list[ConsumerRecord]:
        taken: list[ConsumerRecord] = []
        while len(taken) < limit and not self.wanted():
            heads = [tp for tp, buffer in self._buffers.items() if buffer]
            if not heads:
                break
            first = min(heads, key=lambda tp: self._buffers[tp][0][0]) if self._key else heads[0]
            taken.append(self._buffers[first].popleft()[1])
        return taken

    def done(self) -> bool:
        return not self._open and not any(self._buffers.values())


async def replay_topics(
    kafka: KafkaAccess,
    topics: Sequence[str],
    apply: BatchConsumer,
    bar: "tqdm[Any]",
    order: Order | None = None,
) -> tuple[int, int]:
    """Feeds every record now in ``topics`` to ``apply``, in order per partition and, across them, by
    ``order`` (a key each record gets in its partition's order); (records, not applied)."""
    consumer = make_reader(kafka, client_id="mappa-rebuild", max_records=BATCH)
    await consumer.start()
    records = not_applied = 0
    try:
        ends, held = await _extent(consumer, kafka, topics)
        if not ends:
            return 0, 0  # nothing in these topics (aiokafka cannot seek with no partition assigned)
        bar.total = (bar.total or 0) + held
        bar.refresh()
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        merged = InOrder(ends, order)
        while not merged.done():
            if wanted := merged.wanted():
                # Fetch only where a partition ran dry: the others wait, buffered.
                consumer.pause(*(tp for tp in ends if tp not in wanted))
                consumer.resume(*wanted)
                fetched = await consumer.getmany(*wanted, timeout_ms=1000, max_records=BATCH)
                for tp, found in fetched.items():
                    merged.add(tp, (r for r in found if r.offset < ends[tp]))
                for tp in wanted:
                    if await consumer.position(tp) >= ends[tp]:
                        merged.read_all(tp)
                continue
            batch = merged.take(BATCH)
            result = await apply.process_batch(batch)
            if result.unavailable is not None:
                raise RuntimeError(f"the database failed during the rebuild: {result.unavailable}")
            records += len(batch)
            not_applied += sum(outcome == "dead-lettered" for outcome in result.outcomes)
            bar.update(len(batch))
    finally:
        await consumer.stop()
    return records, not_applied


def reapplying(service: Service, clock: Clock) -> Consumer:
    """The service's consumer, but one that never dead-letters: what it cannot apply was dead-lettered
    when it first came."""

    async def not_again(_topic: str, record: ConsumerRecord, headers: dict[str, str]) -> None:
        # The error's class only: its message may quote the record.
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        log.warning("not applied again: %s (%s)", where, headers.get(ERROR_CLASS, "?"))

    tracer = NoOpTracerProvider().get_tracer(__name__)
    config = replace(service.consumer_config, clock=clock)
    return Consumer(config, service.db, service.handlers, not_again, CollectorRegistry(), tracer)


class _Steered:
    def __init__(self, steer: Steer, consumer: BatchConsumer) -> None:
        self._steer, self._consumer = steer, consumer

    async def process_batch(self, records: Sequence[ConsumerRecord]) -> BatchResult:
        return await self._steer.apply(records, self._consumer)


async def _log_starts_late(kafka: KafkaAccess, topics: Sequence[str]) -> list[str]:
    """Partitions whose first record is no longer at offset 0: retention or an operator deleted some."""
    consumer = make_reader(kafka, client_id="mappa-rebuild")
    await consumer.start()
    try:
        starts = await consumer.beginning_offsets(await _partitions(kafka, topics))
    finally:
        await consumer.stop()
    return [f"{tp.topic}[{tp.partition}] starts at {start}" for tp, start in starts.items() if start > 0]


async def rebuild(
    service: Service,
    *,
    steer: Callable[[Service, Reader], Steer] | None = None,
    progress: bool = False,
    log_may_start_late: bool = False,
) -> Rebuilt:
    """Empty ``service``'s projection and apply its topics again from offset 0.

    Refused (``NotRebuilt``), before anything is emptied, while the service has events it has not
    published (the log lacks them), and when the log no longer starts at offset 0 unless
    ``log_may_start_late`` says the records before were deleted on purpose.
    """
    started = time.monotonic()
    db = service.db
    kafka = service.settings.kafka  # it reads as the service it rebuilds
    await service.migrate()  # into an empty database, as when it was lost
    topics = [t for s in service.subscriptions for t in s.topics]
    with tqdm(total=0, unit=" records", desc=f"rebuilding {service.name}", disable=not progress) as bar:

        async def read(
            topics: Sequence[str], apply: BatchConsumer, order: Order | None = None
        ) -> tuple[int, int]:
            return await replay_topics(kafka, topics, apply, bar, order)

        own = steer(service, read) if steer else None
        late = await _log_starts_late(kafka, [*topics, *(own.reads if own else ())])
        if late and not log_may_start_late:
            raise NotRebuilt(f"the log no longer holds everything: {', '.join(late)}")
        async with db.transaction() as session:
            if (waiting := await unpublished(session)) > 0:
                raise NotRebuilt(f"{waiting} events wait in its outbox: start it until it has sent them")
        try:
            if own is not None:
                await own.prepare()
            records, not_applied, dropped, finished = await _applied_again(service, own, read)
        finally:
            if own is not None:
                own.close()
            await db.dispose()
    return Rebuilt(records, not_applied, dropped, time.monotonic() - started, finished)


async def _applied_again(service: Service, own: Steer | None, read: Replay) -> tuple[int, int, int, str]:
    """Empty the service's projection, apply its topics again and drop what it emitted again:
    (records, not applied, dropped events, what the service's part did)."""
    db = service.db
    keeps = own.keeps if own else ()
    async with db.transaction() as session:
        for table in reversed(service.metadata.sorted_tables):
            if table not in keeps:
                await session.execute(table.delete())
        await session.execute(inbox.delete().where(inbox.c.consumer == service.name))
        last_queued = await session.scalar(select(func.max(outbox.c.id))) or 0
        last_line = await session.scalar(select(func.max(history.c.id))) or 0
    try:
        clock = own.clock if own else system_clock
        records = not_applied = 0
        for subscription in service.subscriptions:
            apply = subscription.consumer
            order: Order | None = None
            if subscription is service.subscription:
                apply = reapplying(service, clock)
                if own is not None:
                    apply, order = _Steered(own, apply), own.order
            done, refused = await read(subscription.topics, apply, order)
            records, not_applied = records + done, not_applied + refused
        finished = await own.finish() if own else ""
    finally:
        # Whatever happened, nothing emitted again is left to be published, nor written twice.
        async with db.transaction() as session:
            dropped = await session.execute(outbox.delete().where(outbox.c.id > last_queued))
            await session.execute(history.delete().where(history.c.id > last_line))
    return records, not_applied, int(dropped.rowcount), finished  # type: ignore[attr-defined]


def answering(service: Service) -> bool:
    """Whether the service runs here (its port answers /health): rebuilding under it would race it.

    A replica elsewhere is not seen (aiokafka 0.14 cannot read the group's members from Kafka 4.1).
    """
    url = f"http://{service.settings.own.http_host}:{service.settings.http_port}/health"
    try:
        httpx.get(url, timeout=2.0)
    except httpx.TransportError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.rebuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("service", choices=sorted(REBUILDABLE))
    parser.add_argument(
        "--log-may-start-late",
        action="store_true",
        help="rebuild even though records before the log's start were deleted (what they said is lost)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # What it cannot apply is not dead-lettered again: the consumer's lines would say it was; the
    # rebuild's own say which record and why.
    logging.getLogger("eventkit.consumer").setLevel(logging.CRITICAL)
    chosen = REBUILDABLE[args.service]
    service = chosen.create()
    if answering(service):
        parser.exit(2, f"{args.service} answers on port {service.settings.http_port}: stop it first\n")
    try:
        result = asyncio.run(
            rebuild(
                service,
                steer=chosen.steer,
                progress=True,
                log_may_start_late=args.log_may_start_late,
            )
        )
    except NotRebuilt as refused:
        parser.exit(2, f"{args.service} not rebuilt: {refused}\n")
    print(
        f"{args.service}: {result.records} records applied again in {result.seconds:.1f} s "
        f"({result.per_second:.0f}/s); {result.not_applied} could not be applied (dead-lettered when they "
        f"came); {result.dropped_events} events emitted again were dropped, not published"
    )
    if result.finished:
        print(f"{args.service}: {result.finished}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
