"""Two replicas of every service, on PostgreSQL, share the work through their consumer groups, and one
of each is killed mid-stream: nothing is lost, nothing is applied twice, each person's events keep
their order, and each scheduled notice is published once."""

import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import SERVICES, LocalPlatform, free_ports
from deploy.postgres import fresh_database
from eventkit.synthetic import SEXUAL_OFFENCE, Synthetic
from schemas.catalogue import (
    AGENCY_POLICE,
    LEVELS_DECISIONS,
    NOTIFICATIONS_DELIVERIES,
    REGISTRY_OFFENDERS,
    type_of,
)
from schemas.dates import age_on
from schemas.envelope import CloudEvent
from schemas.events.levels import ScreeningDue
from schemas.events.notifications import NotificationQueued
from schemas.events.police import CautionRecorded
from schemas.events.registry import CategoryAssigned, NominalRegistered, NotificationOverdue
from tests.support.kafka import event_of, publish_police, read_all, read_until
from tests.support.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CAUTIONED = 40  # cautioned ten days ago, never notified: the register's job finds each overdue
CONVICTED = 80  # in custody: nothing due yet
TIMEOUT = 240.0


def _police_events(synthetic: Synthetic) -> tuple[list[CloudEvent], set[str]]:
    """Sexual offences (category 1, so MAPPA cases), in a shuffled order; and the cautions' ids."""
    cautioned = []
    for _ in range(CAUTIONED):
        person, on = synthetic.person(age=30), date.today() - timedelta(days=10)
        caution = CautionRecorded(
            person=person,
            offence=synthetic.conviction(SEXUAL_OFFENCE).offence,
            caution_date=on,
            age_at_caution=age_on(person.date_of_birth, on),
            recording_force=f"{synthetic.random.randint(1, 50):02d}",
        )
        cautioned.append(synthetic.agency_event(AGENCY_POLICE, caution))
    convicted = [synthetic.conviction_event(synthetic.conviction(SEXUAL_OFFENCE)) for _ in range(CONVICTED)]
    events = cautioned + convicted
    random.Random(7).shuffle(events)
    return events, {e.id for e in cautioned}


def _of_type(model: type, records: Iterable[ConsumerRecord]) -> list[dict[str, object]]:
    return [e for e in map(event_of, records) if e["type"] == type_of(model)]


def _once_each(events: list[dict[str, object]], by: str) -> dict[object, int]:
    """How many distinct events (by id) there are for each value of ``by`` (an attribute or data field)."""
    ids: dict[object, set[object]] = defaultdict(set)
    for event in events:
        value = event[by] if by in event else event["data"][by]  # type: ignore[index]
        ids[value].add(event["id"])
    return {value: len(found) for value, found in ids.items()}


def _first_offsets(records: list[ConsumerRecord], model: type, key: str) -> dict[str, int]:
    """Where each subject's first event of this type is, by partition offset (one key, one partition)."""
    first: dict[str, int] = {}
    for record in records:
        event = event_of(record)
        if event["type"] == type_of(model):
            first.setdefault(event[key], record.offset)
    return first


