"""From Kafka bytes to a validated CloudEvent and its payload model.

Decoding is done in steps, so a consumer can look at the event type before
it validates anything it has no use for: ``parse`` (size and JSON),
``event_type_of``, ``envelope`` (the CloudEvent, its type, topic and time)
and ``payload`` (the data against its model).

Times and dates are judged by the receiving service's clock, never the
sender's: an envelope ``time`` more than the allowed skew ahead of it, or a
fact dated after the day it is received, is refused.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from eventkit.clock import local_date
from eventkit.errors import InvalidMessage, OversizedMessage, UnknownEventType, WrongTopic
from schemas.catalogue import EVENT_MODELS, TOPIC_OF_EVENT
from schemas.contract import TOLERANT, Contract
from schemas.dates import LATEST
from schemas.envelope import CloudEvent


@dataclass(frozen=True)
class Incoming:
    """A decoded event: the envelope and its typed payload."""

    event: CloudEvent
    data: Contract


@dataclass(frozen=True)
class Received:
    """When a message arrived, by the service's clock, and how far ahead a sender's clock may be."""

    at: datetime
    max_skew: timedelta

    @property
    def latest(self) -> datetime:
        return self.at + self.max_skew


def parse(body: bytes, *, max_bytes: int) -> Any:
    """The JSON in ``body``; any failure is a PermanentError naming what is wrong."""
    if len(body) > max_bytes:
        raise OversizedMessage(f"message is {len(body)} bytes; the limit is {max_bytes}")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidMessage(f"not JSON: {error}") from None
    except RecursionError:
        raise InvalidMessage("JSON nested too deeply") from None


def event_type_of(raw: Any) -> str | None:
    """The CloudEvent ``type`` of parsed JSON, looked at before anything is validated."""
    kind = raw.get("type") if isinstance(raw, dict) else None
    return kind if isinstance(kind, str) else None


def envelope(topic: str, raw: Any, received: Received | None) -> CloudEvent:
    """The validated envelope of a known type carried on its own topic, sent no later than allowed."""
    try:
        event = CloudEvent.model_validate(raw)
    except ValidationError as error:
        raise InvalidMessage("not a CloudEvents 1.0 envelope") from error
    if event.type not in EVENT_MODELS:
        raise UnknownEventType(f"unknown event type {event.type}")
    if TOPIC_OF_EVENT[event.type].name != topic:
        raise WrongTopic(f"{event.type} is not carried on {topic}")
    if received is not None and event.time > received.latest:
        raise InvalidMessage(
            f"time is {_ahead(event.time - received.at)} ahead of the platform's clock;"
            f" at most {_ahead(received.max_skew)} is allowed"
        )
    return event


def payload(event: CloudEvent, received: Received | None) -> Contract:
    """The event's data as its model; dates of facts may not follow the day it was received."""
    context = TOLERANT if received is None else {**TOLERANT, LATEST: local_date(received.latest)}
    try:
        return EVENT_MODELS[event.type].model_validate(event.data, context=context)
    except ValidationError as error:
        raise InvalidMessage(f"data does not match {event.type}") from error


def decode(topic: str, body: bytes, *, max_bytes: int, received: Received | None = None) -> Incoming:
    """The whole event in ``body``.

    Without ``received`` (an event replayed from the service's own store,
    judged when it first arrived) times and dates are not checked.
    """
    event = envelope(topic, parse(body, max_bytes=max_bytes), received)
    return Incoming(event=event, data=payload(event, received))


def _ahead(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds} s" if seconds < 3600 else f"{seconds // 3600} h"
