"""Notifications' time-driven rules: an urgent notification nobody acknowledged in time escalates, and an
event whose case never got an area goes to the co-ordinators of cases in no area.

Each is escalated once, with its copies to others in the same role: the job
takes them off the escalation list in the transaction that tells the next
role, so a restart or a second instance does not repeat it; one copy
acknowledged stops them all.
"""

from datetime import datetime, timedelta

from eventkit.outbox import Emitter
from eventkit.policy import AreaPolicies
from eventkit.scheduler import Job
from schemas.events.notifications import NotificationEscalated
from services.notifications.notify import Notifier, on_trace_of, status_of
from services.notifications.policy import NotificationsPolicy


def jobs(policies: AreaPolicies[NotificationsPolicy]) -> tuple[Job, ...]:
    async def escalations(work: Emitter, now: datetime) -> None:
        notifier = Notifier(work, policies, now=now)
        for original in await notifier.store.escalations_due(now):
            if not await notifier.store.escalated(original["cause_id"], original["kind"]):
                continue
            with on_trace_of(original):
                escalations = await notifier.escalate(original)
                for escalation_id, to_role in escalations:
                    await work.emit(
                        NotificationEscalated(
                            **status_of(original),
                            escalation_id=escalation_id,
                            escalated_to_role=to_role,
                        ),
                        key=original["platform_id"],
                    )

    async def unplaced(work: Emitter, now: datetime) -> None:
        """Events that waited too long for their case's area: to the co-ordinators of cases in no area."""
        wait = timedelta(minutes=policies.defaults.area_wait_minutes)
        await Notifier(work, policies, now=now).placed(waited_since=now - wait)

    return (escalations, unplaced)
