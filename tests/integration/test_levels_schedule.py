"""Reviews and release screening on a fake clock: each published once, also across a restart."""

from datetime import date

from eventkit.scheduler import Job, Scheduler
from eventkit.service import Service
from services.levels.schedule import jobs
from tests.support.casework import (
    COORDINATOR,
    a_platform_id,
    casework_in,
    level_decision,
    published,
    screening,
)
from tests.support.clock import FakeClock

SCREENED = date(2027, 1, 4)  # level 1 under probation's policy: reviewed within 26 weeks, by 5 July


async def _case(service: Service, *, release: date | None = None, screened: bool = True) -> str:
    platform_id = a_platform_id()
    async with casework_in(service, platform_id) as casework:
        await casework.categorised(platform_id, 1, "01", SCREENED)
        await casework.case_fact(
            platform_id, "lead agency probation", lead_agency="probation", release_date=release
        )
        if screened:
            assert await casework.screened(screening(platform_id, SCREENED), "probation") is None
    return platform_id


def _scheduler(service: Service, clock: FakeClock, job: int) -> Scheduler:
    """A scheduler as a (re)started service makes it."""
    found: Job = jobs(service.policies)[job]  # type: ignore[arg-type]
    return Scheduler(service.db, found, source="/mappa/levels", clock=clock)


async def test_a_review_is_published_due_then_overdue_once_each_also_across_a_restart(
    offline_levels: Service, clock: FakeClock
) -> None:
    platform_id = await _case(offline_levels)
    reviews = _scheduler(offline_levels, clock, 0)

    clock.set(date(2027, 6, 18))  # 11 working days before 5 July
    assert await reviews.tick() == 0
    clock.set(date(2027, 6, 21))  # 10 working days before
    assert await reviews.tick() == 1
    assert await reviews.tick() == 0
    clock.set(date(2027, 7, 5))  # the last day: due still, not again
    assert await _scheduler(offline_levels, clock, 0).tick() == 0
    clock.set(date(2027, 7, 6))
    assert await reviews.tick() == 1
    assert await _scheduler(offline_levels, clock, 0).tick() == 0

    [due] = await published(offline_levels, "review-due")
    [overdue] = await published(offline_levels, "review-overdue")
    assert due.data == {"platform_id": platform_id, "level": 1, "review_by": "2027-07-05"}
    assert overdue.data == due.data

    # The review is held: level 1 confirmed, and the next review is 26 weeks on.
    async with casework_in(offline_levels, "review") as casework:
        assert (
            await casework.level_decided(level_decision(platform_id, date(2027, 7, 6), 1, by=COORDINATOR))
            is None
        )
        case = await casework.store.case(platform_id)
    assert case is not None
    assert case.next_review_by == date(2028, 1, 4)
    # Ten working days before 4 January 2028, over the substitute Christmas and New Year holidays.
    clock.set(date(2027, 12, 15))
    assert await reviews.tick() == 0
    clock.set(date(2027, 12, 16))
    assert await reviews.tick() == 1
    assert [e.data["review_by"] for e in await published(offline_levels, "review-due")] == [
        "2027-07-05",
        "2028-01-04",
    ]


async def test_a_release_near_with_no_level_confirmed_alerts_once_per_release_date(
    offline_levels: Service, clock: FakeClock
) -> None:
    pending = await _case(offline_levels, release=date(2027, 8, 1), screened=False)
    await _case(offline_levels, release=date(2027, 8, 1))  # screened at level 1: no alert
    await _case(offline_levels, release=date(2027, 12, 1), screened=False)  # more than 6 months away
    release = _scheduler(offline_levels, clock, 1)

    clock.set(date(2027, 3, 1))
    assert await release.tick() == 1
    assert await release.tick() == 0
    assert await _scheduler(offline_levels, clock, 1).tick() == 0
    [alert] = await published(offline_levels, "release-screening-alert")
    assert alert.data == {"platform_id": pending, "release_date": "2027-08-01", "level": 1}

    # The prison moves the release date: a new date, a new alert.
    async with casework_in(offline_levels, "moved") as casework:
        await casework.case_fact(pending, "release date 2027-07-01", release_date=date(2027, 7, 1))
    assert await release.tick() == 1


async def test_a_release_six_months_on_from_a_month_end_alerts_on_the_right_day(
    offline_levels: Service, clock: FakeClock
) -> None:
    # Six months before 31 August 2027 is 28 February: the job reads only releases to come
    # within the window, and must not lose this one to the shorter month.
    pending = await _case(offline_levels, release=date(2027, 8, 31), screened=False)
    release = _scheduler(offline_levels, clock, 1)
    clock.set(date(2027, 2, 27))
    assert await release.tick() == 0
    clock.set(date(2027, 2, 28))
    assert await release.tick() == 1
    [alert] = await published(offline_levels, "release-screening-alert")
    assert alert.data["platform_id"] == pending
