"""Level management's time-driven rules: reviews falling due and overdue, releases near with no level.

Each is published once (``eventkit.scheduler.once``): a restart, or a
second instance, does not repeat it. A review done (a level decided or
confirmed) moves the review date, so the next one is published in its turn.
"""

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from eventkit.calendar import add_working_days
from eventkit.clock import local_date
from eventkit.outbox import Cause, Emitter
from eventkit.policy import AreaPolicies
from eventkit.scheduler import Job, once
from schemas.events import levels
from services.levels.casework import Casework
from services.levels.policy import LevelsPolicy
from services.levels.reviews import review_stage
from services.levels.triggers import needs_release_screening


def jobs(policies: AreaPolicies[LevelsPolicy]) -> tuple[Job, ...]:
    """The service's jobs, under the area policies it runs with."""

    async def reviews(work: Emitter, now: datetime) -> None:
        """Publish each review as it falls due, and again if it passes undone."""
        casework = Casework(work, policies)
        today = local_date(now)
        # Reviews already due or overdue, not every case each tick: the notice any area gives,
        # counted forward from today, and a week more for the holidays it may span.
        horizon = max(
            add_working_days(today, policy.review_notice_working_days, policy.nation)
            for policy in policies.all()
        ) + timedelta(weeks=1)
        for case in await casework.store.reviews_by(horizon):
            assert case.next_review_by is not None
            stage = review_stage(case.next_review_by, today, casework.policy(case))
            key = f"{case.platform_id}/{case.next_review_by.isoformat()}/{stage}"
            if stage is None or not await once(work.session, job="level-review", key=key, now=now):
                continue
            await casework.note(
                case.platform_id, f"review {stage} (by {case.next_review_by})", Cause(key, "schedule/review")
            )
            event = levels.ReviewDue if stage == "due" else levels.ReviewOverdue
            await casework.emit(
                event(platform_id=case.platform_id, level=case.level.level, review_by=case.next_review_by),
                case.platform_id,
            )

    async def release_screening(work: Emitter, now: datetime) -> None:
        """Alert once per release date when release is near and no level is confirmed."""
        casework = Casework(work, policies)
        today = local_date(now)
        # Only releases to come within the widest window any area has, not every case each tick;
        # a few days more, since a month back from the 31st can land on the 28th.
        months = max(policy.release_window_months for policy in policies.all())
        horizon = today + relativedelta(months=months, days=4)
        for case in await casework.store.releasing(today, horizon):
            release = case.release_date
            if release is None or not needs_release_screening(
                case.level,
                confirmed=case.confirmed,
                release_date=release,
                today=today,
                policy=casework.policy(case),
            ):
                continue
            key = f"{case.platform_id}/{release.isoformat()}"
            if not await once(work.session, job="release-screening", key=key, now=now):
                continue
            await casework.note(
                case.platform_id,
                f"release on {release} with no level confirmed",
                Cause(key, "schedule/release"),
            )
            await casework.emit(
                levels.ReleaseScreeningAlert(
                    platform_id=case.platform_id, release_date=release, level=case.level.level
                ),
                case.platform_id,
            )

    return (reviews, release_screening)
