"""Benchmark: a raw aiokafka four-hop relay versus the skeleton flow through the four services.

Both run against the same local broker at the same fixed offered rate. Each
event's end-to-end latency is measured from just before its publish to its
arrival at the end of the chain; events/s is what arrived divided by the
time from the first publish to the last arrival. Figures go to
bench/results/latest.json. Not part of the tests: nothing here asserts a time.
"""

import argparse
import asyncio
import itertools
import json
import os
import platform as host
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from deploy.local import LocalPlatform
from deploy.watch import Tail
from eventkit.broker import ensure_topics
from eventkit.settings import PlatformSettings
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, NOTIFICATIONS_DELIVERIES

RESULTS = Path(__file__).parent / "results"
RAW_TOPICS = [f"bench.raw.hop{i}" for i in range(5)]  # publish to hop0; four relays; read hop4


def _summary(latencies: list[float], first_send: float, last_arrival: float, offered: int) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "offered": offered,
        "delivered": len(ordered),
        "events_per_second": round(len(ordered) / (last_arrival - first_send), 1),
        "latency_ms_p50": round(statistics.median(ordered) * 1000, 1),
        "latency_ms_p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "latency_ms_max": round(ordered[-1] * 1000, 1),
    }


async def _drive(
    send: Callable[[int], Awaitable[tuple[str, Awaitable[object]]]],
    tail: Tail,
    marker_of: Callable[[ConsumerRecord], str | None],
    *,
    rate: float,
    count: int,
) -> dict[str, Any]:
    """Offer ``count`` events at ``rate``/s, then collect their arrivals.

    Sends are not awaited one by one, so a slow acknowledgement does not
    lower the offered rate; latency counts from each event's scheduled time.
    """
    sent: dict[str, float] = {}
    acks: list[Awaitable[object]] = []
    start = time.monotonic()
    for i in range(count):
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))  # pacing, not synchronisation
        marker, ack = await send(i)
        sent[marker] = scheduled
        acks.append(ack)
    await asyncio.gather(*acks)
    latencies: dict[str, float] = {}
    last = start
    deadline = time.monotonic() + 120
    while len(latencies) < count and time.monotonic() < deadline:
        try:
            record, arrived = await asyncio.wait_for(tail.arrivals.get(), timeout=5)
        except TimeoutError:
            continue
        arrived_marker = marker_of(record)
        if arrived_marker in sent and arrived_marker not in latencies:
            latencies[arrived_marker] = arrived - sent[arrived_marker]
            last = max(last, arrived)
    return _summary(list(latencies.values()), start, last, count)


async def raw_relay(bootstrap: str, rate: float, count: int) -> dict[str, Any]:
    """Four aiokafka consume-and-republish hops; offsets committed after each republished batch."""
    await ensure_topics(bootstrap, RAW_TOPICS, partitions=6, replication_factor=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    stop = asyncio.Event()
    ready = asyncio.Semaphore(0)

    async def hop(source: str, target: str) -> None:
        consumer = AIOKafkaConsumer(
            source,
            bootstrap_servers=bootstrap,
            group_id=f"bench-raw-{source}",
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        await consumer.start()
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        ready.release()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=100)
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

    hops = [asyncio.create_task(hop(a, b)) for a, b in itertools.pairwise(RAW_TOPICS)]
    for _ in hops:
        await ready.acquire()
    tail = Tail(bootstrap, RAW_TOPICS[-1])
    await tail.start()

    async def send(i: int) -> tuple[str, Awaitable[object]]:
        marker = f"raw-{i}-{secrets.token_hex(4)}"
        return marker, await producer.send(RAW_TOPICS[0], marker.encode(), key=str(i).encode())

    try:
        return await _drive(send, tail, lambda r: r.value.decode(), rate=rate, count=count)
    finally:
        stop.set()
        await asyncio.gather(*hops)
        await tail.stop()
        await producer.stop()


async def skeleton_flow(bootstrap: str, rate: float, count: int) -> dict[str, Any]:
    """Convictions in, notifications out, through the four service processes."""
    synthetic = Synthetic(seed=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()

    def trace_of(record: ConsumerRecord) -> str | None:
        headers = dict(record.headers)
        parent = headers.get("traceparent")
        return parent.decode().split("-")[1] if parent else None

    tail = Tail(bootstrap, NOTIFICATIONS_DELIVERIES.name)
    await tail.start()

    async def send(_i: int) -> tuple[str, Awaitable[object]]:
        event = synthetic.conviction_event()
        trace_id = secrets.token_hex(16)
        ack = await producer.send(
            AGENCY_POLICE.name,
            event.to_json(),
            key=event.data["person"]["pnc_id"].encode(),
            headers=[("traceparent", f"00-{trace_id}-{secrets.token_hex(8)}-01".encode())],
        )
        return trace_id, ack

    try:
        return await _drive(send, tail, trace_of, rate=rate, count=count)
    finally:
        await tail.stop()
        await producer.stop()


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


def _services(local: LocalPlatform, cpu_before: dict[str, float], count: int) -> dict[str, Any]:
    """CPU per 1,000 events offered (start-up excluded) and peak RSS of each service process."""
    return {
        name: {
            "cpu_s_per_1000_events": round((_cpu_seconds(process.pid) - cpu_before[name]) * 1000 / count, 2),
            "peak_rss_mb": _peak_rss_mb(process.pid),
        }
        for name, process in local.processes.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0, help="offered events per second")
    parser.add_argument("--count", type=int, default=1500, help="events offered per scenario")
    args = parser.parse_args()
    bootstrap = PlatformSettings().kafka_bootstrap_servers
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"arch": host.machine(), "cpus": os.cpu_count(), "python": host.python_version()},
        "offered_rate_per_second": args.rate,
    }
    results["raw_aiokafka_four_hops"] = asyncio.run(raw_relay(bootstrap, args.rate, args.count))
    print("raw aiokafka, four hops:", results["raw_aiokafka_four_hops"])
    with tempfile.TemporaryDirectory(prefix="mappa-bench-") as data:
        local = LocalPlatform(data_dir=Path(data), env={"MAPPA_LOG_LEVEL": "WARNING"})
        try:
            local.start_all()
            cpu_before = {name: _cpu_seconds(p.pid) for name, p in local.processes.items()}
            results["skeleton_flow_four_services"] = asyncio.run(
                skeleton_flow(bootstrap, args.rate, args.count)
            )
            results["skeleton_flow_four_services"]["services"] = _services(local, cpu_before, args.count)
        finally:
            local.stop_all()
    print("skeleton flow, four services:", results["skeleton_flow_four_services"])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
