"""The registry's time-driven rules: deadlines passing and requirements ending, each acted on once."""

from datetime import date, datetime, timedelta

from eventkit import history
from eventkit.clock import local_date
from eventkit.outbox import Cause, Emitter
from eventkit.scheduler import once
from schemas.events.registry import NotificationOverdue
from services.registry.handlers import categories
from services.registry.notification_rules import next_deadline
from services.registry.storage import RegistryStore

JOB = "notification-overdue"
CATEGORY_ENDS = "mappa-exit"


async def overdue_notifications(work: Emitter, now: datetime) -> None:
    """Publish each deadline that has passed without a notification, the first time it is seen."""
    store = RegistryStore(work.session)
    today = local_date(now)
    for platform_id, state in await store.notification_states():
        due = next_deadline(state, today)
        if due is None or today <= due[1]:
            continue
        kind, deadline = due
        key = f"{platform_id}/{kind}/{deadline.isoformat()}"
        if await once(work.session, job=JOB, key=key, now=now):
            # The breach stays on record even if the person is later detained.
            await store.add_breach(platform_id, kind, deadline)
            change = f"{kind} notification overdue since {deadline.isoformat()}"
            history.record(work.session, platform_id, change, Cause(key, f"schedule/{JOB}"))
            await work.emit(
                NotificationOverdue(platform_id=platform_id, notification=kind, deadline=deadline),
                key=platform_id,
            )


async def notification_periods_ended(work: Emitter, now: datetime) -> None:
    """Category 1 ends with the notification requirement: from the next day, category 2 or exit."""
    today = local_date(now)
    for platform_id, last_day in await RegistryStore(work.session).requirement_ends(category=1):
        key = f"{platform_id}/{last_day.isoformat()}"
        if today > last_day and await once(work.session, job=CATEGORY_ENDS, key=key, now=now):
            await category_1_ended(work, platform_id, last_day, key)


async def category_1_ended(work: Emitter, platform_id: str, last_day: date, key: str) -> None:
    """Category 2 or exit, from the day after the requirement's last (a rebuild does it again)."""
    await categories.ended(
        work,
        platform_id,
        "notification-period-ended",
        last_day + timedelta(days=1),
        Cause(f"schedule/{key}", "schedule/category-ends"),
    )
