"""The registry against the real broker: redelivery, dead letters, keys and spans."""

import json
from collections.abc import Callable

from aiokafka import ConsumerRecord
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select

from eventkit import outbox
from eventkit.deadletter import (
    ERROR_CLASS,
    ERROR_MESSAGE,
    ORIGINAL_OFFSET,
    ORIGINAL_PARTITION,
    ORIGINAL_TOPIC,
)
from eventkit.service import Service
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, REGISTRY_OFFENDERS
from schemas.events.registry import CategoryAssigned, NominalRegistered
from services.registry.storage import convictions
from tests.support.kafka import event_of, headers_of, publish, read_all, read_until
from tests.support.waiting import eventually

POLICE = AGENCY_POLICE.name


def _registered(pnc: str) -> Callable[[ConsumerRecord], bool]:
    def match(record: ConsumerRecord) -> bool:
        event = event_of(record)
        return (
            event["type"] == NominalRegistered.EVENT_TYPE
            and {"scheme": "pnc", "value": pnc} in event["data"]["identifiers"]
        )

    return match


def _about(platform_id: str) -> Callable[[ConsumerRecord], bool]:
    return lambda record: event_of(record).get("subject") == platform_id


async def _outbox_empty(service: Service) -> bool:
    async with service.db.transaction() as session:
        return await outbox.count(session) == 0


def _consumed(service: Service, outcome: str) -> float:
    value = service.registry.get_sample_value(
        "mappa_events_consumed_total", {"topic": POLICE, "outcome": outcome}
    )
    return value or 0.0


async def test_a_redelivered_event_is_applied_once(kafka_bootstrap: str, registry: Service) -> None:
    event = Synthetic().conviction_event()
    pnc = event.data["person"]["pnc_id"]
    body = event.to_json()
    before = _consumed(registry, "duplicate")
    await publish(kafka_bootstrap, POLICE, body, key=pnc)
    await publish(kafka_bootstrap, POLICE, body, key=pnc)

    async def duplicate_seen() -> bool:
        return _consumed(registry, "duplicate") > before and await _outbox_empty(registry)

    await eventually(duplicate_seen, what="the redelivery to be processed")
    [registered] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=_registered(pnc))
    platform_id = event_of(registered)["subject"]
    published = await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name, match=_about(platform_id))
    assert sorted(event_of(r)["type"] for r in published) == sorted(
        [NominalRegistered.EVENT_TYPE, CategoryAssigned.EVENT_TYPE]
    )
    assert {r.key for r in published} == {platform_id.encode()}
    async with registry.db.transaction() as session:
        count = await session.scalar(
            select(func.count()).select_from(convictions).where(convictions.c.platform_id == platform_id)
        )
    assert count == 1


async def test_bad_messages_go_to_the_dead_letter_topic_and_the_partition_moves_on(
    kafka_bootstrap: str, registry: Service
) -> None:
    synthetic = Synthetic()
    good = synthetic.conviction_event()
    pnc = good.data["person"]["pnc_id"]
    invalid = json.loads(good.to_json())
    invalid["id"] = "invalid-" + good.id
    del invalid["data"]["offence"]
    await publish(kafka_bootstrap, POLICE, b"this is not json", key=pnc)
    await publish(kafka_bootstrap, POLICE, json.dumps(invalid).encode(), key=pnc)
    await publish(kafka_bootstrap, POLICE, good.to_json(), key=pnc)

    await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=_registered(pnc))
    letters = await read_until(
        kafka_bootstrap,
        AGENCY_POLICE.dead_letter,
        lambda found: len(found) >= 2,
        match=lambda r: r.key == pnc.encode(),
    )
    assert len(letters) == 2
    first, second = sorted(letters, key=lambda r: int(headers_of(r)[ORIGINAL_OFFSET]))
    assert first.value == b"this is not json"
    for letter in (first, second):
        headers = headers_of(letter)
        assert headers[ORIGINAL_TOPIC] == POLICE
        assert headers[ORIGINAL_PARTITION].isdigit()
        assert headers[ERROR_CLASS] == "InvalidMessage"
    assert headers_of(first)[ERROR_MESSAGE].startswith("not JSON")
    reason = headers_of(second)[ERROR_MESSAGE]
    assert "data does not match uk.mappa.police.conviction-recorded.v1" in reason
    assert "offence: Field required" in reason


async def test_spans_carry_no_personal_data(
    kafka_bootstrap: str, registry: Service, spans: InMemorySpanExporter
) -> None:
    conviction = Synthetic().conviction()
    event = Synthetic().conviction_event(conviction)
    person = conviction.person
    await publish(kafka_bootstrap, POLICE, event.to_json(), key=person.pnc_id)
    await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=_registered(person.pnc_id))
    await eventually(lambda: _outbox_empty(registry), what="the outbox to drain")
    recorded = spans.get_finished_spans()
    assert any(s.kind.name == "CONSUMER" for s in recorded)
    assert any(s.kind.name == "PRODUCER" for s in recorded)
    personal = {person.pnc_id, person.family_name, *person.given_names, person.date_of_birth.isoformat()}
    for span in recorded:
        values = " ".join(str(v) for v in (span.attributes or {}).values()) + span.name
        assert not [p for p in personal if p in values], span.name
