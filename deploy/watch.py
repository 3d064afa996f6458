"""Watching topics from their current end, as a dashboard would: for the demo and the benchmark."""

import asyncio
import secrets
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from eventkit.tasks import Loop


class Tail:
    """Reads new records on some topics, each with the moment it arrived."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self.arrivals: asyncio.Queue[tuple[ConsumerRecord, float]] = asyncio.Queue()
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=f"mappa-watch-{secrets.token_hex(4)}",
            auto_offset_reset="latest",
            enable_auto_commit=False,
        )
        self._loop = Loop(self._pump, "tail")

    async def start(self) -> None:
        """Returns once every partition is assigned and positioned at its end."""
        await self._consumer.start()
        while not self._consumer.assignment():
            await self._consumer.getmany(timeout_ms=100)
        await self._consumer.seek_to_end()
        for partition in self._consumer.assignment():
            await self._consumer.position(partition)
        self._loop.start()

    async def _pump(self) -> None:
        async for record in self._consumer:
            self.arrivals.put_nowait((record, time.monotonic()))

    async def stop(self) -> None:
        await self._loop.cancel()
        await self._consumer.stop()
