"""The levels service: registry.offenders.v1 in, levels.decisions.v1 out."""

from functools import partial

from eventkit.service import Service
from schemas.catalogue import LEVELS_DECISIONS, REGISTRY_OFFENDERS
from services.levels.handlers import handlers
from services.levels.storage import metadata

create = partial(
    Service,
    "levels",
    metadata=metadata,
    consumes=(REGISTRY_OFFENDERS,),
    produces=(LEVELS_DECISIONS,),
    handlers=handlers.by_type,
)
