"""The notifications service: the platform's topics in, people and agency systems told, statuses out."""

from opentelemetry.trace import TracerProvider

from eventkit.clock import Clock, system_clock
from eventkit.policy import service_policies
from eventkit.service import Service
from eventkit.settings import Settings
from schemas.catalogue import NOTIFICATIONS_DELIVERIES
from services.notifications import api, api_directory
from services.notifications.channels import Mailer, SmtpSettings, Webhooks
from services.notifications.handlers import CONSUMES, handlers
from services.notifications.policy import DEFAULTS, NotificationsPolicy
from services.notifications.schedule import jobs
from services.notifications.sender import Sender
from services.notifications.tables import metadata


def create(
    *,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    tracer_provider: TracerProvider | None = None,
    smtp: SmtpSettings | None = None,
) -> Service:
    return build(settings=settings, clock=clock, tracer_provider=tracer_provider, smtp=smtp)[0]


def build(
    *,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    tracer_provider: TracerProvider | None = None,
    smtp: SmtpSettings | None = None,
    hold_seconds: float = 300.0,
) -> tuple[Service, Sender]:
    """The service, and its sender (which tests drive)."""
    settings = settings or Settings("notifications")
    policies = service_policies(settings, NotificationsPolicy, DEFAULTS)
    service = Service(
        "notifications",
        metadata=metadata,
        consumes=CONSUMES,
        produces=(NOTIFICATIONS_DELIVERIES,),
        handlers=handlers(policies).by_type,
        api=(api.router, api_directory.router),
        jobs=jobs(policies),
        policies=policies,
        clock=clock,
        settings=settings,
        tracer_provider=tracer_provider,
    )
    smtp = smtp or SmtpSettings()
    sender = Sender(
        service.db,
        policies,
        source=f"/mappa/{service.name}",
        clock=service.clock,
        tracer=service.tracer_provider.get_tracer("notifications.sender"),
        mailer=Mailer(smtp),
        webhooks=Webhooks(),
        email_connections=smtp.connections,
        hold_seconds=hold_seconds,
    )
    service.alongside(sender)
    return service, sender
