"""The notifications service: meetings.schedule.v1 in, notifications.deliveries.v1 out."""

from functools import partial

from eventkit.service import Service
from schemas.catalogue import MEETINGS_SCHEDULE, NOTIFICATIONS_DELIVERIES
from services.notifications.handlers import handlers
from services.notifications.storage import metadata

create = partial(
    Service,
    "notifications",
    metadata=metadata,
    consumes=(MEETINGS_SCHEDULE,),
    produces=(NOTIFICATIONS_DELIVERIES,),
    handlers=handlers.by_type,
)
