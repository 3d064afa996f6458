"""What the dashboard's read model writes and reads.

Writes are single upserts of the columns an event speaks for. Reads count
and list by area: a measure's rows are chosen by one ``where`` clause below
(``measures.py`` says what each means).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import upsert, utc
from schemas.events import operations
from services.operations.measures import BY_KEY, CATEGORIES, LEVELS, caseload_cell, caseload_key
from services.operations.tables import actions, cases, dead_letters, meetings, notices

_OPEN_MEETING = ("required", "overdue", "scheduled")

# Per measure: the table it counts, the id it lists, and which rows it takes.
_WHERE: Mapping[str, tuple[Any, Any, ColumnElement[bool]]] = {
    "reviews-due": (cases, cases.c.platform_id, cases.c.review_stage == "due"),
    "reviews-overdue": (cases, cases.c.platform_id, cases.c.review_stage == "overdue"),
    "release-screenings-due": (cases, cases.c.platform_id, cases.c.release_screening_by.is_not(None)),
    "registrations-overdue": (cases, cases.c.platform_id, cases.c.registration_overdue_since.is_not(None)),
    "meetings-required": (meetings, meetings.c.meeting_id, meetings.c.state.in_(_OPEN_MEETING)),
    "meetings-unscheduled": (meetings, meetings.c.meeting_id, meetings.c.state.in_(("required", "overdue"))),
    "meetings-overdue": (meetings, meetings.c.meeting_id, meetings.c.state == "overdue"),
    "minutes-overdue": (meetings, meetings.c.meeting_id, meetings.c.minutes_overdue),
    "actions-overdue": (actions, actions.c.action_id, actions.c.state == "overdue"),
    "notifications-failed": (notices, notices.c.notification_id, notices.c.failed),
    "notifications-unacknowledged": (
        notices,
        notices.c.notification_id,
        notices.c.urgent & ~notices.c.acknowledged,
    ),
}
assert _WHERE.keys() == BY_KEY.keys()
# The date a measure's list shows beside each id (measures.Measure.dated).
_DATED: Mapping[str, Any] = {
    "reviews-due": cases.c.review_by,
    "reviews-overdue": cases.c.review_by,
    "release-screenings-due": cases.c.release_screening_by,
    "registrations-overdue": cases.c.registration_overdue_since,
    "meetings-required": meetings.c.required_by,
    "meetings-unscheduled": meetings.c.required_by,
    "meetings-overdue": meetings.c.required_by,
    "actions-overdue": actions.c.due_on,
}
assert {key for key, m in BY_KEY.items() if m.dated} == _DATED.keys()


# Conditions for upserts, made once: ``upsert`` keeps a statement per condition it is given.
def _not_overdue_yet(_offered: Any) -> ColumnElement[bool]:
    return cases.c.registration_overdue_since.is_(None)


def _undecided(_offered: Any) -> ColumnElement[bool]:
    return dead_letters.c.decision.is_(None)


@dataclass(frozen=True)
class Listed:
    """A row of a measure's list: the platform id, the meeting, action or notification id, and a date."""

    platform_id: str
    item_id: str
    on: date | None = None


def _in_area(table: Any, area: str) -> ColumnElement[bool]:
    """The rows of the area's open MAPPA cases (a case's meetings and notifications by its case)."""
    in_area = (cases.c.area == area) & cases.c.in_mappa
    if table is cases:
        return in_area
    platform_id: ColumnElement[str] = table.c.platform_id
    return platform_id.in_(select(cases.c.platform_id).where(in_area))


class CaseworkStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def case(self, platform_id: str, **columns: Any) -> None:
        statement = upsert(self._session, cases, tuple(sorted(columns)))
        await self._session.execute(statement, {"platform_id": platform_id, **columns})

    async def registration_overdue(self, platform_id: str, deadline: date) -> None:
        """Overdue since the first deadline passed, until the nominal next notifies."""
        statement = upsert(self._session, cases, ("registration_overdue_since",), _not_overdue_yet)
        await self._session.execute(
            statement, {"platform_id": platform_id, "registration_overdue_since": deadline}
        )

    async def meeting(self, meeting_id: str, platform_id: str, state: str, **columns: Any) -> None:
        statement = upsert(self._session, meetings, ("state", *sorted(columns)))
        await self._session.execute(
            statement, {"meeting_id": meeting_id, "platform_id": platform_id, "state": state, **columns}
        )

    async def action(self, action_id: str, platform_id: str, state: str, due_on: date) -> None:
        statement = upsert(self._session, actions, ("state", "due_on"))
        await self._session.execute(
            statement, {"action_id": action_id, "platform_id": platform_id, "state": state, "due_on": due_on}
        )

    async def notice(self, notification_id: str, platform_id: str, **columns: bool) -> None:
        statement = upsert(self._session, notices, tuple(sorted(columns)))
        await self._session.execute(
            statement, {"notification_id": notification_id, "platform_id": platform_id, **columns}
        )

    async def counts(self, area: str) -> dict[str, int]:
        """Every measure's count for the area, and the caseload by category and level."""
        found = {caseload_key(c, level): 0 for c in CATEGORIES for level in LEVELS}
        rows = await self._session.execute(
            select(cases.c.category, cases.c.level, func.count())
            .where(_in_area(cases, area), cases.c.category.is_not(None), cases.c.level.is_not(None))
            .group_by(cases.c.category, cases.c.level)
        )
        for category, level, count in rows:
            found[caseload_key(category, level)] = count
        for key, (table, _id, where) in _WHERE.items():
            found[key] = int(
                await self._session.scalar(
                    select(func.count()).select_from(table).where(where, _in_area(table, area))
                )
                or 0
            )
        return found

    async def counts_by_area(self) -> dict[tuple[str, str], int]:
        """Every measure's count in every area with an open case, by (area, measure): for metrics.

        A measure at 0 is counted too, so that its first case is a rise from 0, not a new series.
        """
        open_case = cases.c.in_mappa & cases.c.area.is_not(None)
        areas = (await self._session.scalars(select(cases.c.area).where(open_case).distinct())).all()
        found = {(area, key): 0 for area in areas for key in _WHERE}
        for key, (table, _id, where) in _WHERE.items():
            query = select(cases.c.area, func.count()).where(where, open_case)
            if table is not cases:
                query = query.select_from(table.join(cases, table.c.platform_id == cases.c.platform_id))
            for area, count in await self._session.execute(query.group_by(cases.c.area)):
                found[(area, key)] = count
        return found

    async def listed(self, area: str, key: str, *, limit: int, offset: int) -> list[Listed]:
        """The rows behind a measure (or a caseload cell), by platform id; ``KeyError`` if no such measure."""
        if (cell := caseload_cell(key)) is not None:
            category, level = cell
            in_cell: ColumnElement[bool] = (cases.c.category == category) & (cases.c.level == level)
            table, item, where = cases, cases.c.platform_id, in_cell
        else:
            table, item, where = _WHERE[key]
        dated = _DATED.get(key, literal(None, Date))
        query: Select[Any] = select(table.c.platform_id, item, dated).where(where, _in_area(table, area))
        query = query.order_by(table.c.platform_id, item).limit(limit).offset(offset)
        rows = await self._session.execute(query)
        return [Listed(row[0], row[1], row[2]) for row in rows]


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    original_topic: str | None
    original_partition: int | None
    original_offset: int | None
    consumer: str | None
    error_class: str | None
    error_message: str | None
    attempts: int | None
    event_type: str | None
    event_id: str | None
    dead_lettered_at: datetime | None
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None

    @property
    def place(self) -> str:
        return operations.place(self.topic, self.partition, self.offset)


def _dead_letter(row: Any) -> DeadLetter:
    values = dict(row._mapping)
    for name in ("dead_lettered_at", "decided_at"):
        if values[name] is not None:
            values[name] = utc(values[name])
    return DeadLetter(**values)


_HEADER_COLUMNS = (
    "original_topic",
    "original_partition",
    "original_offset",
    "consumer",
    "error_class",
    "error_message",
    "attempts",
    "event_type",
    "event_id",
    "dead_lettered_at",
)
_DECISION_COLUMNS = ("decision", "decided_by", "decided_at", "reason")


class DeadLetterStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, rows: list[dict[str, Any]]) -> None:
        """The dead letters read from their topics (their headers; a decision may have come first)."""
        if rows:
            await self._session.execute(upsert(self._session, dead_letters, _HEADER_COLUMNS), rows)

    async def decided(
        self, data: operations.DeadLetterReplayed | operations.DeadLetterDiscarded, decision: str
    ) -> bool:
        """Whether this decision was taken: False if the dead letter had one already."""
        result = await self._session.execute(
            upsert(self._session, dead_letters, _DECISION_COLUMNS, _undecided),
            {
                "topic": data.dead_letter_topic,
                "partition": data.partition,
                "offset": data.offset,
                "original_topic": data.original_topic,
                "decision": decision,
                "decided_by": data.decided_by,
                "decided_at": data.decided_at,
                "reason": data.reason,
            },
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, topic: str, partition: int, offset: int) -> DeadLetter | None:
        row = (
            await self._session.execute(
                select(dead_letters).where(
                    dead_letters.c.topic == topic,
                    dead_letters.c.partition == partition,
                    dead_letters.c.offset == offset,
                )
            )
        ).first()
        return _dead_letter(row) if row is not None else None

    async def listed(
        self, *, open_only: bool, topic: str | None, limit: int, offset: int
    ) -> list[DeadLetter]:
        """Newest first."""
        query = select(dead_letters).where(
            dead_letters.c.decision.is_(None) if open_only else true(),
            dead_letters.c.topic == topic if topic is not None else true(),
        )
        rows = await self._session.execute(
            query.order_by(
                dead_letters.c.dead_lettered_at.desc(), dead_letters.c.topic, dead_letters.c.offset.desc()
            )
            .limit(limit)
            .offset(offset)
        )
        return [_dead_letter(row) for row in rows]

    async def depth(self) -> dict[str, int]:
        """Open (undecided) dead letters per dead-letter topic."""
        rows = await self._session.execute(
            select(dead_letters.c.topic, func.count())
            .where(dead_letters.c.decision.is_(None))
            .group_by(dead_letters.c.topic)
        )
        return {topic: count for topic, count in rows}

    async def errors_since(self, since: datetime) -> dict[tuple[str, str], int]:
        """Dead letters since ``since`` by consumer and error class."""
        rows = await self._session.execute(
            select(dead_letters.c.consumer, dead_letters.c.error_class, func.count())
            .where(dead_letters.c.dead_lettered_at >= since)
            .group_by(dead_letters.c.consumer, dead_letters.c.error_class)
        )
        return {(consumer or "?", error or "?"): count for consumer, error, count in rows}
