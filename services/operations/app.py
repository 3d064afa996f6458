"""The operations service: every platform topic in as the dashboard's read model, the dead-letter
topics in as the dead letters, operators' decisions out on operations.deadletters.v1."""

from datetime import timedelta

from opentelemetry.trace import TracerProvider
from starlette.exceptions import HTTPException as StarletteHTTPException

from eventkit.broker import group_of
from eventkit.clock import Clock, system_clock
from eventkit.service import Service
from eventkit.settings import Settings
from schemas.catalogue import OPERATIONS_DEADLETTERS, PLATFORM_TOPICS, TOPICS
from services.operations import api, web
from services.operations.deadletters import DeadLetterRecorder, DeadLetters
from services.operations.handlers import handlers
from services.operations.pipeline import Pipeline, register_metrics
from services.operations.settings import OperationsSettings
from services.operations.tables import metadata

DEAD_LETTER_GROUP = group_of("operations", "deadletters")


def group_reads() -> dict[str, list[str]]:
    """The topics each consumer group reads, from the catalogue; and the dead letters, read here."""
    reads: dict[str, list[str]] = {}
    for topic in TOPICS:
        for consumer in topic.consumers:
            reads.setdefault(group_of(consumer), []).append(topic.name)
    reads[DEAD_LETTER_GROUP] = [topic.dead_letter for topic in TOPICS]
    return reads


def create(
    *,
    settings: Settings | None = None,
    own: OperationsSettings | None = None,
    clock: Clock = system_clock,
    tracer_provider: TracerProvider | None = None,
) -> Service:
    settings = settings or Settings("operations")
    own = own or OperationsSettings()
    service = Service(
        "operations",
        metadata=metadata,
        consumes=tuple(topic for topic in PLATFORM_TOPICS if "operations" in topic.consumers),
        produces=(OPERATIONS_DEADLETTERS,),
        handlers=handlers.by_type,
        api=(web.router, api.router),
        clock=clock,
        settings=settings,
        tracer_provider=tracer_provider,
    )
    platform = settings.platform
    service.also_subscribe(
        [topic.dead_letter for topic in TOPICS],
        group_id=DEAD_LETTER_GROUP,
        consumer=DeadLetterRecorder(service.db, platform.max_message_bytes),
        description="Dead letters of every topic: their headers, for operators",
    )
    pipeline = Pipeline(
        service.db,
        settings.kafka,
        reads=group_reads(),
        services=own.service_urls,
        sample_seconds=own.sample_seconds,
    )
    service.alongside(pipeline)
    register_metrics(pipeline, service.registry)
    service.exception_handlers[StarletteHTTPException] = web.error_page
    assert service.subscription is not None  # it consumes the platform's topics
    service.app_state.update(
        own_group=service.subscription.group_id,
        pipeline=pipeline,
        dead_letters=DeadLetters(
            service.db,
            settings.kafka,
            service.dead_letters,
            replay_within=timedelta(days=own.replay_within_days),
        ),
        refresh_seconds=own.refresh_seconds,
        case_links=own.case_links,
    )
    return service
