"""Settings from the environment, read once per process.

Platform-wide values use the ``MAPPA_`` prefix (``KAFKA_BOOTSTRAP_SERVERS``
is read as is); values that differ between services, such as the database
URL and HTTP port, use ``MAPPA_<SERVICE>_`` so four services can share one
environment.
"""

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventkit.broker import KafkaAccess

DEFAULT_HTTP_PORTS = {
    "registry": 8101,
    "levels": 8102,
    "meetings": 8103,
    "notifications": 8104,
    "operations": 8105,
}


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAPPA_", extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "MAPPA_KAFKA_BOOTSTRAP_SERVERS"),
    )
    # The brokers' CA certificate: clients then connect over TLS (SASL_SSL with a principal).
    kafka_ssl_cafile: Path | None = None
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)
    data_dir: Path = Path("var")
    agency: str = "mappa-platform"
    # A message is retried this many times in all before it is dead-lettered.
    max_attempts: int = Field(default=3, ge=1)
    retry_backoff_seconds: float = Field(default=0.2, ge=0)
    max_message_bytes: int = Field(default=256 * 1024, ge=1024)
    # How long the outbox relay's producer waits for an answer to one request before retrying it.
    producer_request_timeout_seconds: float = Field(default=40.0, gt=0)
    # How far ahead of the platform's clock a sender's event time may be before it is refused.
    max_clock_skew_seconds: float = Field(default=300.0, ge=0)
    log_level: str = "INFO"
    # A warning or error repeated word for word is logged once, then counted and summarised this often.
    log_repeat_seconds: float = Field(default=60.0, gt=0)
    otel_traces_exporter: str = Field(
        default="none",
        validation_alias=AliasChoices("OTEL_TRACES_EXPORTER", "MAPPA_OTEL_TRACES_EXPORTER"),
    )


class KafkaCredentials(BaseSettings):
    """A client's Kafka principal: ``MAPPA_<CLIENT>_KAFKA_USERNAME`` and ``..._PASSWORD``, where the
    client is a service (``REGISTRY``) or an agency system (``POLICE``). Never in the repository."""

    model_config = SettingsConfigDict(extra="ignore")

    username: str | None = None
    password: SecretStr | None = None


def kafka_access(client: str, platform: PlatformSettings | None = None) -> KafkaAccess:
    """How ``client`` connects to Kafka, from the environment."""
    platform = platform or PlatformSettings()
    credentials = KafkaCredentials(_env_prefix=f"MAPPA_{client.upper()}_KAFKA_")
    # An empty setting is no setting (an environment that blanks one out).
    return KafkaAccess(
        platform.kafka_bootstrap_servers,
        username=credentials.username or None,
        password=(credentials.password.get_secret_value() or None) if credentials.password else None,
        ssl_cafile=platform.kafka_ssl_cafile,
    )


class ServiceSettings(BaseSettings):
    """Per-service values, read with the prefix ``MAPPA_<SERVICE>_``."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = None
    # Apply the schema's migrations before starting (local runs and tests); in a cluster a job or an
    # init container applies them (python -m deploy.migrate), and a service only checks.
    migrate_at_start: bool = False
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    outbox_relay: bool = True
    outbox_batch_size: int = Field(default=200, ge=1)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    # /health reports the outbox failing when rows wait and nothing was published for this long.
    outbox_stall_seconds: float = Field(default=30.0, gt=0)
    offset_commit_seconds: float = Field(default=0.2, gt=0)
    # Applied events are remembered this long (longer than the broker keeps messages).
    inbox_retention_days: float = Field(default=30.0, gt=0)
    # A consumer applies up to this many records in one transaction...
    consume_batch_size: int = Field(default=500, ge=1)
    # ...and, finding none, looks again after this long (records arriving end the wait at once).
    consume_wait_ms: int = Field(default=100, ge=1)
    # The broker answers a fetch once it has this much for the service, or after the wait: at
    # moderate rates a batch then carries many events, and its transaction, relay pass and Kafka
    # requests are shared by them, for at most the wait's latency per hop.
    consume_fetch_min_bytes: int = Field(default=64 * 1024, ge=1)
    consume_fetch_wait_ms: int = Field(default=100, ge=1)
    schedule_seconds: float = Field(default=60.0, gt=0)
    # The area policy file; the service's own policy.toml when unset.
    policy_file: Path | None = None
    # Runs the service's clock this many days ahead: for demos and black-box tests of deadlines
    # only (a process cannot take a test's fake clock). Leave it at 0 in production.
    clock_offset_days: float = Field(default=0.0, ge=0, le=3650)


class Settings:
    """Everything one service needs, with defaults filled in."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.platform = PlatformSettings()
        self.kafka = kafka_access(service, self.platform)
        own = ServiceSettings(_env_prefix=f"MAPPA_{service.upper()}_")
        self.own = own
        self.database_url = own.database_url or (
            f"sqlite+inloop:///{self.platform.data_dir.resolve() / service}.db"
        )
        self.http_port = own.http_port or DEFAULT_HTTP_PORTS.get(service, 8100)
