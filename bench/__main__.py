"""Benchmark: a raw aiokafka four-hop relay and the four-service chain, side by side on one broker.

For each of the two it finds:
- the highest sustained rate: a ladder of offered rates, each held for a
  while in open loop (events are sent at their scheduled times whatever
  happens downstream, and latency counts from the scheduled time); a rate
  is sustained if every event arrives and p99 stays under 1 s;
- latency at half the sustained rate (p50, p99, max);
- the backlog drain rate: events preloaded before the relay or the services
  start, drained from the moment they are up to the last arrival.
For the chain it also reports each service's CPU seconds per 1,000 events
and peak RSS: at half rate (start-up excluded), and draining the backlog
(start-up estimated by the first start's and taken out).

A chain event is a police conviction; it arrives when its notification
(the end of the chain) is published, matched by its trace id.

Then notifications' deliveries, with every area's co-ordinator in the
directory by email and by webhook, to a local SMTP server and a local
Standard Webhooks receiver in this process (``deploy.receivers``): the
latency from the agency event to its webhook's 2xx (the
``notification-delivered`` status) at half the chain's sustained rate, and
the deliveries per second through each channel while a backlog of
convictions drains (each conviction is two notifications: screening due and
notification requirements, both to the co-ordinator while no offender
manager is known).

Then the scale-out: the same chain with each service's database on PostgreSQL, first with one
replica of each service, then with two sharing each consumer group (``deploy.local`` processes): the
sustained rate of each (the same ladder), and latency for both at one offered rate, half the
SQLite chain's sustained rate. Then what a replica adds to one service where the machine has a core
for it: a backlog of convictions is published with every service stopped, and each service of the
chain in turn, alone (on PostgreSQL), drains what the one before it left, with one replica and then,
on a fresh backlog, two; its rate counts from when all its replicas have joined its group (start-up
and rebalances left out) until the group has nothing left to read and its outbox is empty.

Last, how fast each rebuildable service (operations' read model, the
register) is rebuilt from the log into an empty database (``deploy.rebuild``),
over every record the broker then holds; for the register, how many nominals
came back under a platform id the log did not hold (none should).

Figures go to bench/results/latest.json. Not part of the tests: nothing
here asserts a time.
"""

import argparse
import asyncio
import itertools
import json
import os
import platform as host
import secrets
import shutil
import statistics
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from deploy.local import CHAIN, LocalPlatform, free_ports, use_local_broker
from deploy.postgres import fresh_database, start_postgres
from deploy.rebuild import REBUILDABLE, rebuild
from deploy.receivers import MailSink, WebhookReceiver
from deploy.watch import Tail
from eventkit import outbox
from eventkit.auth import Principal
from eventkit.broker import KafkaAccess, ensure_topics, group_of, make_admin
from eventkit.db import Database
from eventkit.settings import Settings, kafka_access
from eventkit.synthetic import Synthetic
from eventkit.tokens import issue
from schemas.agencies import Agency, Role
from schemas.catalogue import AGENCY_POLICE, NOTIFICATIONS_DELIVERIES, type_of
from schemas.events.notifications import NotificationDelivered

RESULTS = Path(__file__).parent / "results"
P99_LIMIT_SECONDS = 1.0
# How long the services may take to drain what earlier runs left on the broker.
SETTLE_SECONDS = 600.0


