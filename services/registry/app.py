"""The registry service: agency topics (and meeting invitations) in, registry.offenders.v1 out."""

from opentelemetry.trace import TracerProvider

from eventkit import invitations
from eventkit.clock import Clock, system_clock
from eventkit.consumer import Handlers
from eventkit.policy import service_policies
from eventkit.service import Service
from eventkit.settings import Settings
from schemas.catalogue import AGENCY_TOPICS, MEETINGS_SCHEDULE, REGISTRY_OFFENDERS
from services.registry import actions
from services.registry.api import router
from services.registry.handlers import handlers
from services.registry.policy import DEFAULTS, RegistryPolicy
from services.registry.schedule import notification_periods_ended, overdue_notifications
from services.registry.tables import metadata


def create(
    *,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    tracer_provider: TracerProvider | None = None,
) -> Service:
    settings = settings or Settings("registry")
    return Service(
        "registry",
        metadata=metadata,
        consumes=(*AGENCY_TOPICS, MEETINGS_SCHEDULE),
        produces=(REGISTRY_OFFENDERS,),
        handlers=Handlers().include(handlers).include(invitations.handlers).by_type,
        api=(router, actions.router),
        jobs=(overdue_notifications, notification_periods_ended),
        policies=service_policies(settings, RegistryPolicy, DEFAULTS),
        clock=clock,
        settings=settings,
        tracer_provider=tracer_provider,
    )
