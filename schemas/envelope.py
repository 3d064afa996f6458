"""CloudEvents 1.0 structured-mode JSON envelope.

The attributes follow the CloudEvents 1.0.2 specification; ``data`` carries a
payload model from ``schemas.events``. The event type carries its version
(``uk.mappa.<producer>.<name>.v<N>``).
"""

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from schemas.contract import Contract

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
EVENT_TYPE_PATTERN = r"^uk\.mappa\.[a-z]+\.[a-z0-9-]+\.v[0-9]+$"


class CloudEvent(BaseModel):
    """An event as it travels on a topic.

    Unknown extension attributes are kept (``extra="allow"``) as the
    CloudEvents spec requires consumers to tolerate them.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=256)
    type: str = Field(pattern=EVENT_TYPE_PATTERN)
    subject: str | None = Field(default=None, max_length=128)
    time: AwareDatetime
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
