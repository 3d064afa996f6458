"""Time-driven rules with a fake clock: overdue notifications published once, at the moment they become
overdue, and never again, even after a restart; category 1 ending with the notification period."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from deploy.migrate import schema_of
from eventkit import outbox
from eventkit.consumer import UnitOfWork
from eventkit.db import Database
from eventkit.history import history
from eventkit.migrations import upgrade
from eventkit.scheduler import Scheduler
from eventkit.synthetic import Synthetic
from schemas.catalogue import type_of
from schemas.envelope import CloudEvent
from schemas.events.registry import NotificationMade
from services.registry.handlers.notifications import notified
from services.registry.notification_rules import NotificationPeriod, Requirement
from services.registry.reads import RegistryReads
from services.registry.rules import Conviction
from services.registry.schedule import notification_periods_ended, overdue_notifications
from services.registry.storage import RegistryStore
from tests.support.clock import FakeClock
from tests.support.register import a_nominal

CONVICTED = date(2026, 3, 10)  # initial notification due by 12 March (s.83: 3 days beginning with)


async def _subject_to(database: Database, requirement: Requirement, *, category: int | None = None) -> str:
    """A synthetic nominal on the register under ``requirement``."""
    async with database.transaction() as session:
        store = RegistryStore(session)
        platform_id = await a_nominal(session)
        if category is not None:
            await store.set_category(platform_id, category, "Schedule 3")
        await store.set_requirement(platform_id, requirement, afresh=False)
    return platform_id


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+inloop:///{tmp_path / 'registry.db'}")
    await upgrade(database, schema_of("registry"))
    await _subject_to(database, Requirement(CONVICTED, NotificationPeriod(120, "s.82"), False))
    yield database
    await database.dispose()


async def _overdue(db: Database) -> list[CloudEvent]:
    async with db.transaction() as session:
        pending = await outbox.pending(session, 100)
    return [CloudEvent.model_validate_json(r.payload) for r in pending]


async def test_an_overdue_notification_is_published_once_and_not_after_a_restart(db: Database) -> None:
    clock = FakeClock(datetime(2026, 3, 12, 23, 59, tzinfo=UTC))
    scheduler = Scheduler(db, overdue_notifications, source="/mappa/registry", clock=clock)
    assert await scheduler.tick() == 0  # the last day is still in time

    clock.set(date(2026, 3, 13))
    assert await scheduler.tick() == 1
    assert await scheduler.tick() == 0  # seen already
    restarted = Scheduler(db, overdue_notifications, source="/mappa/registry", clock=clock)
    clock.now += timedelta(days=2)
    assert await restarted.tick() == 0  # a restart does not repeat it

    [event] = await _overdue(db)
    assert event.type == "uk.mappa.registry.notification-overdue.v1"
    assert event.data["notification"] == "initial"
    assert event.data["deadline"] == "2026-03-12"
    async with db.transaction() as session:
        lines = (await session.execute(select(history.c.change))).scalars().all()
    assert "initial notification overdue since 2026-03-12" in lines


async def test_a_notification_moves_the_deadline_and_a_new_breach_is_published(db: Database) -> None:
    clock = FakeClock(datetime(2026, 3, 11, 9, 0, tzinfo=UTC))
    scheduler = Scheduler(db, overdue_notifications, source="/mappa/registry", clock=clock)
    async with db.transaction() as session:
        [(platform_id, _)] = await RegistryStore(session).notification_states()
        await RegistryStore(session).notified(
            platform_id, date(2026, 3, 11), initial=True, no_fixed_abode=False
        )
    clock.set(date(2027, 3, 10))
    assert await scheduler.tick() == 0  # the year beginning 11 March 2026 ends on 10 March 2027
    clock.set(date(2027, 3, 11))
    assert await scheduler.tick() == 1
    [event] = await _overdue(db)
    assert (event.data["notification"], event.data["deadline"]) == ("periodic", "2027-03-10")


async def test_category_1_ends_with_the_notification_period_once(tmp_path: Path) -> None:
    database = Database(f"sqlite+inloop:///{tmp_path / 'ends.db'}")
    await upgrade(database, schema_of("registry"))
    await _subject_to(
        database, Requirement(date(2024, 1, 1), NotificationPeriod(24, "s.82"), False), category=1
    )
    clock = FakeClock(datetime(2025, 12, 31, 12, 0, tzinfo=UTC))
    scheduler = Scheduler(database, notification_periods_ended, source="/mappa/registry", clock=clock)
    assert await scheduler.tick() == 0  # the last day of the period
    clock.set(date(2026, 1, 1))
    assert await scheduler.tick() == 1
    assert (
        await Scheduler(database, notification_periods_ended, source="/mappa/registry", clock=clock).tick()
        == 0
    )
    [event] = await _overdue(database)
    assert event.type == "uk.mappa.registry.exited-mappa.v1"
    assert (event.data["category"], event.data["exited_on"]) == (1, "2026-01-01")
    await database.dispose()


async def test_a_breach_stays_on_record_when_the_person_is_then_detained(db: Database) -> None:
    clock = FakeClock(datetime(2026, 3, 13, 9, 0, tzinfo=UTC))
    assert await Scheduler(db, overdue_notifications, source="/mappa/registry", clock=clock).tick() == 1
    async with db.transaction() as session:
        [(platform_id, _)] = await RegistryStore(session).notification_states()
        await RegistryStore(session).update(platform_id, custody_status="in-custody")
    async with db.transaction() as session:
        [(_, state)] = await RegistryStore(session).notification_states()
        found = await RegistryReads(session).nominal(platform_id)
    assert state.in_custody  # nothing is due now ...
    assert found is not None
    assert found["breaches"] == [{"notification": "initial", "deadline": date(2026, 3, 12)}]  # ... but it was


async def test_category_1_becomes_category_2_when_the_period_ends_on_licence(tmp_path: Path) -> None:
    database = Database(f"sqlite+inloop:///{tmp_path / 'ends.db'}")
    await upgrade(database, schema_of("registry"))
    # Under 18: ten years halved to five, while the licence for a Schedule 15 offence runs on.
    platform_id = await _subject_to(
        database, Requirement(date(2021, 1, 1), NotificationPeriod(60, "s.82(2)"), True), category=1
    )
    async with database.transaction() as session:
        store = RegistryStore(session)
        await store.add_conviction(
            platform_id,
            Conviction(True, True, "detention-and-training-order", 24),
            source_event_id="e-1",
            offence_code="SX03005",
            on=date(2021, 1, 1),
        )
        await store.update(platform_id, on_licence=True)
    clock = FakeClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    assert (
        await Scheduler(database, notification_periods_ended, source="/mappa/registry", clock=clock).tick()
        == 1
    )
    [event] = await _overdue(database)
    assert event.type == "uk.mappa.registry.category-assigned.v1"
    assert (event.data["category"], event.data["effective_date"]) == (2, "2026-01-01")
    assert event.data["reason"].startswith("Notification requirements ended")
    async with database.transaction() as session:
        facts = await RegistryStore(session).facts(platform_id)
    assert (facts["category"], facts["mappa_status"]) == (2, "active")
    await database.dispose()


async def test_a_notification_made_says_which_deadline_is_still_passed(db: Database) -> None:
    # The initial notification was due by 12 March. A change of name on 20 March does not make it;
    # the initial notification on 21 March does.
    cause = Synthetic(seed=3).conviction_event()
    for day, initial, still_overdue in ((20, False, date(2026, 3, 12)), (21, True, None)):
        async with db.transaction() as session:
            [(platform_id, _state)] = await RegistryStore(session).notification_states()
            work = UnitOfWork(session, "/mappa/registry", cause, now=datetime(2026, 3, day, 12, tzinfo=UTC))
            await notified(work, platform_id, date(2026, 3, day), initial=initial, no_fixed_abode=None)
        [made] = [e for e in await _overdue(db) if e.type == type_of(NotificationMade)][-1:]
        assert made.data["overdue_since"] == (still_overdue.isoformat() if still_overdue else None)
