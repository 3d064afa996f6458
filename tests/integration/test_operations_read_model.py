"""The dashboard's read model, fed the platform's events through the kit's consumer, on SQLite and
PostgreSQL: what each measure counts in an area, and what a transfer, a review or a notification
made takes off it."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from eventkit.consumer import Consumer, ConsumerConfig
from eventkit.db import Database
from schemas.catalogue import type_of
from schemas.contract import Contract
from schemas.envelope import new_event
from schemas.events import levels, meetings, notifications, registry
from services.operations.handlers import handlers
from services.operations.measures import caseload_key
from services.operations.storage import CaseworkStore, Listed
from tests.support.stores import both_databases

TODAY = date(2026, 12, 3)
STARTS = datetime(2026, 12, 7, 10, tzinfo=UTC)
STAFF = "u-staff-1"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with both_databases(request, tmp_path, "operations") as database:
        yield database


def _record(data: Contract, offset: int) -> ConsumerRecord:
    platform_id = getattr(data, "platform_id")  # noqa: B009
    event = new_event(type_of(type(data)), data, source="/mappa/test", subject=platform_id)
    topic = {"registry": "registry.offenders.v1", "levels": "levels.decisions.v1",
             "meetings": "meetings.schedule.v1", "notifications": "notifications.deliveries.v1"}[
        event.type.split(".")[2]]  # fmt: skip
    value = event.to_json()
    return ConsumerRecord(
        topic=topic, partition=0, offset=offset, timestamp=0, timestamp_type=0, key=platform_id.encode(),
        value=value, checksum=None, serialized_key_size=1, serialized_value_size=len(value), headers=[],
    )  # fmt: skip


async def _apply(db: Database, *events: Contract) -> None:
    async def nowhere(_topic: str, _record: ConsumerRecord, headers: dict[str, str]) -> None:
        raise AssertionError(f"dead-lettered: {headers}")

    config = ConsumerConfig(name="operations", source="/mappa/operations", max_attempts=1,
                            retry_backoff_seconds=0, max_message_bytes=100_000)  # fmt: skip
    consumer = Consumer(config, db, handlers.by_type, nowhere, CollectorRegistry(), trace.get_tracer("test"))
    result = await consumer.process_batch([_record(e, i) for i, e in enumerate(events)])
    assert result.unavailable is None


async def _counts(db: Database, area: str) -> dict[str, int]:
    async with db.transaction() as session:
        return await CaseworkStore(session).counts(area)


def _case(platform_id: str, area: str, category: int = 2) -> list[Contract]:
    return [
        registry.CategoryAssigned(platform_id=platform_id, category=category, reason="r", legal_basis="s.325",
                                  effective_date=TODAY, area=area),
        levels.ScreeningDue(platform_id=platform_id, category=category, level=1, status="pending-screening",
                            since=TODAY),
    ]  # fmt: skip


async def test_each_measure_counts_the_areas_open_cases_and_what_hangs_off_them(db: Database) -> None:
    review_by = TODAY + timedelta(days=90)
    await _apply(
        db,
        *_case("P-1", "01"),
        *_case("P-2", "01", category=1),
        *_case("P-3", "02"),
        levels.LevelChanged(platform_id="P-1", level=3, decided_on=TODAY, decided_by_role="senior-officer",
                            senior_officer_authorised=True, next_review_by=review_by, previous_level=1,
                            kind="raised"),
        levels.ReviewOverdue(platform_id="P-2", level=1, review_by=TODAY),
        levels.ReleaseScreeningAlert(platform_id="P-2", release_date=TODAY, level=1),
        meetings.MeetingRequired(platform_id="P-1", meeting_id="M-1", level=3, kind="first",
                                 required_by=TODAY),
        meetings.MeetingOverdue(platform_id="P-1", meeting_id="M-1", level=3, required_by=TODAY),
        meetings.ActionAssigned(platform_id="P-1", meeting_id="M-0", action_id="A-1", owner_agency="police",
                                owner_staff_ref=STAFF, due_on=TODAY),
        meetings.ActionOverdue(platform_id="P-1", meeting_id="M-0", action_id="A-1", owner_agency="police",
                               owner_staff_ref=STAFF, due_on=TODAY),
        registry.NotificationOverdue(platform_id="P-2", notification="periodic", deadline=TODAY),
        notifications.NotificationQueued(notification_id="N-1", platform_id="P-1", kind="review-overdue",
                                         recipient_role="offender-manager", channels=["email"], urgent=True),
        notifications.NotificationQueued(notification_id="N-2", platform_id="P-3", kind="review-overdue",
                                         recipient_role="offender-manager", channels=["email"], urgent=True),
        notifications.NotificationFailed(notification_id="N-1", platform_id="P-1", kind="review-overdue",
                                         recipient_role="offender-manager", channel="email", attempts=5,
                                         error="smtp-550"),
    )  # fmt: skip
    counts = await _counts(db, "01")
    assert counts[caseload_key(2, 3)] == 1
    assert counts[caseload_key(1, 1)] == 1
    assert counts[caseload_key(2, 1)] == 0  # P-3 is area 02's
    assert counts["reviews-overdue"] == 1
    assert counts["release-screenings-due"] == 1
    assert (counts["meetings-required"], counts["meetings-unscheduled"], counts["meetings-overdue"]) == (
        1,
        1,
        1,
    )
    assert counts["actions-overdue"] == 1
    assert counts["registrations-overdue"] == 1
    assert (counts["notifications-failed"], counts["notifications-unacknowledged"]) == (1, 1)
    assert (await _counts(db, "02"))["notifications-unacknowledged"] == 1
    async with db.transaction() as session:
        overdue = await CaseworkStore(session).listed("01", "reviews-overdue", limit=10, offset=0)
        actions_due = await CaseworkStore(session).listed("01", "actions-overdue", limit=10, offset=0)
    assert overdue == [Listed("P-2", "P-2", TODAY)]  # with the review date levels gave
    assert actions_due == [Listed("P-1", "A-1", TODAY)]

    # The meeting is scheduled, the review done, the nominal notifies, the notice acknowledged,
    # and area 01's P-1 moves to area 02.
    await _apply(
        db,
        meetings.MeetingScheduled(platform_id="P-1", meeting_id="M-1", level=3, starts_at=STARTS,
                                  ends_at=STARTS + timedelta(hours=2), sequence=0,
                                  chair_role="senior-officer", attendee_agencies=["police"],
                                  ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR"),
        levels.LevelSet(platform_id="P-2", level=1, decided_on=TODAY, decided_by_role="mappa-coordinator",
                        senior_officer_authorised=False, next_review_by=review_by, kind="confirmed"),
        registry.NotificationMade(platform_id="P-2", notified_on=TODAY),
        notifications.NotificationAcknowledged(notification_id="N-2", platform_id="P-3",
                                               kind="review-overdue", recipient_role="offender-manager"),
        registry.Transferred(platform_id="P-1", from_area="01", to_area="02", transferred_on=TODAY),
    )  # fmt: skip
    counts = await _counts(db, "01")
    assert counts[caseload_key(2, 3)] == 0
    assert (
        counts["reviews-overdue"] == counts["release-screenings-due"] == counts["registrations-overdue"] == 0
    )
    there = await _counts(db, "02")
    assert there[caseload_key(2, 3)] == 1
    assert [there[f"meetings-{m}"] for m in ("required", "unscheduled", "overdue")] == [1, 0, 0]
    assert (there["notifications-failed"], there["notifications-unacknowledged"]) == (1, 1)


async def test_a_closed_case_leaves_the_counts(db: Database) -> None:
    await _apply(db, *_case("P-9", "01"), levels.ReviewDue(platform_id="P-9", level=1, review_by=TODAY))
    assert (await _counts(db, "01"))["reviews-due"] == 1
    await _apply(db, levels.CaseClosed(platform_id="P-9", closed_on=TODAY, reason="exited-mappa"))
    counts = await _counts(db, "01")
    assert counts["reviews-due"] == counts[caseload_key(2, 1)] == 0


async def test_metrics_count_every_measure_of_every_area_with_an_open_case_from_zero(db: Database) -> None:
    await _apply(db, *_case("P-5", "05"), levels.ReviewOverdue(platform_id="P-5", level=1, review_by=TODAY))
    await _apply(
        db, *_case("P-6", "06"), levels.CaseClosed(platform_id="P-6", closed_on=TODAY, reason="exited-mappa")
    )
    async with db.transaction() as session:
        by_area = await CaseworkStore(session).counts_by_area()
    assert by_area[("05", "reviews-overdue")] == 1
    assert by_area[("05", "meetings-overdue")] == 0  # a series from 0, so its first case is a rise
    assert not any(area == "06" for area, _ in by_area)  # no open case there
