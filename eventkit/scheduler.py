"""Time-driven rules: a job run on a schedule, against an injectable clock, never twice for one thing.

A job runs in one transaction with an Emitter, so what it records and the
events it emits commit together. ``once`` claims a (job, key) pair in that
transaction: a key already claimed, before a restart or on another
instance, is skipped, so an overdue notice is published once however
often the job runs.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import Column, DateTime, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.clock import Clock, system_clock
from eventkit.db import Database, insert_if_new, kit_metadata, try_hold
from eventkit.outbox import Emitter
from eventkit.tasks import Loop

log = logging.getLogger(__name__)

Job = Callable[[Emitter, datetime], Awaitable[None]]

schedule_marks = Table(
    "kit_schedule_marks",
    kit_metadata,
    Column("job", String(64), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)


async def once(session: AsyncSession, *, job: str, key: str, now: datetime) -> bool:
    """Claim ``key`` for ``job`` in this transaction; False if it was claimed before."""
    claimed = await session.execute(
        insert_if_new(session, schedule_marks), {"job": job, "key": key, "at": now}
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


class Scheduler:
    def __init__(
        self,
        db: Database,
        job: Job,
        *,
        source: str,
        clock: Clock = system_clock,
        interval_seconds: float = 60.0,
    ) -> None:
        self._db = db
        self._job = job
        self._source = source
        self._clock = clock
        self._interval = interval_seconds
        self._name = getattr(job, "__name__", "job")
        self._loop = Loop(self._run, f"scheduler-{self._name}")

    async def tick(self) -> int:
        """Run the job once at the clock's time; returns how many events it emitted."""
        async with self._db.transaction() as session:
            # One replica runs it at a time; the others skip this turn (``once`` keeps it once anyway).
            if not await try_hold(session, f"{self._source} {self._name}"):
                return 0
            work = Emitter(session, self._source)
            await self._job(work, self._clock())
        return work.emitted

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.cancel()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception as error:
                log.warning("scheduled job failed (%s); will run again", type(error).__name__)
            await asyncio.sleep(self._interval)  # the schedule's cadence
