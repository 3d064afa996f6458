"""The notifications store on SQLite and PostgreSQL: a notification made once, a delivery claimed by one
sender at a time, an attempt recorded once, and times that come back as the instants they were."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eventkit.db import Database
from schemas.agencies import Agency, Role
from services.notifications.rules import COORDINATOR
from services.notifications.storage import NotificationStore, Recipient, notification_id
from tests.support.casework import a_platform_id
from tests.support.stores import both_databases

NOW = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
HELD = NOW + timedelta(minutes=5)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with both_databases(request, tmp_path, "notifications") as database:
        yield database


def _row(made_id: str, platform_id: str) -> dict[str, Any]:
    return dict(
        notification_id=made_id, platform_id=platform_id, area="01", kind="review-due", cause_id="e-1",
        recipient_id=None, role="offender-manager", agency=None, staff_ref="om-1", redirected=None,
        intended_role=None, urgent=True, subject="s", action="a", due=None, ics=None, created_at=NOW,
        escalate_at=NOW + timedelta(hours=24), escalate_to="senior-officer", escalated_from=None,
        traceparent=None, tracestate=None,
    )  # fmt: skip


async def _queued(db: Database, count: int) -> list[str]:
    ids = [notification_id(f"e-{n}", "om-1", "review-due") for n in range(count)]
    async with db.transaction() as session:
        store = NotificationStore(session)
        for made_id in ids:
            assert await store.add(_row(made_id, a_platform_id()))
            store.queue(made_id, ["inbox", "email"], NOW)
    return ids


async def test_a_notification_is_made_once_for_its_cause_recipient_and_kind(db: Database) -> None:
    made_id = notification_id("e-1", "om-1", "review-due")
    assert made_id == notification_id("e-1", "om-1", "review-due")
    assert made_id != notification_id("e-1", "om-2", "review-due")
    async with db.transaction() as session:
        assert await NotificationStore(session).add(_row(made_id, "p-1"))
    async with db.transaction() as session:
        assert not await NotificationStore(session).add(_row(made_id, "p-1"))
        found = await NotificationStore(session).notification(made_id)
    assert found is not None
    assert found["created_at"] == NOW
    assert found["escalate_at"] == NOW + timedelta(hours=24)


async def test_of_two_senders_claiming_at_once_each_delivery_goes_to_one(db: Database) -> None:
    ids = await _queued(db, 40)

    async def claim() -> list[str]:
        async with db.transaction() as session:
            taken = await NotificationStore(session).claim("email", NOW, HELD, 30)
        return [t["notification_id"] for t in taken]

    first, second = await asyncio.gather(claim(), claim())
    assert not set(first) & set(second)
    rest = await claim()
    # Each email claimed exactly once (the inbox was delivered when queued).
    assert sorted(first + second + rest) == sorted(ids)
    assert await claim() == []  # held: nothing due until the hold ends
    async with db.transaction() as session:
        again = await NotificationStore(session).claim("email", HELD, HELD + timedelta(minutes=5), 100)
    assert len(again) == 40  # a sender that died holding them lets them fall due again


async def test_an_outcome_is_recorded_once_and_only_by_the_claim_that_holds_it(db: Database) -> None:
    [made_id] = await _queued(db, 1)

    async def claim(at: datetime, held_until: datetime) -> list[dict[str, Any]]:
        async with db.transaction() as session:
            return await NotificationStore(session).claim("email", at, held_until, 10)

    async def record(attempt: int, held_until: datetime, status: str, retry: datetime | None = None) -> bool:
        async with db.transaction() as session:
            return await NotificationStore(session).record_attempt(
                made_id, "email", attempt=attempt, now=NOW, held_until=held_until, status=status,
                error=None if status == "sent" else "smtp-451", retry_at=retry,
            )  # fmt: skip

    assert [c["attempts"] for c in await claim(NOW, HELD)] == [0]
    # The first send outlives its hold; another claim takes the delivery and sends it again.
    later = HELD + timedelta(minutes=5)
    assert [c["attempts"] for c in await claim(HELD, later)] == [0]
    # The first send's late outcome changes nothing: it no longer holds the delivery.
    assert not await record(1, HELD, "failed", retry=HELD + timedelta(seconds=30))
    assert await record(1, later, "sent")
    assert not await record(1, later, "failed")  # recorded once
    async with db.transaction() as session:
        [email] = [
            d for d in await NotificationStore(session).deliveries_of(made_id) if d["channel"] == "email"
        ]
        tries = await NotificationStore(session).attempts_of(made_id)
    assert (email["status"], email["attempts"]) == ("sent", 1)
    # Every attempt made is in the log, whether or not it settled the delivery.
    assert [t["outcome"] for t in tries] == ["retry", "sent", "failed"]


async def test_what_the_register_says_of_a_case_comes_back_as_it_now_stands(db: Database) -> None:
    platform_id = a_platform_id()
    async with db.transaction() as session:
        store = NotificationStore(session)
        assert (await store.set_case(platform_id, offender_manager="om-1"))[0].area is None
        case, _ = await store.set_case(platform_id, area="01")
    assert (case.area, case.offender_manager) == ("01", "om-1")


async def test_placing_a_case_says_whether_events_wait_for_it_until_they_are_taken(db: Database) -> None:
    platform_id, other = a_platform_id(), a_platform_id()
    async with db.transaction() as session:
        store = NotificationStore(session)
        await store.wait(platform_id, "t", "{}", "cause-1", NOW)
        await store.wait(platform_id, "t", "{}", "cause-2", NOW + timedelta(minutes=5))
        assert (await store.set_case(other, area="01"))[1] is False
        assert (await store.set_case(platform_id, area="01"))[1] is True
        # Taking the older one leaves the case waiting for the newer.
        assert [w["cause_id"] for w in await store.waiting_for(since=NOW)] == ["cause-1"]
        assert (await store.set_case(platform_id, area="01"))[1] is True
        assert [w["cause_id"] for w in await store.waiting_for(platform_id)] == ["cause-2"]
        assert (await store.set_case(platform_id, area="01"))[1] is False


async def test_directory_lookups_are_kept_until_another_process_changes_the_directory(db: Database) -> None:
    area = a_platform_id()[-8:]  # an area of this test's own, on a shared PostgreSQL
    coordinator = Recipient(
        a_platform_id(), area, Role.MAPPA_COORDINATOR, Agency.POLICE, None, ("email",), "c@example.invalid",
        None, False, True, "operator",
    )  # fmt: skip
    elsewhere = Database(db.engine.url.render_as_string(hide_password=False))  # another replica
    try:
        async with db.transaction() as session:
            assert await NotificationStore(session).recipients_for(area, COORDINATOR) == []
        async with elsewhere.transaction() as session:
            await NotificationStore(session).put_recipient(coordinator, NOW)
        async with db.transaction() as session:
            assert await NotificationStore(session).recipients_for(area, COORDINATOR) == [coordinator]
    finally:
        await elsewhere.dispose()


async def test_lookups_made_in_a_rolled_back_change_of_the_directory_are_not_kept(db: Database) -> None:
    area = a_platform_id()[-8:]
    ours, theirs = (
        Recipient(a_platform_id(), area, Role.MAPPA_COORDINATOR, Agency.POLICE, None, (), None, None, False,
                  True, "operator")
        for _ in range(2)
    )  # fmt: skip
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            store = NotificationStore(session)
            await store.put_recipient(ours, NOW)
            assert await store.recipients_for(area, COORDINATOR) == [ours]
            raise RuntimeError("rolled back")
    elsewhere = Database(db.engine.url.render_as_string(hide_password=False))
    try:
        async with elsewhere.transaction() as session:  # counts the version up as ours would have
            await NotificationStore(session).put_recipient(theirs, NOW)
        async with db.transaction() as session:
            assert await NotificationStore(session).recipients_for(area, COORDINATOR) == [theirs]
    finally:
        await elsewhere.dispose()