async def _count(url: str, table: str, platform_ids: set[str]) -> int:
    """Rows about these people (the broker may hold other tests' events, which the services applied too)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            query = text(f"SELECT count(*) FROM {table} WHERE platform_id = ANY(:ids)")
            return int((await connection.execute(query, {"ids": sorted(platform_ids)})).scalar_one())
    finally:
        await engine.dispose()


async def test_two_replicas_of_each_service_with_one_killed_mid_stream(
    kafka_bootstrap: str, postgres_url: str, tmp_path: Path
) -> None:
    databases = {service: await fresh_database(postgres_url, service) for service in SERVICES}
    names = [name for service in SERVICES for name in (service, f"{service}-2")]
    platform = LocalPlatform(
        data_dir=tmp_path / "var",
        env={
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "MAPPA_RETRY_BACKOFF_SECONDS": "0.05",
            "MAPPA_REGISTRY_SCHEDULE_SECONDS": "1",  # both replicas' schedulers run every second
            **{f"MAPPA_{s.upper()}_DATABASE_URL": url for s, url in databases.items()},
        },
        ports=dict(zip(names, free_ports(len(names)), strict=True)),
    )
    events, cautions = _police_events(Synthetic(seed=13))
    half = len(events) // 2
    try:
        for service in SERVICES:
            platform.start(service)
            platform.start(service, replica=f"{service}-2")
        for name in names:
            platform.wait_healthy(name)
        await publish_police(kafka_bootstrap, events[:half])

        first = {e.id for e in events[:half]}

        async def under_way() -> bool:
            found = await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name)
            return len({event_of(r).get("causationid") for r in found} & first) >= half // 4

        await eventually(under_way, timeout=TIMEOUT, what="the register to be at work on the first half")
        for service in SERVICES:
            platform.kill(service)  # one replica of each, as a crash would: no shutdown
        await publish_police(kafka_bootstrap, events[half:])

        sent = {e.id for e in events}

        def every_one_registered(found: list[ConsumerRecord]) -> bool:
            return {event_of(r).get("causationid") for r in found} >= sent

        registered = await read_until(
            kafka_bootstrap,
            REGISTRY_OFFENDERS.name,
            every_one_registered,
            match=lambda r: event_of(r)["type"] == type_of(NominalRegistered),
            timeout=TIMEOUT,
        )
        ours = {event_of(r)["subject"] for r in registered if event_of(r).get("causationid") in sent}
        overdue_for = {
            event_of(r)["subject"] for r in registered if event_of(r).get("causationid") in cautions
        }

        def each_case_notified(found: list[ConsumerRecord]) -> bool:
            return {event_of(r)["data"]["platform_id"] for r in found} >= ours

        await read_until(
            kafka_bootstrap,
            NOTIFICATIONS_DELIVERIES.name,
            each_case_notified,
            match=lambda r: (
                event_of(r)["type"] == type_of(NotificationQueued)
                and event_of(r)["data"]["kind"] == "screening-due"
            ),
            timeout=TIMEOUT,
        )

        def each_overdue(found: list[ConsumerRecord]) -> bool:
            return {event_of(r)["subject"] for r in found} >= overdue_for

        await read_until(
            kafka_bootstrap,
            REGISTRY_OFFENDERS.name,
            each_overdue,
            match=lambda r: event_of(r)["type"] == type_of(NotificationOverdue),
            timeout=TIMEOUT,
        )
    finally:
        platform.stop_all()

    def mine(records: list[ConsumerRecord]) -> list[ConsumerRecord]:
        return [r for r in records if event_of(r).get("subject") in ours]

    register = mine(await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name))
    levels = mine(await read_all(kafka_bootstrap, LEVELS_DECISIONS.name))
    deliveries = mine(await read_all(kafka_bootstrap, NOTIFICATIONS_DELIVERIES.name))

    # Nothing lost, nothing applied twice: one of each, whichever replica applied it, however often
    # a record was delivered or published again.
    twice = {
        c: n for c, n in _once_each(_of_type(NominalRegistered, register), "causationid").items() if n > 1
    }
    assert not twice, [
        (r.partition, r.offset, event_of(r)) for r in register if event_of(r).get("causationid") in twice
    ]
    assert len(ours) == len(events)
    assert _once_each(_of_type(CategoryAssigned, register), "subject") == dict.fromkeys(ours, 1)
    assert _once_each(_of_type(ScreeningDue, levels), "subject") == dict.fromkeys(ours, 1)
    queued = [e for e in _of_type(NotificationQueued, deliveries) if e["data"]["kind"] == "screening-due"]  # type: ignore[index]
    assert set(_once_each(queued, "notification_id").values()) == {1}
    # Each scheduled notice once, though both replicas' schedulers ran every second.
    assert _once_each(_of_type(NotificationOverdue, register), "subject") == dict.fromkeys(overdue_for, 1)
    assert await _count(databases["registry"], "nominals", ours) == len(events)
    assert await _count(databases["registry"], "breaches", ours) == len(overdue_for)
    assert await _count(databases["levels"], "cases", ours) == len(events)

    # Each person's events in the order they were made: the registration first.
    registered_at = _first_offsets(register, NominalRegistered, "subject")
    for model in (CategoryAssigned, NotificationOverdue):
        later = _first_offsets(register, model, "subject")
        assert all(registered_at[pid] < offset for pid, offset in later.items()), model.__name__
