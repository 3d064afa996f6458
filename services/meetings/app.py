"""The meetings service: levels.decisions.v1 and the register's areas in, meetings.schedule.v1 out."""

from opentelemetry.trace import TracerProvider

from eventkit.clock import Clock, system_clock
from eventkit.policy import service_policies
from eventkit.service import Service
from eventkit.settings import Settings
from schemas.catalogue import LEVELS_DECISIONS, MEETINGS_SCHEDULE, REGISTRY_OFFENDERS
from services.meetings import api, api_steps
from services.meetings.handlers import handlers
from services.meetings.policy import DEFAULTS, MeetingsPolicy
from services.meetings.schedule import jobs
from services.meetings.tables import metadata


def create(
    *,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    tracer_provider: TracerProvider | None = None,
) -> Service:
    settings = settings or Settings("meetings")
    policies = service_policies(settings, MeetingsPolicy, DEFAULTS)
    return Service(
        "meetings",
        metadata=metadata,
        consumes=(LEVELS_DECISIONS, REGISTRY_OFFENDERS),
        produces=(MEETINGS_SCHEDULE,),
        handlers=handlers.by_type,
        api=(api.router, api_steps.router),
        jobs=jobs(policies),
        policies=policies,
        clock=clock,
        settings=settings,
        tracer_provider=tracer_provider,
    )
