"""What the registry's handlers and decisions write, and the facts they decide on."""

import functools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import hold, stage, upsert, write_staged
from schemas.identifiers import Scheme
from services.registry.identity import Nominal
from services.registry.notification_rules import NotificationPeriod, NotificationState, Requirement
from services.registry.rules import Conviction
from services.registry.tables import (
    MOVABLE,
    addresses,
    aliases,
    breaches,
    convictions,
    fact_dates,
    foreign_travel,
    identifiers,
    merges,
    nominals,
    requirements,
    resolution_cases,
    risk_assessments,
)

# The statements of the event path, built once: building one per call costs more than running it
# (SQLAlchemy makes the clause, then a cache key to find its compiled form). A nominals or
# fact_dates update sets the columns its parameters name.
_PID: BindParameter[str] = bindparam("pid")
_NOMINAL = select(nominals).where(nominals.c.platform_id == _PID)
_PLATFORM_ID = select(nominals.c.platform_id).where(nominals.c.platform_id == _PID)
_CATEGORY = select(nominals.c.category).where(nominals.c.platform_id == _PID)
_UPDATE_NOMINAL = nominals.update().where(nominals.c.platform_id == _PID)
_REQUIREMENT = select(requirements).where(requirements.c.platform_id == _PID)


# Nominals holding any of the values (of whichever scheme: identity.resolve compares schemes).
@functools.cache
def _candidates(schemes: tuple[Scheme, ...]) -> Select[Any]:
    """Nominals holding any of the claimed identifiers, looked up by (scheme, value), the identifiers'
    primary key: by value alone, or by row values, SQLite read the whole table for every conviction,
    and the register slowed as it grew. One statement per set of schemes claimed (at most 15)."""
    held = or_(
        *(and_(identifiers.c.scheme == s, identifiers.c.value == bindparam(f"v_{s}")) for s in schemes)
    )
    return (
        select(nominals.c.platform_id, nominals.c.date_of_birth, identifiers.c.scheme, identifiers.c.value)
        .join(identifiers, identifiers.c.platform_id == nominals.c.platform_id)
        .where(nominals.c.platform_id.in_(select(identifiers.c.platform_id).where(held)))
    )


_HELD = (
    select(resolution_cases.c.id, resolution_cases.c.claimed, resolution_cases.c.event)
    .where(resolution_cases.c.status == "open", resolution_cases.c.reason == "unknown-person")
    .order_by(resolution_cases.c.id)
)
_INSERT_NOMINAL = nominals.insert()
_INSERT_IDENTIFIERS = identifiers.insert()


def _not_before_the_recorded(offered: Any) -> ColumnElement[bool]:
    later: ColumnElement[bool] = fact_dates.c.as_of <= offered.as_of
    return later


# Nominals this transaction registered with an area: no need to read whether they have one.
_REGISTERED_IN_AN_AREA = "registry.registered_in_an_area"
# Nominals this transaction registered that hold no notification requirement yet: none to read.
_WITHOUT_REQUIREMENT = "registry.without_requirement"
# Set while this transaction has found no events held for an unknown person, and held none.
_NONE_HELD = "registry.none_held"


@dataclass(frozen=True)
class Unmerged:
    survivor: str
    restored: str
    identifiers: list[tuple[Scheme, str]]
    requirement_changed: bool
    category_changed: bool


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}


