"""The meetings store on SQLite and PostgreSQL: one pending meeting per case, steps that cannot both
apply, and times that come back as they went in."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from eventkit.db import Database
from services.meetings.rules import Requirement
from services.meetings.storage import MeetingStore
from tests.support.casework import a_platform_id
from tests.support.stores import both_databases

REQUIRED = Requirement("first", 3, date(2027, 3, 8))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with both_databases(request, tmp_path, "meetings") as database:
        yield database


async def test_a_case_has_at_most_one_pending_meeting(db: Database) -> None:
    platform_id = a_platform_id()
    async with db.transaction() as session:
        await MeetingStore(session).add_meeting("m-1", platform_id, REQUIRED)
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await MeetingStore(session).add_meeting("m-2", platform_id, REQUIRED)
    async with db.transaction() as session:
        store = MeetingStore(session)
        assert await store.move("m-1", "required", status="cancelled", cancel_reason="cancelled")
        await store.add_meeting("m-2", platform_id, REQUIRED)
        pending = await store.pending(platform_id)
    assert pending is not None
    assert pending.meeting_id == "m-2"


async def test_of_two_steps_at_once_on_a_meeting_only_one_applies(db: Database) -> None:
    async with db.transaction() as session:
        await MeetingStore(session).add_meeting("m-1", a_platform_id(), REQUIRED)

    async def schedule(sequence: int) -> bool:
        async with db.transaction() as session:
            return await MeetingStore(session).move("m-1", "required", status="scheduled", sequence=sequence)

    assert sorted(await asyncio.gather(schedule(0), schedule(0))) == [False, True]


async def test_times_come_back_as_the_instant_they_were(db: Database) -> None:
    starts = datetime(2027, 6, 8, 9, 0, tzinfo=UTC)  # 10:00 in London
    async with db.transaction() as session:
        store = MeetingStore(session)
        await store.add_meeting("m-1", a_platform_id(), REQUIRED)
        await store.move("m-1", "required", status="scheduled", starts_at=starts, ends_at=starts)
    async with db.transaction() as session:
        found = await MeetingStore(session).meeting("m-1")
    assert found is not None
    assert found.starts_at == starts
    assert found.starts_on == date(2027, 6, 8)
