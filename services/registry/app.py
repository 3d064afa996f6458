"""The registry service: agency topics in, registry.offenders.v1 out."""

from functools import partial

from eventkit.service import Service
from schemas.catalogue import AGENCY_TOPICS, REGISTRY_OFFENDERS
from services.registry import actions
from services.registry.api import router
from services.registry.handlers import handlers
from services.registry.policy import DEFAULTS, RegistryPolicy
from services.registry.schedule import notification_periods_ended, overdue_notifications
from services.registry.tables import metadata

create = partial(
    Service,
    "registry",
    metadata=metadata,
    consumes=AGENCY_TOPICS,
    produces=(REGISTRY_OFFENDERS,),
    handlers=handlers.by_type,
    api=(router, actions.router),
    jobs=(overdue_notifications, notification_periods_ended),
    policy=(RegistryPolicy, DEFAULTS),
)