def _dated(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row saved by ``_jsonable``, with its dates back."""
    dates = {"relevant_date", "initial_notified_on", "last_notified_on"}
    return {k: date.fromisoformat(v) if k in dates and v else v for k, v in row.items()}


class RegistryStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def take_turns(
        self, *, claimed: Iterable[tuple[str, str]] = (), nominals: Iterable[str] = ()
    ) -> None:
        """Wait for any other replica's transaction about these identifiers or nominals, and keep them
        to the end of this one: events about one person, whichever topic they came by, apply one
        after another, and a merge waits for them (or they for it). In one order (identifiers, then
        nominals, each sorted), so no two of these wait on each other."""
        await hold(
            self._session,
            *(f"identifier {scheme}:{value}" for scheme, value in sorted(set(claimed))),
            *(f"nominal {platform_id}" for platform_id in sorted(set(nominals))),
        )

    async def identifiers_of(self, *platform_ids: str) -> list[tuple[str, str]]:
        rows = await self._session.execute(
            select(identifiers.c.scheme, identifiers.c.value).where(
                identifiers.c.platform_id.in_(platform_ids)
            )
        )
        return [(row.scheme, row.value) for row in rows]

    async def candidates(self, claimed: Mapping[Scheme, str]) -> list[Nominal]:
        """Nominals sharing at least one of the claimed identifiers, with all their identifiers."""
        if not claimed:
            return []
        schemes = tuple(sorted(claimed))
        bound = {f"v_{scheme}": claimed[scheme] for scheme in schemes}
        rows = (await self._session.execute(_candidates(schemes), bound)).all()
        found: dict[str, tuple[date, dict[Scheme, set[str]]]] = {}
        for row in rows:
            found.setdefault(row.platform_id, (row.date_of_birth, {}))[1].setdefault(row.scheme, set()).add(
                row.value
            )
        return [
            Nominal(pid, {scheme: frozenset(values) for scheme, values in ids.items()}, dob)
            for pid, (dob, ids) in found.items()
        ]

    async def add_nominal(
        self,
        *,
        family_name: str,
        given_names: list[str],
        date_of_birth: date,
        identifiers_: Mapping[Scheme, str],
        area: str | None,
        platform_id: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """A new nominal: under a new platform id, or under the one a rebuild found in the log."""
        platform_id = platform_id or str(uuid.uuid4())
        await self._session.execute(
            _INSERT_NOMINAL,
            dict(
                platform_id=platform_id,
                family_name=family_name,
                given_names=given_names,
                date_of_birth=date_of_birth,
                custody_status="in-community",
                on_licence=False,
                # MAPPA-managed only once a category is assigned (handlers/categories.py).
                mappa_status="not-mappa",
                area=area,
                created_at=created_at or datetime.now(UTC),
            ),
        )
        await self.link(platform_id, identifiers_)
        self._session.info.setdefault(_WITHOUT_REQUIREMENT, set()).add(platform_id)
        if area is not None:
            self._session.info.setdefault(_REGISTERED_IN_AN_AREA, set()).add(platform_id)
        return platform_id

    async def has_nominal(self, platform_id: str) -> bool:
        return await self._session.scalar(_PLATFORM_ID, {"pid": platform_id}) is not None

    def registered_in_an_area(self, platform_id: str) -> bool:
        """Whether the nominal was registered in this transaction, with its area (so it has one)."""
        return platform_id in self._session.info.get(_REGISTERED_IN_AN_AREA, ())

    async def link(self, platform_id: str, identifiers_: Mapping[Scheme, str]) -> None:
        if identifiers_:
            await self._session.execute(
                _INSERT_IDENTIFIERS,
                [{"scheme": s, "value": v, "platform_id": platform_id} for s, v in identifiers_.items()],
            )

    async def open_case(
        self,
        *,
        reason: str,
        platform_ids: tuple[str, ...],
        event_id: str,
        event_type: str,
        event: dict[str, Any],
        claimed: Mapping[Scheme, str],
    ) -> None:
        self._session.info.pop(_NONE_HELD, None)
        await self._session.execute(
            resolution_cases.insert(),
            dict(
                opened_at=datetime.now(UTC),
                reason=reason,
                platform_ids=list(platform_ids),
                event_id=event_id,
                event_type=event_type,
                event=event,
                claimed=[f"{s}:{v}" for s, v in claimed.items()],
                status="open",
            ),
        )

    async def take_held(self, known: Mapping[Scheme, str]) -> list[dict[str, Any]]:
        """Close and return the events held only because their person was unknown, now known by ``known``."""
        if self._session.info.get(_NONE_HELD):
            return []  # none were held when this transaction last looked, and it has held none since
        wanted = {f"{s}:{v}" for s, v in known.items()}
        held = (await self._session.execute(_HELD)).all()
        self._session.info[_NONE_HELD] = not held
        taken: list[dict[str, Any]] = []
        for row in held:
            if not wanted & set(row.claimed):
                continue
            # Taken only if still open: a co-ordinator's decision may have closed it meanwhile.
            closed: Any = await self._session.execute(
                resolution_cases.update()
                .where(resolution_cases.c.id == row.id, resolution_cases.c.status == "open")
                .values(status="applied")
            )
            if closed.rowcount == 1:
                taken.append(row.event)
        return taken

    async def open_case_by_id(self, case_id: int) -> dict[str, Any] | None:
        row = (
            await self._session.execute(
                select(resolution_cases).where(
                    resolution_cases.c.id == case_id, resolution_cases.c.status == "open"
                )
            )
        ).first()
        return None if row is None else dict(row._mapping)

    async def decide_case(self, case_id: int, *, platform_id: str | None, decided_by: str, note: str) -> bool:
        """Close an open case: its event is about ``platform_id``, or (None) it is dismissed.

        False if the case was no longer open: another decision, or the
        person becoming known, closed it first.
        """
        closed: Any = await self._session.execute(
            resolution_cases.update()
            .where(resolution_cases.c.id == case_id, resolution_cases.c.status == "open")
            .values(
                status="applied" if platform_id else "dismissed",
                decided_nominal=platform_id,
                decided_by=decided_by,
                decided_at=datetime.now(UTC),
                decision_note=note,
            )
        )
        return bool(closed.rowcount == 1)

    async def decided_nominal(self, event_id: str) -> str | None:
        """The nominal a co-ordinator decided a held event is about, if they did."""
        platform_id: str | None = await self._session.scalar(
            select(resolution_cases.c.decided_nominal).where(
                resolution_cases.c.event_id == event_id, resolution_cases.c.decided_nominal.is_not(None)
            )
        )
        return platform_id

    async def add_conviction(
        self, platform_id: str, conviction: Conviction, *, source_event_id: str, offence_code: str, on: date
    ) -> None:
        # Written with the transaction's others as it commits; read back only after a flush (below).
        stage(
            self._session,
            convictions,
            dict(
                platform_id=platform_id,
                source_event_id=source_event_id,
                offence_code=offence_code,
                conviction_date=on,
                disposal=conviction.disposal,
                custody_months=conviction.custody_months,
                caution=conviction.disposal == "caution",
                schedule_3=conviction.sexual_offences_act_schedule_3,
                schedule_15=conviction.criminal_justice_act_schedule_15,
                murder=conviction.murder,
            ),
        )

    async def convictions(self, platform_id: str) -> list[Conviction]:
        await write_staged(self._session)
        rows = await self._session.execute(
            select(convictions).where(convictions.c.platform_id == platform_id).order_by(convictions.c.id)
        )
        return [
            Conviction(
                sexual_offences_act_schedule_3=r.schedule_3,
                criminal_justice_act_schedule_15=r.schedule_15,
                disposal=r.disposal,
                custody_months=r.custody_months,
                murder=r.murder,
            )
            for r in rows
        ]

    async def requirement(self, platform_id: str) -> Requirement | None:
        if platform_id in self._session.info.get(_WITHOUT_REQUIREMENT, ()):
            return None
        row = (await self._session.execute(_REQUIREMENT, {"pid": platform_id})).first()
        if row is None:
            return None
        return Requirement(row.relevant_date, NotificationPeriod(row.period_months, row.basis), row.under_18)

    async def set_requirement(self, platform_id: str, requirement: Requirement, *, afresh: bool) -> None:
        """Hold ``requirement``; ``afresh`` after an ended one, when old notifications no longer count."""
        values: dict[str, Any] = dict(
            relevant_date=requirement.relevant_date,
            period_months=requirement.period.months,
            under_18=requirement.under_18,
            basis=requirement.period.basis,
        )
        if afresh:
            values.update(initial_notified_on=None, last_notified_on=None, no_fixed_abode=False)
        self._holds_requirement(platform_id)
        await self._session.execute(
            upsert(self._session, requirements, values),
            dict(platform_id=platform_id, no_fixed_abode=False) | values,
        )

    async def notified(
        self, platform_id: str, on: date, *, initial: bool, no_fixed_abode: bool | None
    ) -> None:
        """A notification under SOA 2003 ss.83-85 was made on ``on``.

        Events may arrive out of order: an older notification never moves
        the last notification date back.
        """
        last = await self._session.scalar(
            select(requirements.c.last_notified_on).where(requirements.c.platform_id == platform_id)
        )
        values: dict[str, Any] = {"last_notified_on": max(on, last) if last else on}
        if no_fixed_abode is not None and (last is None or on >= last):
            values["no_fixed_abode"] = no_fixed_abode
        await self._session.execute(
            requirements.update().where(requirements.c.platform_id == platform_id).values(**values)
        )
        if initial:
            await self._session.execute(
                requirements.update()
                .where(
                    requirements.c.platform_id == platform_id, requirements.c.initial_notified_on.is_(None)
                )
                .values(initial_notified_on=on)
            )

    async def add_address(
        self, platform_id: str, *, notified_on: date, address: Mapping[str, str] | None, no_fixed_abode: bool
    ) -> None:
        await self._session.execute(
            addresses.insert(),
            dict(
                platform_id=platform_id,
                notified_on=notified_on,
                no_fixed_abode=no_fixed_abode,
                **(address or {}),
            ),
        )

    async def rename(self, platform_id: str, family_name: str, given_names: list[str], on: date) -> None:
        """The new name becomes the nominal's; the old one is kept as an alias."""
        old = (
            await self._session.execute(
                select(nominals.c.family_name, nominals.c.given_names).where(
                    nominals.c.platform_id == platform_id
                )
            )
        ).one()
        await self._session.execute(
            aliases.insert(),
            dict(platform_id=platform_id, family_name=old.family_name, given_names=old.given_names, until=on),
        )
        await self.update(platform_id, family_name=family_name, given_names=given_names)

    async def add_travel(
        self,
        platform_id: str,
        *,
        notified_on: date,
        departure_date: date,
        return_date: date | None,
        destination_country: str,
        notified_in_time: bool,
    ) -> None:
        await self._session.execute(
            foreign_travel.insert(),
            dict(
                platform_id=platform_id,
                notified_on=notified_on,
                departure_date=departure_date,
                return_date=return_date,
                destination_country=destination_country,
                notified_in_time=notified_in_time,
            ),
        )

    async def newer(self, platform_id: str, fact: str, as_of: date) -> bool:
        """Whether a ``fact`` dated ``as_of`` is at least as recent as the one on record; if so, it now is.

        One statement: the date is inserted, or replaced unless the one on record is later.
        """
        recorded: Any = await self._session.execute(
            upsert(self._session, fact_dates, ["as_of"], _not_before_the_recorded),
            {"platform_id": platform_id, "fact": fact, "as_of": as_of},
        )
        return bool(recorded.rowcount == 1)

    async def add_breach(self, platform_id: str, notification: str, deadline: date) -> bool:
        """Record a missed deadline; False if it was on record already."""
        known = await self._session.scalar(
            select(breaches.c.id).where(
                breaches.c.platform_id == platform_id,
                breaches.c.notification == notification,
                breaches.c.deadline == deadline,
            )
        )
        if known is not None:
            return False
        await self._session.execute(
            breaches.insert(),
            dict(
                platform_id=platform_id,
                notification=notification,
                deadline=deadline,
                recorded_at=datetime.now(UTC),
            ),
        )
        return True

    async def notification_states(
        self, *, area: str | None = None, platform_id: str | None = None
    ) -> list[tuple[str, NotificationState]]:
        """Nominals under a notification requirement (one area's, or one), with their notifications."""
        query = select(requirements, nominals.c.custody_status, nominals.c.released_on).join(
            nominals, nominals.c.platform_id == requirements.c.platform_id
        )
        query = query.where(nominals.c.mappa_status != "merged")  # a merged nominal lives on as its survivor
        if area is not None:
            query = query.where(nominals.c.area == area)
        if platform_id is not None:
            query = query.where(requirements.c.platform_id == platform_id)
        rows = await self._session.execute(query.order_by(requirements.c.platform_id))
        return [
            (
                row.platform_id,
                NotificationState(
                    requirement=Requirement(
                        row.relevant_date, NotificationPeriod(row.period_months, row.basis), row.under_18
                    ),
                    in_custody=row.custody_status != "in-community",
                    released_on=row.released_on,
                    initial_notified_on=row.initial_notified_on,
                    last_notified_on=row.last_notified_on,
                    no_fixed_abode=row.no_fixed_abode,
                ),
            )
            for row in rows
        ]

    async def facts(self, platform_id: str) -> dict[str, Any]:
        """The nominal's own columns, for handlers that decide on several of them."""
        row = (await self._session.execute(_NOMINAL, {"pid": platform_id})).one()
        return dict(row._mapping)

    async def requirement_ends(self, *, category: int) -> list[tuple[str, date]]:
        """Active nominals of ``category`` with a fixed-length requirement, and its last day."""
        rows = await self._session.execute(
            select(requirements.c.platform_id, requirements.c.relevant_date, requirements.c.period_months)
            .join(nominals, nominals.c.platform_id == requirements.c.platform_id)
            .where(
                nominals.c.category == category,
                nominals.c.mappa_status == "active",
                requirements.c.period_months.is_not(None),
            )
        )
        ends = [
            (
                r.platform_id,
                Requirement(r.relevant_date, NotificationPeriod(r.period_months, ""), False).ends_on,
            )
            for r in rows
        ]
        return [(platform_id, last) for platform_id, last in ends if last is not None]

    async def category(self, platform_id: str) -> int | None:
        value: int | None = await self._session.scalar(_CATEGORY, {"pid": platform_id})
        return value

    async def set_category(self, platform_id: str, category: int, reason: str) -> None:
        """A category makes the nominal MAPPA-managed (again, if they had left)."""
        await self.update(platform_id, category=category, category_reason=reason, mappa_status="active")

    async def update(self, platform_id: str, **facts: Any) -> None:
        """Set facts held on the nominal itself (custody, release date, lead agency, manager, RoSH)."""
        await self._session.execute(_UPDATE_NOMINAL, {"pid": platform_id, **facts})

    async def add_risk_assessment(
        self, platform_id: str, *, completed_on: date, tool: str, rosh: str, assessor_agency: str
    ) -> None:
        await self._session.execute(
            risk_assessments.insert(),
            dict(
                platform_id=platform_id,
                completed_on=completed_on,
                tool=tool,
                rosh=rosh,
                assessor_agency=assessor_agency,
            ),
        )

    async def merge(
        self,
        survivor: str,
        absorbed: str,
        *,
        decided_by: str,
        merge_id: int | None = None,
        decided_at: datetime | None = None,
    ) -> tuple[int, list[tuple[Scheme, str]]]:
        """Move the absorbed nominal's identifiers and records to the survivor; returns the merge id
        (``merge_id`` when a rebuild makes a published merge again).

        The survivor's requirement and category as they were are kept with
        the merge, so that an unmerge restores them whatever the merge
        decided about them.
        """
        await write_staged(self._session)  # staged records are moved too
        moved: dict[str, Any] = {}
        ids = await self._session.execute(
            select(identifiers.c.scheme, identifiers.c.value).where(identifiers.c.platform_id == absorbed)
        )
        moved_ids: list[tuple[Scheme, str]] = [(r.scheme, r.value) for r in ids]
        moved["identifiers"] = moved_ids
        await self._session.execute(
            identifiers.update().where(identifiers.c.platform_id == absorbed).values(platform_id=survivor)
        )
        for name, table in MOVABLE.items():
            rows = await self._session.execute(select(table.c.id).where(table.c.platform_id == absorbed))
            moved[name] = list(rows.scalars())
            await self._session.execute(
                table.update().where(table.c.platform_id == absorbed).values(platform_id=survivor)
            )
        own = (
            await self._session.execute(select(requirements).where(requirements.c.platform_id == survivor))
        ).first()
        moved["survivor_requirement"] = None if own is None else _jsonable(dict(own._mapping))
        facts = await self.facts(survivor)
        moved["survivor_category"] = [facts["category"], facts["category_reason"], facts["mappa_status"]]
        moved["absorbed_status"] = (await self.facts(absorbed))["mappa_status"]
        await self.update(absorbed, mappa_status="merged", merged_into=survivor)
        numbered = {} if merge_id is None else {"id": merge_id}
        result = await self._session.execute(
            merges.insert().returning(merges.c.id),
            dict(
                survivor=survivor,
                absorbed=absorbed,
                moved=moved,
                decided_by=decided_by,
                decided_at=decided_at or datetime.now(UTC),
                **numbered,
            ),
        )
        return int(result.scalar_one()), moved_ids

    async def take_requirement(self, survivor: str, absorbed: str) -> None:
        """The survivor holds the absorbed nominal's requirement, with the notifications made under either."""
        theirs = (
            await self._session.execute(select(requirements).where(requirements.c.platform_id == absorbed))
        ).one()
        own = (
            await self._session.execute(select(requirements).where(requirements.c.platform_id == survivor))
        ).first()
        values = {k: v for k, v in theirs._mapping.items() if k != "platform_id"}
        if own is not None:
            initial = [d for d in (own.initial_notified_on, theirs.initial_notified_on) if d]
            last = [d for d in (own.last_notified_on, theirs.last_notified_on) if d]
            values.update(
                initial_notified_on=min(initial, default=None), last_notified_on=max(last, default=None)
            )
            await self._session.execute(requirements.delete().where(requirements.c.platform_id == survivor))
        self._holds_requirement(survivor)
        await self._session.execute(requirements.insert(), dict(platform_id=survivor, **values))

    def _holds_requirement(self, platform_id: str) -> None:
        self._session.info.get(_WITHOUT_REQUIREMENT, set()).discard(platform_id)

    async def unmerge(self, merge_id: int, *, undone_at: datetime | None = None) -> Unmerged | None:
        """Move back exactly what the merge moved; None if there is no such merge still in force."""
        await write_staged(self._session)  # staged records are moved back too
        row = (
            await self._session.execute(
                select(merges).where(merges.c.id == merge_id, merges.c.undone_at.is_(None))
            )
        ).first()
        if row is None:
            return None
        moved = row.moved
        restored: list[tuple[Scheme, str]] = [(scheme, value) for scheme, value in moved["identifiers"]]
        for scheme, value in restored:
            await self._session.execute(
                identifiers.update()
                .where(identifiers.c.scheme == scheme, identifiers.c.value == value)
                .values(platform_id=row.absorbed)
            )
        for name, table in MOVABLE.items():
            if moved[name]:
                await self._session.execute(
                    table.update().where(table.c.id.in_(moved[name])).values(platform_id=row.absorbed)
                )
        before = await self.requirement(row.survivor)
        await self._session.execute(requirements.delete().where(requirements.c.platform_id == row.survivor))
        if (kept := moved["survivor_requirement"]) is not None:
            self._holds_requirement(row.survivor)
            await self._session.execute(requirements.insert(), _dated(kept))
        category, reason, status = moved["survivor_category"]
        changed = (await self.facts(row.survivor))["category"] != category
        await self.update(row.survivor, category=category, category_reason=reason, mappa_status=status)
        # Merges recorded before the absorbed status was kept were of MAPPA cases.
        absorbed_status = moved.get("absorbed_status", "active")
        await self.update(row.absorbed, mappa_status=absorbed_status, merged_into=None)
        await self._session.execute(
            merges.update().where(merges.c.id == merge_id).values(undone_at=undone_at or datetime.now(UTC))
        )
        return Unmerged(
            survivor=row.survivor,
            restored=row.absorbed,
            identifiers=restored,
            requirement_changed=before != await self.requirement(row.survivor),
            category_changed=changed,
        )

    async def merge_parties(self, merge_id: int) -> tuple[str, str] | None:
        row = (
            await self._session.execute(
                select(merges.c.survivor, merges.c.absorbed).where(
                    merges.c.id == merge_id, merges.c.undone_at.is_(None)
                )
            )
        ).first()
        return None if row is None else (row.survivor, row.absorbed)
