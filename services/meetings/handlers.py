"""Meeting scheduling handlers: parse, decide with the rules, store, emit."""

from eventkit.consumer import Handlers, UnitOfWork
from schemas.events.levels import ScreeningDue
from schemas.events.meetings import MeetingNotRequired
from services.meetings import rules
from services.meetings.storage import MeetingStore

handlers = Handlers()


@handlers.on(ScreeningDue)
async def screening_due(data: ScreeningDue, work: UnitOfWork) -> None:
    decision = rules.meeting_decision(data.level)
    await MeetingStore(work.session).record(data.platform_id, data.level, decision, work.cause.id)
    if not decision.required:
        await work.emit(
            MeetingNotRequired(platform_id=data.platform_id, level=data.level, reason=decision.reason),
            key=data.platform_id,
        )