@dataclass(frozen=True)
class Message:
    """One event to offer: where it goes and how its arrival is recognised."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    marker: str


Marker = Callable[[ConsumerRecord], str | None]


def _latency(latencies: Sequence[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "latency_ms_p50": round(statistics.median(ordered) * 1000, 1),
        "latency_ms_p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "latency_ms_max": round(ordered[-1] * 1000, 1),
    }


async def _producer(kafka: KafkaAccess) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(**kafka.options(), acks="all", enable_idempotence=True)
    await producer.start()
    return producer


async def _arrivals(
    tail: Tail, marker_of: Marker, expected: dict[str, float], *, quiet_seconds: float
) -> dict[str, float]:
    """Arrival times of the expected markers, until all came or none came for ``quiet_seconds``."""
    arrived: dict[str, float] = {}
    while len(arrived) < len(expected):
        try:
            record, at = await asyncio.wait_for(tail.arrivals.get(), timeout=quiet_seconds)
        except TimeoutError:
            break
        marker = marker_of(record)
        if marker in expected and marker not in arrived:
            arrived[marker] = at
    return arrived


async def offer(
    kafka: KafkaAccess, messages: Sequence[Message], tail: Tail, marker_of: Marker, *, rate: float
) -> dict[str, Any]:
    """Offer the messages at ``rate``/s in open loop and report what arrived, and when."""
    producer = await _producer(kafka)
    scheduled: dict[str, float] = {}
    acks: list[Awaitable[object]] = []
    start = time.monotonic()
    try:
        for i, message in enumerate(messages):
            at = start + i / rate
            await asyncio.sleep(max(0.0, at - time.monotonic()))  # pacing, not synchronisation
            scheduled[message.marker] = at
            acks.append(
                await producer.send(message.topic, message.value, key=message.key, headers=message.headers)
            )
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    arrived = await _arrivals(tail, marker_of, scheduled, quiet_seconds=10)
    latencies = [arrived[m] - scheduled[m] for m in arrived]
    result: dict[str, Any] = {
        "offered_per_second": rate,
        "offered": len(messages),
        "delivered": len(arrived),
        "events_per_second": round(len(arrived) / (max(arrived.values()) - start), 1) if arrived else 0.0,
    }
    if latencies:
        result.update(_latency(latencies))
    result["sustained"] = (
        len(arrived) == len(messages) and result["latency_ms_p99"] < P99_LIMIT_SECONDS * 1000
    )
    return result


async def ladder(
    kafka: KafkaAccess,
    make: Callable[[int], list[Message]],
    tail: Tail,
    marker_of: Marker,
    *,
    rates: Sequence[float],
    seconds: float,
    idle: Callable[[], Awaitable[object]] | None = None,
) -> tuple[float, list[dict[str, Any]]]:
    """Offered rates in increasing order until one is not sustained, then twice the rate halfway
    between the highest sustained and the lowest not; returns the highest sustained. With ``idle``,
    each rate starts once the work the one before left (past the events measured) is done."""
    sustained = 0.0
    steps: list[dict[str, Any]] = []

    async def step(rate: float) -> bool:
        if idle is not None:
            await idle()
        steps.append(await offer(kafka, make(int(rate * seconds)), tail, marker_of, rate=rate))
        print(f"  {rate:>6.0f}/s offered: {steps[-1]}", flush=True)
        return bool(steps[-1]["sustained"])

    # Warm up first (connections, caches, the first batches' statements), unmeasured: the first
    # rung would otherwise carry the start-up's stalls.
    await offer(kafka, make(int(rates[0] * 3)), tail, marker_of, rate=rates[0])
    for rate in rates:
        if not await step(rate):
            failed = rate
            for _ in range(2 if sustained else 0):
                halfway = round((sustained + failed) / 2)
                if await step(halfway):
                    sustained = halfway
                else:
                    failed = halfway
            break
        sustained = rate
    return sustained, steps


async def preload(kafka: KafkaAccess, messages: Sequence[Message]) -> dict[str, float]:
    """Publish the messages as fast as the broker takes them; returns each marker's publish time."""
    producer = await _producer(kafka)
    try:
        acks = [await producer.send(m.topic, m.value, key=m.key, headers=m.headers) for m in messages]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    now = time.monotonic()
    return {m.marker: now for m in messages}


async def drain(tail: Tail, marker_of: Marker, expected: dict[str, float], started: float) -> dict[str, Any]:
    arrived = await _arrivals(tail, marker_of, expected, quiet_seconds=30)
    last = max(arrived.values(), default=started)
    return {
        "preloaded": len(expected),
        "delivered": len(arrived),
        "seconds": round(last - started, 2),
        "events_per_second": round(len(arrived) / (last - started), 1) if arrived else 0.0,
    }


# The raw relay: four consume-and-republish hops, offsets committed after each republished batch.


