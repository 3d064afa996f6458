"""Operations' own settings (``MAPPA_OPERATIONS_*``), beside the kit's per-service ones."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventkit.settings import DEFAULT_HTTP_PORTS

WATCHED = ("registry", "levels", "meetings", "notifications")


def _local(service: str) -> str:
    return f"http://127.0.0.1:{DEFAULT_HTTP_PORTS[service]}"


class OperationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAPPA_OPERATIONS_", extra="ignore")

    # Each service's base URL, for its /health and /metrics (a JSON object).
    service_urls: dict[str, str] = Field(default_factory=lambda: {s: _local(s) for s in WATCHED})
    # How often the pipeline is sampled, and how often a page's live parts are rendered again.
    sample_seconds: float = Field(default=2.0, gt=0)
    refresh_seconds: float = Field(default=2.0, gt=0)
    # A dead letter older than this is not replayed: keep it within every consumer's inbox retention
    # (MAPPA_<SERVICE>_INBOX_RETENTION_DAYS, 30), or a consumer that applied it before could again.
    replay_within_days: float = Field(default=30.0, gt=0)
    # Where a listed case's records are, by name: each a URL with {platform_id}.
    case_links: dict[str, str] = Field(
        default_factory=lambda: {
            "register": _local("registry") + "/nominals/{platform_id}",
            "levels": _local("levels") + "/cases/{platform_id}",
            "meetings": _local("meetings") + "/cases/{platform_id}/meetings",
        }
    )
