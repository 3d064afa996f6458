"""The registry's part in ``python -m deploy.rebuild registry``: the register again from the agency
topics, under the platform ids it published and with the decisions people made, publishing nothing.

- An agency event is applied to the nominal the live register applied it to (``steering.py``): its
  published events say which, and for an event that published nothing (custody started, say) its
  history, which the rebuild keeps. A nominal is registered under its published platform id and time,
  with the details of the event that registered it.
- Events are applied in the order and on the day the live register applied them, as near as the log
  tells: across partitions by the time of what each published (or of its history line); an event
  with neither, no earlier than it reached the broker or than the one before it on its partition.
- Between them, at the time each was made: merges and unmerges again (with their merge ids), category
  1 ended again where the schedule's marks (which stay) say it ended it, breaches recorded again from
  ``notification-overdue``.
- Resolution cases are kept, not rebuilt: they hold co-ordinators' decisions and work. An event one
  holds open or was dismissed stays so; one a co-ordinator applied is applied to that nominal.
- An event whose person is not yet known in the rebuild's order waits until they are. What still
  waits when the log ends is applied as the live register would apply it (counted).
- Who decided a merge, and when, is kept from the register being rebuilt (no event names staff);
  from an empty database, the author is unknown and the time is the event's.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import Row, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.clock import local_date
from eventkit.consumer import BatchResult, UnitOfWork
from eventkit.db import insert_if_new, utc
from eventkit.history import history
from eventkit.outbox import Cause, Emitter
from eventkit.scheduler import schedule_marks
from eventkit.service import Service
from eventkit.subscription import BatchConsumer
from schemas.catalogue import REGISTRY_OFFENDERS
from schemas.envelope import CloudEvent
from services.registry import merging, steering
from services.registry.handlers.resolve import replay
from services.registry.schedule import CATEGORY_ENDS, category_1_ended
from services.registry.storage import RegistryStore
from services.registry.tables import breaches, merges, nominals, resolution_cases

Reader = Callable[[Sequence[str], BatchConsumer], Awaitable[tuple[int, int]]]
UNKNOWN_AUTHOR = "unknown (rebuilt from the log)"


@dataclass(frozen=True)
class CategoryEnd:
    """The schedule ended category 1 here (its mark's key), at ``at``."""

    key: str
    at: datetime


Due = steering.MergeMade | steering.MergeUndone | steering.Breach | CategoryEnd


class _Folding:
    """Reads the register's published events into ``Published``."""

    def __init__(self, published: steering.Published) -> None:
        self._published = published

    async def process_batch(self, records: Sequence[ConsumerRecord]) -> BatchResult:
        for record in records:
            self._published.add(CloudEvent.model_validate_json(record.value))
        return BatchResult(["applied"] * len(records))


class RegisterRebuild:
    """``deploy.rebuild``'s ``Steer`` for the register."""

    keeps: tuple[Table, ...] = (resolution_cases,)
    reads: tuple[str, ...] = (REGISTRY_OFFENDERS.name,)

    def __init__(self, service: Service, read: Reader) -> None:
        self._service = service
        self._read = read
        self._published = steering.Published()
        self._state = steering.Rebuilding(self._published, {})
        self._merges: dict[int, Row[Any, Any, Any, Any]] = {}
        self._due: list[Due] = []
        self._left: list[Due] = []  # due when their nominal was not there yet: tried again at the end
        self._done = {"breaches": 0, "ends": 0, "decisions": 0}
        self._last: dict[tuple[str, int], datetime] = {}
        self._keyed: dict[tuple[str, int, int], datetime] = {}
        self._now = datetime.now(UTC)
        self._token: Any = None

    async def prepare(self) -> None:
        """What the register published and recorded, read before anything is emptied."""
        await self._read(self.reads, _Folding(self._published))
        async with self._service.db.transaction() as session:
            lines = select(history.c.cause_id, history.c.subject, history.c.at).order_by(history.c.id)
            for line in await session.execute(lines):
                self._published.add_line(line.cause_id, line.subject, utc(line.at))
            made = select(merges.c.id, merges.c.decided_by, merges.c.decided_at, merges.c.undone_at)
            self._merges = {row.id: row for row in await session.execute(made)}
            case = resolution_cases.c
            cases = await session.execute(select(case.event_id, case.status, case.decided_nominal))
            marks = select(schedule_marks.c.key, schedule_marks.c.at).where(
                schedule_marks.c.job == CATEGORY_ENDS
            )
            ends = [CategoryEnd(row.key, utc(row.at)) for row in await session.execute(marks)]
        self._state.cases = {row.event_id: (row.status, row.decided_nominal) for row in cases}
        due: list[Due] = [*self._published.decisions, *self._published.breaches, *ends]
        self._due = sorted(due, key=lambda d: (d.at, isinstance(d, steering.MergeUndone)))
        self._token = steering.begin(self._state)

    def clock(self) -> datetime:
        """The register's clock when it applied the records being applied again."""
        return self._now

    def order(self, record: ConsumerRecord) -> datetime:
        """When the live register applied the record: the time of what it published or of its history
        line, else the later of when it reached the broker and when the record before it on its
        partition was applied."""
        place = (record.topic, record.partition)
        at = self._published.applied_at.get(_event_id(record))
        if at is None:
            # Not applied before it reached the broker, nor before the record ahead of it.
            arrived = datetime.fromtimestamp(record.timestamp / 1000, UTC)
            at = max(arrived, self._last.get(place, arrived))
        self._last[place] = self._keyed[(*place, record.offset)] = at
        return at

    async def apply(self, records: Sequence[ConsumerRecord], consumer: BatchConsumer) -> BatchResult:
        """The records (in the order the live register applied them), a day at a time, with what was
        decided between them made again at its time."""
        outcomes: list[Any] = []
        run: list[tuple[datetime, ConsumerRecord]] = []
        for record in records:
            at = self._keyed.pop((record.topic, record.partition, record.offset))
            if run and (local_date(at) != local_date(run[0][0]) or (self._due and self._due[0].at <= at)):
                result = await self._applied(run, consumer)
                outcomes += result.outcomes
                if result.unavailable is not None:
                    return BatchResult(outcomes, result.unavailable)
                run = []
            await self._decide(until=at)
            run.append((at, record))
        result = await self._applied(run, consumer)
        return BatchResult(outcomes + result.outcomes, result.unavailable)

    async def _applied(
        self, run: list[tuple[datetime, ConsumerRecord]], consumer: BatchConsumer
    ) -> BatchResult:
        if not run:
            return BatchResult([])
        self._now = max(at for at, _ in run)  # one day's records: the rules' today is theirs
        return await consumer.process_batch([record for _, record in run])

    async def _decide(self, *, until: datetime | None) -> None:
        """Make again what was decided up to ``until`` (everything, if None)."""
        while self._due and (until is None or self._due[0].at <= until):
            due = self._due.pop(0)
            async with self._service.db.transaction() as session:
                if not await self._made(session, due):
                    self._left.append(due)

    async def _made(self, session: AsyncSession, due: Due) -> bool:
        """Make one decision again; False if what it is about is not on the register yet."""
        store = RegistryStore(session)
        if isinstance(due, steering.Breach):
            if not await store.has_nominal(due.platform_id):
                return False
            row = dict(platform_id=due.platform_id, notification=due.notification, deadline=due.deadline)
            done = await session.execute(insert_if_new(session, breaches), {**row, "recorded_at": due.at})
            self._done["breaches"] += done.rowcount  # type: ignore[attr-defined]
            return True
        if isinstance(due, CategoryEnd):
            platform_id, _, last_day = due.key.rpartition("/")
            try:
                ending = (platform_id, date.fromisoformat(last_day))
            except ValueError:
                return False  # a mark from before its key named the requirement's last day
            if ending not in await store.requirement_ends(category=1):
                return False
            await category_1_ended(
                Emitter(session, merging.SOURCE, Cause("rebuild", "rebuild")), *ending, due.key
            )
            self._done["ends"] += 1
            return True
        before = self._merges.get(due.merge_id)
        if isinstance(due, steering.MergeMade):
            if not (await store.has_nominal(due.survivor) and await store.has_nominal(due.absorbed)):
                return False
            await merging.merge(
                session,
                due.survivor,
                due.absorbed,
                decided_by=before.decided_by if before else UNKNOWN_AUTHOR,
                area=due.area,
                today=local_date(due.at),
                merge_id=due.merge_id,
                decided_at=utc(before.decided_at) if before else due.at,
            )
        else:
            undone = utc(before.undone_at) if before and before.undone_at else due.at
            if (
                await merging.unmerge(session, due.merge_id, today=local_date(due.at), undone_at=undone)
                is None
            ):
                return False
        self._done["decisions"] += 1
        return True

    async def finish(self) -> str:
        state = self._state
        leftover = len(state.waiting)
        state.may_wait = False
        self._now = datetime.now(UTC)
        policies = self._service.consumer_config.policies
        while state.waiting:
            # One at a time: applying one may apply others waiting for the same person.
            _, (_, _, event) = state.waiting.popitem()
            async with self._service.db.transaction() as session:
                held = CloudEvent.model_validate(event)
                await replay(UnitOfWork(session, merging.SOURCE, held, policies, now=self._now), event)
        await self._decide(until=None)
        self._due, self._left = self._left, []
        await self._decide(until=None)
        async with self._service.db.transaction() as session:
            await _merge_ids_follow(session)
            ids = set((await session.execute(select(nominals.c.platform_id))).scalars())
        afresh = len(ids - self._published.registered_at.keys())
        done = self._done
        return (
            f"{len(ids)} nominals, {afresh} of them under a platform id the log did not hold; "
            f"{done['breaches']} breaches recorded again, category 1 ended again for {done['ends']}, "
            f"{done['decisions']} merges and unmerges made again, {len(self._left)} could not be; "
            f"{leftover} events waited to the end for their person; {state.unplaced} events found no "
            "nominal"
        )

    def close(self) -> None:
        if self._token is not None:
            steering.end(self._token)
            self._token = None


async def _merge_ids_follow(session: AsyncSession) -> None:
    """Merge ids were given, not drawn: PostgreSQL's next one follows the largest."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if (top := await session.scalar(select(func.max(merges.c.id)))) is not None:
        await session.execute(
            text("select setval(pg_get_serial_sequence('merges', 'id'), :top)"), {"top": top}
        )


def _event_id(record: ConsumerRecord) -> Any:
    """The record's event id, read without validating it (the consumer does that, next)."""
    try:
        return json.loads(record.value).get("id")
    except (ValueError, TypeError, AttributeError):
        return None
