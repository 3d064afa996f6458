"""The levels service: registry.offenders.v1, agency casework and meetings in, levels.decisions.v1 out."""

from opentelemetry.trace import TracerProvider

from eventkit import invitations
from eventkit.clock import Clock, system_clock
from eventkit.consumer import Handlers
from eventkit.policy import service_policies
from eventkit.service import Service
from eventkit.settings import Settings
from schemas.catalogue import AGENCY_TOPICS, LEVELS_DECISIONS, MEETINGS_SCHEDULE, REGISTRY_OFFENDERS
from services.levels import actions
from services.levels.api import router
from services.levels.handlers import handlers
from services.levels.policy import DEFAULTS, LevelsPolicy
from services.levels.schedule import jobs
from services.levels.tables import metadata


def create(
    *,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    tracer_provider: TracerProvider | None = None,
) -> Service:
    settings = settings or Settings("levels")
    policies = service_policies(settings, LevelsPolicy, DEFAULTS)
    return Service(
        "levels",
        metadata=metadata,
        consumes=(REGISTRY_OFFENDERS, *AGENCY_TOPICS, MEETINGS_SCHEDULE),
        produces=(LEVELS_DECISIONS,),
        handlers=Handlers().include(handlers).include(invitations.handlers).by_type,
        api=(router, actions.router),
        jobs=jobs(policies),
        policies=policies,
        clock=clock,
        settings=settings,
        tracer_provider=tracer_provider,
    )
