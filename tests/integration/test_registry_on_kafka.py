"""The registry against the real broker: redelivery, dead letters, keys and spans."""

import json
from collections.abc import Callable

from aiokafka import ConsumerRecord
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select, text

from eventkit import outbox
from eventkit.broker import group_of
from eventkit.deadletter import (
    ERROR_CLASS,
    ERROR_MESSAGE,
    ORIGINAL_OFFSET,
    ORIGINAL_PARTITION,
    ORIGINAL_TOPIC,
)
from eventkit.service import Service
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, REGISTRY_OFFENDERS, type_of
from schemas.events.registry import CategoryAssigned, NominalRegistered, NotificationRequirementSet
from services.registry.tables import convictions
from tests.support.kafka import (
    committed_offset,
    event_of,
    headers_of,
    publish,
    read_all,
    read_until,
    registered,
)
from tests.support.waiting import eventually

POLICE = AGENCY_POLICE.name


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
    [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(event.id))
    platform_id = event_of(record)["subject"]
    published = await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name, match=_about(platform_id))
    assert sorted(event_of(r)["type"] for r in published) == sorted(
        [type_of(NominalRegistered), type_of(NotificationRequirementSet), type_of(CategoryAssigned)]
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
    baggage = {"baggage": f"pnc={pnc}"}
    await publish(kafka_bootstrap, POLICE, b"this is not json", key=pnc, headers=baggage)
    await publish(kafka_bootstrap, POLICE, json.dumps(invalid).encode(), key=pnc, headers=baggage)
    await publish(kafka_bootstrap, POLICE, b"[" * 50_000, key=pnc)
    # Headers FastStream cannot decode must not make the good event disappear.
    odd_headers: list[tuple[str, bytes | None]] = [("x-agency-ref", b"\xff\xfe"), ("x-empty", None)]
    await publish(kafka_bootstrap, POLICE, good.to_json(), key=pnc, raw_headers=odd_headers)

    await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(good.id))
    letters = await read_until(
        kafka_bootstrap,
        AGENCY_POLICE.dead_letter,
        lambda found: len(found) >= 3,
        match=lambda r: r.key == pnc.encode(),
    )
    assert len(letters) == 3
    not_json, invalid_data, too_deep = sorted(letters, key=lambda r: int(headers_of(r)[ORIGINAL_OFFSET]))
    assert not_json.value == b"this is not json"
    for letter in letters:
        headers = headers_of(letter)
        assert headers[ORIGINAL_TOPIC] == POLICE
        assert headers[ORIGINAL_PARTITION].isdigit()
        assert headers[ERROR_CLASS] == "InvalidMessage"
        assert "baggage" not in headers
    assert headers_of(not_json)[ERROR_MESSAGE].startswith("not JSON")
    reason = headers_of(invalid_data)[ERROR_MESSAGE]
    assert "data does not match uk.mappa.police.conviction-recorded.v1" in reason
    assert "offence: Field required" in reason
    assert headers_of(too_deep)[ERROR_MESSAGE] == "JSON nested too deeply"


async def test_offsets_wait_for_the_transaction_and_the_event_waits_for_the_database(
    kafka_bootstrap: str, registry: Service
) -> None:
    async with registry.db.transaction() as session:
        await session.execute(text("DROP TABLE convictions"))  # the database "fails"
    event = Synthetic().conviction_event()
    pnc = event.data["person"]["pnc_id"]
    landed = await publish(kafka_bootstrap, POLICE, event.to_json(), key=pnc)

    def redelivered() -> float:
        return registry.registry.get_sample_value("mappa_events_redelivered_total", {"topic": POLICE}) or 0.0

    async def retried_twice() -> bool:
        return redelivered() >= 2

    await eventually(retried_twice, what="the event to be delivered again")
    committed = await committed_offset(kafka_bootstrap, group_of("registry"), POLICE, landed.partition)
    assert committed is None or committed <= landed.offset
    assert _consumed(registry, "dead-lettered") == 0

    async with registry.db.transaction() as session:  # the database recovers
        await session.run_sync(lambda s: convictions.create(s.connection()))
    await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(event.id))

    async def committed_past_it() -> bool:
        offset = await committed_offset(kafka_bootstrap, group_of("registry"), POLICE, landed.partition)
        return offset is not None and offset > landed.offset

    await eventually(committed_past_it, what="the offset to be committed after the event applied")


async def test_spans_carry_no_personal_data(
    kafka_bootstrap: str, registry: Service, spans: InMemorySpanExporter
) -> None:
    conviction = Synthetic().conviction()
    event = Synthetic().conviction_event(conviction)
    person = conviction.person
    await publish(
        kafka_bootstrap,
        POLICE,
        event.to_json(),
        key=person.pnc_id,
        headers={"correlation_id": person.pnc_id, "baggage": f"surname={person.family_name}"},
    )
    [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(event.id))
    assert "baggage" not in headers_of(record)
    await eventually(lambda: _outbox_empty(registry), what="the outbox to drain")
    recorded = spans.get_finished_spans()
    assert any(s.kind.name == "CONSUMER" for s in recorded)
    assert any(s.kind.name == "PRODUCER" for s in recorded)
    personal = {person.pnc_id, person.family_name, *person.given_names, person.date_of_birth.isoformat()}
    for span in recorded:
        recorded_text = " ".join(
            [span.name]
            + [str(v) for v in (span.attributes or {}).values()]
            + [f"{e.name} {dict(e.attributes or {})}" for e in span.events]
            + [str(dict(link.attributes or {})) for link in span.links]
        )
        assert not [p for p in personal if p in recorded_text], span.name