def _raw_topics() -> list[str]:
    run = secrets.token_hex(3)
    return [f"bench.raw.{run}.hop{i}" for i in range(5)]  # publish to hop0; four relays; read hop4


def _raw_messages(topics: list[str]) -> Callable[[int], list[Message]]:
    def make(count: int) -> list[Message]:
        markers = [f"raw-{secrets.token_hex(6)}" for _ in range(count)]
        return [Message(topics[0], str(i).encode(), m.encode(), [], m) for i, m in enumerate(markers)]

    return make


def _raw_marker(record: ConsumerRecord) -> str | None:
    return record.value.decode() if record.value else None


@asynccontextmanager
async def raw_relay(kafka: KafkaAccess, topics: list[str]) -> AsyncIterator[None]:
    producer = await _producer(kafka)
    stop = asyncio.Event()
    ready = asyncio.Semaphore(0)

    async def hop(source: str, target: str) -> None:
        consumer = AIOKafkaConsumer(
            source,
            **kafka.options(),
            group_id=f"bench-{source}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        ready.release()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=100, max_records=500)
                acks = [
                    await producer.send(target, r.value, key=r.key, headers=r.headers)
                    for records in batches.values()
                    for r in records
                ]
                await asyncio.gather(*acks)
                if acks:
                    await consumer.commit()
        finally:
            await consumer.stop()

    hops = [asyncio.create_task(hop(a, b)) for a, b in itertools.pairwise(topics)]
    try:
        for _ in hops:
            await ready.acquire()
        yield
    finally:
        stop.set()
        await asyncio.gather(*hops)
        await producer.stop()


async def raw(kafka: KafkaAccess, rates: Sequence[float], seconds: float, backlog: int) -> dict[str, Any]:
    async with fresh_topics(kafka) as topics:
        tail = Tail(kafka, topics[-1])
        await tail.start()
        try:
            async with raw_relay(kafka, topics):
                sustained, steps = await ladder(
                    kafka, _raw_messages(topics), tail, _raw_marker, rates=rates, seconds=seconds
                )
        finally:
            await tail.stop()
    # The backlog goes to fresh topics with the relay stopped; then the relay starts.
    async with fresh_topics(kafka) as topics:
        tail = Tail(kafka, topics[-1])
        await tail.start()
        try:
            expected = await preload(kafka, _raw_messages(topics)(backlog))
            started = time.monotonic()
            async with raw_relay(kafka, topics):
                drained = await drain(tail, _raw_marker, expected, started)
        finally:
            await tail.stop()
    return {"sustained_events_per_second": sustained, "ladder": steps, "backlog": drained,
            "backlog_events_per_second": drained["events_per_second"]}  # fmt: skip


@asynccontextmanager
async def fresh_topics(kafka: KafkaAccess) -> AsyncIterator[list[str]]:
    """Topics for one raw relay run, deleted after it: a broker piling up partitions run after run
    slows down, and so would the chain measured next."""
    topics = _raw_topics()
    await ensure_topics(kafka, topics, partitions=6, replication_factor=1)
    try:
        yield topics
    finally:
        admin = make_admin(kafka, client_id="mappa-bench")
        await admin.start()
        try:
            await admin.delete_topics(topics)
        finally:
            await admin.close()


# The chain: police convictions in, notifications out, through the four service processes.


def _chain_messages(synthetic: Synthetic) -> Callable[[int], list[Message]]:
    # An identifier drawn twice may come with another person's date of birth: the register would
    # rightly hold that conviction for a person to resolve, and it would never arrive.
    people: set[str] = set()

    def make(count: int) -> list[Message]:
        messages: list[Message] = []
        while len(messages) < count:
            event = synthetic.conviction_event()
            person = event.data["person"]
            identifiers = {person["pnc_id"], person.get("cro_number")} - {None}
            if identifiers & people:
                continue
            people.update(identifiers)
            trace_id = secrets.token_hex(16)
            traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01".encode()
            key = event.data["person"]["pnc_id"].encode()
            messages.append(
                Message(AGENCY_POLICE.name, key, event.to_json(), [("traceparent", traceparent)], trace_id)
            )
        return messages

    return make


def _chain_marker(record: ConsumerRecord) -> str | None:
    parent = dict(record.headers).get("traceparent")
    return parent.decode().split("-")[1] if parent else None


def _webhook_delivered(record: ConsumerRecord) -> str | None:
    """The conviction's trace id, on the status of a webhook that answered 2xx."""
    event = json.loads(record.value)
    delivered = event["type"] == type_of(NotificationDelivered) and event["data"]["channel"] == "webhook"
    return _chain_marker(record) if delivered else None


def _directory(local: LocalPlatform, key: str, hooks: WebhookReceiver) -> None:
    """Every area's co-ordinator, told by email and by webhook: what the operations staff would set up."""
    for area in (f"{n:02d}" for n in range(1, 51)):  # Synthetic's recording forces
        operator = Principal(user="bench-ops", agency=Agency.POLICE, role=Role.OPERATIONS, area=area)
        entry = {"area": area, "role": "mappa-coordinator", "agency": "police",
                 "channels": ["email", "webhook"], "email": f"mappa-unit-{area}@police.invalid",
                 "webhook_url": hooks.url}  # fmt: skip
        request = urllib.request.Request(
            local.url("notifications", f"/recipients/{uuid.uuid4()}"), data=json.dumps(entry).encode(),
            method="PUT", headers={"Content-Type": "application/json", "X-Purpose": "benchmark set-up",
                                   "Authorization": f"Bearer {issue(operator, key=key)}"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:
            hooks.secrets.append(json.loads(answer.read())["webhook_secret"])


async def _received(mail: MailSink, hooks: WebhookReceiver, each: int, quiet_seconds: float = 15.0) -> None:
    """Until each receiver has ``each`` deliveries (two a conviction), or none came for a while."""
    seen, since = -1, time.monotonic()
    while min(len(mail.received), len(hooks.accepted)) < each and time.monotonic() - since < quiet_seconds:
        now = len(mail.received) + len(hooks.accepted)
        if now != seen:
            seen, since = now, time.monotonic()
        await asyncio.sleep(0.5)  # polling receivers in this process for a count, not a synchronisation


def _per_second(times: Sequence[float]) -> dict[str, float]:
    if len(times) < 2:
        return {"received": len(times), "per_second": 0.0}
    return {"received": len(times), "per_second": round(len(times) / (max(times) - min(times)), 1)}


async def deliveries(
    kafka: KafkaAccess,
    data: Path,
    make: Callable[[int], list[Message]],
    *,
    rate: float,
    seconds: float,
    backlog: int,
) -> dict[str, Any]:
    key = secrets.token_urlsafe(48)
    mail = MailSink().start()
    hooks = WebhookReceiver().start()
    tail = Tail(kafka, NOTIFICATIONS_DELIVERIES.name)
    await tail.start()
    env = {
        "MAPPA_LOG_LEVEL": "WARNING",
        "MAPPA_AUTH_JWT_KEY": key,
        "MAPPA_NOTIFICATIONS_SMTP_PORT": str(mail.port),
    }
    local = LocalPlatform(data_dir=data / "deliveries", env=env)
    police = kafka_access(AGENCY_POLICE.producer)
    try:
        local.start_all(CHAIN)
        await settle(kafka, [group_of(name) for name in local.processes])
        await asyncio.to_thread(_directory, local, key, hooks)
        offered = make(int(rate * seconds))
        at_half = await offer(police, offered, tail, _webhook_delivered, rate=rate)
        await _received(mail, hooks, 2 * len(offered))
        emails, webhooks = len(mail.received), len(hooks.accepted)
        await preload(police, make(backlog))
        await _received(mail, hooks, 2 * (len(offered) + backlog))
        return {
            "half_rate_agency_event_to_webhook_delivered": at_half,
            "backlog": {
                "convictions": backlog,
                "expected_per_channel": 2 * backlog,
                "smtp": _per_second([r.at for r in mail.received[emails:]]),
                "webhook": _per_second([r.at for r in list(hooks.accepted.values())[webhooks:]]),
            },
        }
    finally:
        local.stop_all()
        await tail.stop()
        hooks.stop()
        mail.stop()


async def settle(kafka: KafkaAccess, groups: Sequence[str]) -> int:
    """Waits until the services' consumer groups have nothing left to read; returns what was left.

    A broker used before may hold events the services never took (a run
    stopped half way, say): they would be drained inside the first rate
    measured and count against it.
    """
    admin = make_admin(kafka, client_id="mappa-bench")
    consumer = AIOKafkaConsumer(**kafka.options())
    await admin.start()
    await consumer.start()
    first: int | None = None
    try:
        async with asyncio.timeout(SETTLE_SECONDS):
            while True:
                lag = sum([await _lag(admin, consumer, group) for group in groups])
                first = lag if first is None else first
                if lag == 0:
                    return first
                await asyncio.sleep(0.5)  # polling the groups' progress, as an operator would
    finally:
        await consumer.stop()
        await admin.close()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM for process {pid}")


def _cpu(local: LocalPlatform) -> dict[str, float]:
    return {name: _cpu_seconds(process.pid) for name, process in local.processes.items()}


def _per_1000(before: dict[str, float], after: dict[str, float], events: int) -> dict[str, float]:
    return {name: round((after[name] - before[name]) * 1000 / events, 3) for name in before}


async def chain(
    kafka: KafkaAccess, data: Path, rates: Sequence[float], seconds: float, half_seconds: float, backlog: int
) -> dict[str, Any]:
    synthetic = Synthetic(seed=1)
    make = _chain_messages(synthetic)
    police = kafka_access(AGENCY_POLICE.producer)  # the convictions come from the police's system
    tail = Tail(kafka, NOTIFICATIONS_DELIVERIES.name)
    await tail.start()
    result: dict[str, Any] = {}
    try:
        local = LocalPlatform(data_dir=data / "steady", env={"MAPPA_LOG_LEVEL": "WARNING"})
        try:
            local.start_all(CHAIN)
            # What starting costs each service, to take out of the backlog's figures below.
            starting = _cpu(local)
            groups = [group_of(name) for name in local.processes]
            left = await settle(kafka, groups)
            print(f"  {left} records left from earlier runs, drained first", flush=True)
            # A conviction arrives with its first notification; levels and meetings may still be at work
            # on it (and, after a rate not sustained, on many): the next rate waits for them.
            sustained, steps = await ladder(
                police, make, tail, _chain_marker, rates=rates, seconds=seconds,
                idle=lambda: settle(kafka, groups),
            )  # fmt: skip
            half = max(sustained / 2, rates[0] / 2)
            messages = make(int(half * half_seconds))
            await settle(kafka, groups)
            before = _cpu(local)
            at_half = await offer(police, messages, tail, _chain_marker, rate=half)
            await settle(kafka, groups)  # the CPU of all the work these events caused
            cpu = _per_1000(before, _cpu(local), len(messages))
            result.update(
                sustained_events_per_second=sustained,
                ladder=steps,
                half_rate=at_half,
                services={
                    name: {"cpu_s_per_1000_events": cpu[name], "peak_rss_mb": _peak_rss_mb(p.pid)}
                    for name, p in local.processes.items()
                },
            )
            result["cpu_ms_per_conviction"] = round(sum(cpu.values()), 3)
        finally:
            local.stop_all()
        # The backlog: published with the services stopped, drained once they are up.
        expected = await preload(police, make(backlog))
        local = LocalPlatform(data_dir=data / "backlog", env={"MAPPA_LOG_LEVEL": "WARNING"})
        try:
            local.start_all(CHAIN)
            started = time.monotonic()
            result["backlog"] = await drain(tail, _chain_marker, expected, started)
            # Services take the backlog as soon as they start: their start-up is estimated by the first run's.
            cpu = _per_1000(starting, _cpu(local), backlog)
            result["backlog"]["services"] = {
                name: {"cpu_s_per_1000_events": cpu[name], "peak_rss_mb": _peak_rss_mb(p.pid)}
                for name, p in local.processes.items()
            }
            result["backlog_events_per_second"] = result["backlog"]["events_per_second"]
        finally:
            local.stop_all()
    finally:
        await tail.stop()
    return result


async def scale_out(
    kafka: KafkaAccess,
    data: Path,
    rates: Sequence[float],
    seconds: float,
    *,
    rate: float,
    half_seconds: float,
) -> dict[str, Any]:
    """The chain on PostgreSQL with one, then two, replicas of each service: each one's sustained
    rate, and its latency at one offered ``rate`` (the same for both)."""
    with _postgres() as server:
        return {
            f"{replicas}_per_service": await _replicated(
                kafka, server, data / f"x{replicas}", replicas, rates, seconds, rate, half_seconds
            )
            for replicas in (1, 2)
        }


@contextmanager
def _postgres() -> Iterator[str]:
    """A local PostgreSQL server for one part of the run; its URL."""
    # A directory of its own: the server runs as the postgres user, who cannot enter ``data``.
    root = Path(tempfile.mkdtemp(prefix="mappa-bench-pg-"))
    server = start_postgres(root)
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


Replicas = dict[str, list[str]]


async def _on_postgres(
    server: str, data: Path, replicas: int
) -> tuple[LocalPlatform, dict[str, str], Replicas]:
    """The chain's services, ``replicas`` of each (not started), each service's database a fresh one on
    ``server``: the platform, each service's database URL, and the names of each one's replicas."""
    databases = {s: await fresh_database(server, f"bench_{s}") for s in CHAIN}
    env = {
        "MAPPA_LOG_LEVEL": "WARNING",
        **{f"MAPPA_{s.upper()}_DATABASE_URL": u for s, u in databases.items()},
    }
    names = {s: [s if n == 1 else f"{s}-{n}" for n in range(1, replicas + 1)] for s in CHAIN}
    every = [name for group in names.values() for name in group]
    ports = dict(zip(every, free_ports(len(every)), strict=True))
    return LocalPlatform(data_dir=data, env=env, ports=ports), databases, names


def _start(local: LocalPlatform, service: str, names: Replicas) -> None:
    for name in names[service]:
        local.start(service, replica=None if name == service else name)


async def _replicated(
    kafka: KafkaAccess,
    server: str,
    data: Path,
    replicas: int,
    rates: Sequence[float],
    seconds: float,
    rate: float,
    half_seconds: float,
) -> dict[str, Any]:
    local, _, names = await _on_postgres(server, data, replicas)
    police = kafka_access(AGENCY_POLICE.producer)
    make = _chain_messages(Synthetic(seed=10 + replicas))
    groups = [group_of(s) for s in CHAIN]
    tail = Tail(kafka, NOTIFICATIONS_DELIVERIES.name)
    await tail.start()
    try:
        for service in CHAIN:
            _start(local, service, names)
        for name in local.processes:
            local.wait_healthy(name)
        print(f"  {replicas} per service:", flush=True)
        sustained, steps = await ladder(
            police,
            make,
            tail,
            _chain_marker,
            rates=rates,
            seconds=seconds,
            idle=lambda: settle(kafka, groups),
        )
        await settle(kafka, groups)
        offered = make(int(rate * half_seconds))
        before = _cpu(local)
        at_rate = await offer(police, offered, tail, _chain_marker, rate=rate)
        await settle(kafka, groups)  # the CPU of all the work these events caused
        cpu = _per_1000(before, _cpu(local), len(offered))
        return {
            "sustained_events_per_second": sustained,
            "ladder": steps,
            "at_the_same_rate": at_rate,
            # The services' CPU per conviction, all replicas together: what a replica costs beside the
            # throughput it could add where there are cores for it.
            "cpu_ms_per_conviction": round(sum(cpu.values()), 3),
        }
    finally:
        local.stop_all()
        await tail.stop()


async def alone(kafka: KafkaAccess, data: Path, backlog: int) -> dict[str, Any]:
    """Each service of the chain alone on PostgreSQL, draining its input for ``backlog`` convictions
    with one replica, then with two: what a replica adds where the machine has a core for it."""
    with _postgres() as server:
        return {
            f"{replicas}_per_service": await _each_alone(
                kafka, server, data / f"a{replicas}", replicas, backlog
            )
            for replicas in (1, 2)
        }


async def _each_alone(
    kafka: KafkaAccess, server: str, data: Path, replicas: int, backlog: int
) -> dict[str, Any]:
    """The backlog is published with every service stopped; then each service in the chain's order
    drains what the one before it left (its input), with nothing else of the platform running."""
    local, databases, names = await _on_postgres(server, data, replicas)
    for service in CHAIN:
        await _skip_to_the_end(kafka, group_of(service))
    make = _chain_messages(Synthetic(seed=20 + replicas))
    await preload(kafka_access(AGENCY_POLICE.producer), make(backlog))
    result: dict[str, Any] = {}
    try:
        for service in CHAIN:
            _start(local, service, names)
            result[service] = await _drained(
                kafka, group_of(service), replicas, Database(databases[service]), backlog
            )
            print(f"  {replicas} of {service}: {result[service]}", flush=True)
            for name in names[service]:
                local.stop(name)
    finally:
        local.stop_all()
    return result


async def _drained(
    kafka: KafkaAccess, group: str, replicas: int, db: Database, convictions: int
) -> dict[str, Any]:
    """How fast the group's backlog is taken, from when all its ``replicas`` have joined the group
    (start-up and the rebalances as each joins left out) until nothing is left to read and its
    outbox has published everything."""
    admin = make_admin(kafka, client_id="mappa-bench")
    consumer = AIOKafkaConsumer(**kafka.options())
    await admin.start()
    await consumer.start()
    try:
        backlog = await _lag(admin, consumer, group)
        first: tuple[float, int] | None = None
        async with asyncio.timeout(SETTLE_SECONDS):
            while True:
                lag, now = await _lag(admin, consumer, group), time.monotonic()
                if first is None and await _joined(admin, group) == replicas:
                    first = (now, lag)
                if first is not None and lag == 0:
                    async with db.transaction() as session:
                        if await outbox.count(session) == 0:
                            break
                await asyncio.sleep(0.2)  # polling the group's progress, as an operator would
    finally:
        await consumer.stop()
        await admin.close()
        await db.dispose()
    if first is None or first[1] == 0:
        # One replica took it all while the others started: too little work here for a second replica.
        return {"input_records": backlog, "drained_before_all_had_joined": True}
    seconds = now - first[0]
    return {
        "input_records": backlog,
        "records_per_second": round(first[1] / seconds, 1),
        "convictions_per_second": round(first[1] / seconds * convictions / backlog, 1),
    }


async def _joined(admin: Any, group: str) -> int:
    """How many members the group has, once its assignment is settled (0 while it rebalances)."""
    [response] = await admin.describe_consumer_groups([group])
    _, _, state, _, _, members, *_ = response.groups[0]
    return len(members) if state == "Stable" else 0


async def _skip_to_the_end(kafka: KafkaAccess, group: str) -> None:
    """Moves the group (none of its services running) past whatever its topics hold now: the backlog
    it drains is then this run's alone, whatever earlier runs left unread."""
    admin = make_admin(kafka, client_id="mappa-bench")
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(**kafka.options(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(committed))
        ends = await consumer.end_offsets(list(committed))
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()


async def _lag(admin: Any, consumer: AIOKafkaConsumer, group: str) -> int:
    committed = await admin.list_consumer_group_offsets(group)
    ends = await consumer.end_offsets(list(committed))
    return sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items() if meta.offset >= 0)


async def rebuild_rate(data: Path, name: str) -> dict[str, Any]:
    """``deploy.rebuild <name>`` into a fresh database, over whatever the broker holds."""
    settings = Settings(name)
    settings.database_url = f"sqlite+inloop:///{data / f'{name}.db'}"
    chosen = REBUILDABLE[name]
    cpu = time.process_time()
    done = await rebuild(chosen.create(settings=settings), steer=chosen.steer)
    cpu = time.process_time() - cpu
    return {
        "records": done.records,
        "seconds": round(done.seconds, 1),
        "records_per_second": round(done.per_second),
        # The same work per record as the live service's (for operations, what it adds to the chain).
        "cpu_us_per_record": round(cpu * 1e6 / max(done.records, 1), 1),
        "not_applied": done.not_applied,
        "emitted_again_and_dropped": done.dropped_events,
        "finished": done.finished,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="100,200,400,700,1000,1500,2000,3000,4000,6000,8000,11000,15000",
                        help="offered rates to try, in events/s, ascending")  # fmt: skip
    parser.add_argument("--pg-rates", default="25,50,75,100,125,150,200,250,300,400",
                        help="the scale-out's rates (on PostgreSQL), in events/s, ascending")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each rate is offered")
    parser.add_argument("--half-seconds", type=float, default=20.0, help="how long half rate is offered")
    parser.add_argument("--backlog", type=int, default=20_000, help="events preloaded for the drain")
    parser.add_argument(
        "--delivery-backlog", type=int, default=2_000, help="convictions preloaded for deliveries"
    )
    parser.add_argument(
        "--alone-backlog", type=int, default=4_000, help="convictions each service drains alone"
    )
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    use_local_broker()
    kafka = kafka_access("admin")  # the operator's: it makes the raw relay's topics and reads every group
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"arch": host.machine(), "cpus": os.cpu_count(), "python": host.python_version()},
        "p99_limit_ms": P99_LIMIT_SECONDS * 1000,
        "seconds_per_rate": args.seconds,
    }
    print("raw aiokafka relay, four hops:", flush=True)
    results["raw"] = asyncio.run(raw(kafka, rates, args.seconds, args.backlog))
    print("  backlog:", results["raw"]["backlog"], flush=True)
    print("four-service chain:", flush=True)
    with tempfile.TemporaryDirectory(prefix="mappa-bench-") as data:
        results["chain"] = asyncio.run(
            chain(kafka, Path(data), rates, args.seconds, args.half_seconds, args.backlog)
        )
    print("  half rate:", results["chain"]["half_rate"], flush=True)
    print("  services:", results["chain"]["services"], flush=True)
    print("  backlog:", results["chain"]["backlog"], flush=True)
    print("notification deliveries (SMTP and webhooks to local receivers):", flush=True)
    half = max(results["chain"]["sustained_events_per_second"] / 2, rates[0] / 2)
    with tempfile.TemporaryDirectory(prefix="mappa-bench-") as data:
        results["deliveries"] = asyncio.run(
            deliveries(kafka, Path(data), _chain_messages(Synthetic(seed=2)), rate=half,
                       seconds=args.half_seconds, backlog=args.delivery_backlog)
        )  # fmt: skip
    print("  ", results["deliveries"], flush=True)
    print("the chain on PostgreSQL, one and two replicas of each service:", flush=True)
    with tempfile.TemporaryDirectory(prefix="mappa-bench-") as data:
        results["scale_out"] = asyncio.run(
            scale_out(
                kafka,
                Path(data),
                [float(r) for r in args.pg_rates.split(",")],
                args.seconds,
                rate=half,
                half_seconds=args.half_seconds,
            )
        )
    for replicas, figures in results["scale_out"].items():
        print(f"  {replicas}: {figures['sustained_events_per_second']}/s sustained; at {half:.0f}/s:",
              figures["at_the_same_rate"], flush=True)  # fmt: skip
    print(f"each service alone on PostgreSQL, one and two replicas ({args.alone_backlog} convictions):",
          flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mappa-bench-") as data:
        results["each_alone"] = asyncio.run(alone(kafka, Path(data), args.alone_backlog))
    for name in REBUILDABLE:
        print(f"{name} rebuilt from the log into an empty database (every record on the broker):", flush=True)
        with tempfile.TemporaryDirectory(prefix="mappa-bench-") as data:
            results[f"rebuild_{name}"] = asyncio.run(rebuild_rate(Path(data), name))
        print("  ", results[f"rebuild_{name}"], flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
