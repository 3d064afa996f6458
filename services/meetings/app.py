"""The meetings service: levels.decisions.v1 in, meetings.schedule.v1 out."""

from functools import partial

from eventkit.service import Service
from schemas.catalogue import LEVELS_DECISIONS, MEETINGS_SCHEDULE
from services.meetings.handlers import handlers
from services.meetings.storage import metadata

create = partial(
    Service,
    "meetings",
    metadata=metadata,
    consumes=(LEVELS_DECISIONS,),
    produces=(MEETINGS_SCHEDULE,),
    handlers=handlers.by_type,
)
