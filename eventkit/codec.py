"""From Kafka bytes to a validated CloudEvent and its payload model."""

import json
from dataclasses import dataclass

from pydantic import ValidationError

from eventkit.errors import InvalidMessage, OversizedMessage, UnknownEventType, WrongTopic
from schemas.catalogue import EVENT_MODELS, TOPIC_OF_EVENT
from schemas.contract import TOLERANT, Contract
from schemas.envelope import CloudEvent


@dataclass(frozen=True)
class Incoming:
    """A decoded event: the envelope and its typed payload."""

    event: CloudEvent
    data: Contract


def decode(topic: str, body: bytes, *, max_bytes: int) -> Incoming:
    """The event in ``body``; any failure is a PermanentError naming what is wrong."""
    if len(body) > max_bytes:
        raise OversizedMessage(f"message is {len(body)} bytes; the limit is {max_bytes}")
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidMessage(f"not JSON: {error}") from None
    except RecursionError:
        raise InvalidMessage("JSON nested too deeply") from None
    try:
        event = CloudEvent.model_validate(raw)
    except ValidationError as error:
        raise InvalidMessage("not a CloudEvents 1.0 envelope") from error
    model = EVENT_MODELS.get(event.type)
    if model is None:
        raise UnknownEventType(f"unknown event type {event.type}")
    if TOPIC_OF_EVENT[event.type].name != topic:
        raise WrongTopic(f"{event.type} is not carried on {topic}")
    try:
        data = model.model_validate(event.data, context=TOLERANT)
    except ValidationError as error:
        raise InvalidMessage(f"data does not match {event.type}") from error
    return Incoming(event=event, data=data)
