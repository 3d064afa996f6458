"""The registry's part in ``python -m deploy.rebuild registry``: the register again from the agency
topics, under the platform ids it published and with the decisions people made, publishing nothing.

- An agency event is applied to the nominal the live register applied it to (``steering.py``), as of
  the time it applied it there (the register's clock, never the sender's). A nominal is registered
  under the platform id and at the time it was first published with.
- Resolution cases are kept, not rebuilt: they hold co-ordinators' decisions and work. An event one
  holds open or was dismissed stays so; one a co-ordinator applied is applied to that nominal.
- An event that published nothing and whose person is not yet known waits until they are. What still
  waits when the log ends is applied as the live register would apply it (counted).
- Breaches the schedule recorded are recorded again from ``notification-overdue``, and category 1
  ends again wherever the schedule's marks (which stay) say it ended it; nothing is done twice.
- The register's history stays too, and says whom each event that published nothing (custody
  started, say) was about, and when it was applied.
- Merges and unmerges are made again, in the order published and with their merge ids, after the
  agency events. Who decided one, and when, is kept from the register being rebuilt (no event names
  staff); from an empty one, the author is unknown and the time is the event's.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import Table, func, select, text

from eventkit.clock import local_date
from eventkit.consumer import BatchResult, UnitOfWork
from eventkit.db import insert_if_new, utc
from eventkit.history import history
from eventkit.outbox import Cause, Emitter
from eventkit.service import Service
from eventkit.subscription import BatchConsumer
from schemas.catalogue import REGISTRY_OFFENDERS
from schemas.envelope import CloudEvent
from services.registry import merging, steering
from services.registry.handlers.resolve import replay
from services.registry.schedule import category_ends_again
from services.registry.storage import RegistryStore
from services.registry.tables import breaches, merges, nominals, resolution_cases

Reader = Callable[[Sequence[str], BatchConsumer], Awaitable[tuple[int, int]]]
UNKNOWN_AUTHOR = "unknown (rebuilt from the log)"


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

    def __init__(self, service: Service, read: Reader) -> None:
        self._service = service
        self._read = read
        self._published = steering.Published()
        self._merges: dict[int, Any] = {}
        self._state: steering.Rebuilding | None = None
        self._now = datetime.now(UTC)

    async def prepare(self) -> None:
        """What the register published, and what the rebuild keeps, read before anything is emptied."""
        await self._read([REGISTRY_OFFENDERS.name], _Folding(self._published))
        async with self._service.db.transaction() as session:
            lines = select(history.c.cause_id, history.c.subject, history.c.at).order_by(history.c.id)
            for line in await session.execute(lines):
                self._published.add_line(line.cause_id, line.subject, utc(line.at))
            kept = select(merges.c.id, merges.c.decided_by, merges.c.decided_at, merges.c.undone_at)
            self._merges = {row.id: row for row in await session.execute(kept)}
            case = resolution_cases.c
            cases = await session.execute(select(case.event_id, case.status, case.decided_nominal))
        held = {row.event_id: (row.status, row.decided_nominal) for row in cases}
        self._state = steering.Rebuilding(self._published, held)
        self._token = steering.begin(self._state)
        times = self._published.applied_at.values()
        self._now = min(times) if times else datetime.now(UTC)

    def clock(self) -> datetime:
        """The register's clock when it applied the events being applied again."""
        return self._now

    def saw(self, records: Sequence[ConsumerRecord]) -> None:
        applied = self._published.applied_at
        times = [applied[i] for i in map(_event_id, records) if i in applied]
        self._now = max([self._now, *times])

    async def finish(self) -> str:
        state = self._state
        assert state is not None, "prepare() first"
        try:
            leftover = len(state.waiting)
            state.may_wait = False
            self._now = datetime.now(UTC)
            policies = self._service.consumer_config.policies
            async with self._service.db.transaction() as session:
                while state.waiting:
                    _, (_, _, event) = state.waiting.popitem()
                    held = CloudEvent.model_validate(event)
                    await replay(UnitOfWork(session, merging.SOURCE, held, policies, now=self._now), event)
                recorded = await self._breaches(session)
                # The schedule's end of category 1, before and after the merges (a merge may have
                # brought the requirement, or taken a category that had already ended).
                schedule = Emitter(session, merging.SOURCE, Cause("rebuild", "rebuild"))
                ended = await category_ends_again(schedule)
                decisions = await self._decisions(session)
                ended += await category_ends_again(schedule)
                ids = set((await session.execute(select(nominals.c.platform_id))).scalars())
        finally:
            steering.end(self._token)
        afresh = len(ids - self._published.registered_at.keys())
        return (
            f"{len(ids)} nominals, {afresh} of them under a platform id the log did not hold; "
            f"{recorded} breaches recorded again, category 1 ended again for {ended}, "
            f"{decisions} merges and unmerges made again; "
            f"{leftover} events waited to the end for their person"
        )

    async def _breaches(self, session: Any) -> int:
        recorded = 0
        for breach in self._published.breaches:
            if await RegistryStore(session).has_nominal(breach.platform_id):
                done = await session.execute(
                    insert_if_new(session, breaches),
                    dict(
                        platform_id=breach.platform_id,
                        notification=breach.notification,
                        deadline=breach.deadline,
                        recorded_at=breach.at,
                    ),
                )
                recorded += done.rowcount
        return recorded

    async def _decisions(self, session: Any) -> int:
        made = 0
        for decision in self._published.in_order():
            before = self._merges.get(decision.merge_id)
            if isinstance(decision, steering.MergeMade):
                await merging.merge(
                    session,
                    decision.survivor,
                    decision.absorbed,
                    decided_by=before.decided_by if before else UNKNOWN_AUTHOR,
                    area=decision.area,
                    today=local_date(decision.at),
                    merge_id=decision.merge_id,
                    decided_at=utc(before.decided_at) if before else decision.at,
                )
            else:
                undone = utc(before.undone_at) if before and before.undone_at else decision.at
                on = local_date(decision.at)
                await merging.unmerge(session, decision.merge_id, today=on, undone_at=undone)
            made += 1
        if session.get_bind().dialect.name == "postgresql":
            # Merge ids were given, not drawn: the next decision's id follows the largest.
            top = await session.scalar(select(func.max(merges.c.id)))
            if top is not None:
                following = text("select setval(pg_get_serial_sequence('merges', 'id'), :top)")
                await session.execute(following, {"top": top})
        return made


def _event_id(record: ConsumerRecord) -> Any:
    """The record's event id, read without validating it (the consumer does that, next)."""
    try:
        return json.loads(record.value).get("id")
    except (ValueError, TypeError, AttributeError):
        return None
