"""CloudEvents 1.0 structured-mode JSON envelope.

The attributes follow the CloudEvents 1.0.2 specification; ``data`` carries a
payload model from ``schemas.events``. The event type carries its version
(``uk.mappa.<producer>.<name>.v<N>``).
"""

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from schemas.contract import Contract

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
EVENT_TYPE_PATTERN = r"^uk\.mappa\.[a-z]+\.[a-z0-9-]+\.v[0-9]+$"
# RFC 3339 date-time: full date, "T", time with seconds, optional fraction, and an offset.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: Any) -> Any:
    # Pydantic alone would also take a number or "9999999999" as a Unix time.
    if isinstance(value, datetime):
        return value  # an event built in code
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 timestamp string, such as 2026-12-02T09:30:00Z")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339), Field(strict=False)]


class CloudEvent(BaseModel):
    """An event as it travels on a topic.

    Unknown extension attributes are kept (``extra="allow"``) as the
    CloudEvents spec requires consumers to tolerate them. Attributes are
    strictly typed: a number is not a string, nor a timestamp.
    """

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=256)
    type: str = Field(pattern=EVENT_TYPE_PATTERN)
    subject: str | None = Field(default=None, max_length=128)
    time: Timestamp
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    # Extension attribute: the id of the event this one was caused by, so an agency can see
    # what became of its event (which nominal it registered) without any personal data.
    causationid: str | None = Field(default=None, max_length=128)
    data: dict[str, Any]

    def to_json(self) -> bytes:
        """Structured-mode bytes; absent optional attributes are left out, not null."""
        return self.model_dump_json(exclude_none=True).encode()


def typed_event(event_type: str, model: type[Contract]) -> type[CloudEvent]:
    """The envelope with ``type`` and ``data`` pinned to one event, for documentation."""
    return create_model(
        model.__name__ + "Event",
        __base__=CloudEvent,
        type=(Literal[event_type], ...),  # type: ignore[arg-type]
        data=(model, ...),
    )


def schema_uri(event_type: str) -> str:
    return f"urn:uk:mappa:schema:{event_type}"


def new_event(
    event_type: str,
    data: Contract,
    *,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    causation_id: str | None = None,
) -> CloudEvent:
    return CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=event_type,
        subject=subject,
        time=time or datetime.now(UTC),
        dataschema=schema_uri(event_type),
        causationid=causation_id,
        data=data.model_dump(mode="json"),
    )
