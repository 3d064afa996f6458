"""Delivering platform events to a service's consumer in this process, as records from its topics."""

import itertools

from aiokafka import ConsumerRecord

from eventkit.consumer import Outcome
from eventkit.service import Service
from schemas.catalogue import TOPIC_OF_EVENT
from schemas.contract import Contract
from schemas.envelope import CloudEvent, new_event

_offsets = itertools.count()


def event_of(data: Contract, *, key: str) -> CloudEvent:
    """``data`` as its producer publishes it: the type and source of the topic that carries it."""
    topic = next(t for t in TOPIC_OF_EVENT.values() if type(data) in t.events)
    return new_event(topic.type_of(type(data)), data, source=f"/mappa/{topic.producer}", subject=key)


def record_of(event: CloudEvent) -> ConsumerRecord:
    value = event.to_json()
    return ConsumerRecord(
        topic=TOPIC_OF_EVENT[event.type].name, partition=0, offset=next(_offsets), timestamp=0,
        timestamp_type=0, key=(event.subject or "").encode(), value=value, checksum=None,
        serialized_key_size=len(event.subject or ""), serialized_value_size=len(value), headers=[],
    )  # fmt: skip


async def deliver(service: Service, *events: CloudEvent) -> list[Outcome | None]:
    """Apply the events as one batch, as the service's subscription would hand them over."""
    result = await service.consumer.process_batch([record_of(e) for e in events])
    return result.outcomes
