"""Notification handlers: parse, decide with the rules, store, emit."""

from eventkit.consumer import Handlers, UnitOfWork
from schemas.events.meetings import MeetingNotRequired
from schemas.events.notifications import NotificationRecorded
from services.notifications import rules
from services.notifications.storage import NotificationStore

handlers = Handlers()


@handlers.on(MeetingNotRequired)
async def meeting_not_required(data: MeetingNotRequired, work: UnitOfWork) -> None:
    notice = rules.no_meeting_notice(data.platform_id, data.level)
    notification_id = await NotificationStore(work.session).record(data.platform_id, notice, work.cause.id)
    await work.emit(
        NotificationRecorded(
            notification_id=notification_id,
            platform_id=data.platform_id,
            recipient_role=notice.recipient_role,
            subject=notice.subject,
            action=notice.action,
            status="recorded",
        ),
        key=data.platform_id,
    )
