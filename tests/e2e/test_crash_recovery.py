"""A service killed between its database commit and the publish, or in the middle of a batch, loses no
event and applies none twice."""

from aiokafka import ConsumerRecord

from deploy.local import LocalPlatform
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, LEVELS_DECISIONS, REGISTRY_OFFENDERS, type_of
from schemas.events.levels import ScreeningDue
from schemas.events.registry import CategoryAssigned, NominalRegistered, NotificationRequirementSet
from tests.e2e.helpers import about, query
from tests.support.kafka import event_of, publish, publish_police, read_all, read_until, registered
from tests.support.waiting import eventually


async def test_events_committed_before_a_crash_are_published_after_restart(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    database = platform.data_dir / "registry.db"
    # With its relay held back, the registry commits state and outbox rows but
    # publishes nothing: the window between commit and publish, held open.
    platform.start("registry", MAPPA_REGISTRY_OUTBOX_RELAY="false")
    platform.wait_healthy("registry")
    event = Synthetic().conviction_event()
    pnc = event.data["person"]["pnc_id"]
    await publish(kafka_bootstrap, AGENCY_POLICE.name, event.to_json(), key=pnc)

    async def committed() -> bool:
        claimed = query(database, "select count(*) from kit_inbox where event_id = ?", event.id)
        pending = query(database, "select count(*) from kit_outbox")
        return bool(claimed == [(1,)] and pending[0][0] >= 3)

    await eventually(committed, what="the registry to commit the conviction")
    platform.kill("registry")
    assert await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name, match=registered(event.id)) == []

    platform.start("registry")
    [nominal] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(event.id))
    platform_id = event_of(nominal)["subject"]

    async def drained() -> bool:
        return query(database, "select count(*) from kit_outbox") == [(0,)]

    await eventually(drained, what="the outbox to drain")
    published = await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name, match=about(platform_id))
    assert sorted(event_of(r)["type"] for r in published) == sorted(
        [type_of(NominalRegistered), type_of(NotificationRequirementSet), type_of(CategoryAssigned)]
    )
    assert query(database, "select count(*) from convictions where platform_id = ?", platform_id) == [(1,)]


async def test_a_crash_under_load_loses_nothing_and_applies_nothing_twice(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    database = platform.data_dir / "registry.db"
    platform.start("registry")
    platform.wait_healthy("registry")
    synthetic = Synthetic()
    events = [synthetic.conviction_event() for _ in range(300)]
    pncs = {event.data["person"]["pnc_id"] for event in events}
    await publish_police(kafka_bootstrap, events)

    ids = {event.id for event in events}

    def ours(record: ConsumerRecord) -> bool:
        return event_of(record).get("causationid") in ids

    # Kill it mid-stream, wherever it is: applying, committing or publishing.
    await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, lambda found: len(found) >= 50, match=ours)
    platform.kill("registry")
    interrupted = await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name, match=ours)
    assert len(interrupted) < 2 * len(events)  # the crash came mid-stream
    platform.start("registry")

    def every_person_registered(found: list[ConsumerRecord]) -> bool:
        return {
            event_of(r)["causationid"] for r in found if event_of(r)["type"] == type_of(NominalRegistered)
        } >= ids

    await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, every_person_registered, match=ours, timeout=120
    )
    placeholders = ",".join("?" * len(pncs))
    nominals = query(
        database,
        f"select count(distinct platform_id) from identifiers where value in ({placeholders})",
        *pncs,
    )
    assert nominals == [(300,)]
    # Only this test's events: the shared group may hold another test's leftovers.
    marks = ",".join("?" * len(ids))
    applied = query(database, f"select count(*) from convictions where source_event_id in ({marks})", *ids)
    assert applied == [(300,)]


async def test_levels_killed_mid_batch_under_load_applies_every_event_exactly_once(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    platform.start("registry")
    platform.start("levels")
    platform.wait_healthy("registry")
    platform.wait_healthy("levels")
    synthetic = Synthetic()
    convictions = [synthetic.conviction_event() for _ in range(400)]
    await publish_police(kafka_bootstrap, convictions)
    ids = {e.id for e in convictions}

    def categorised(record: ConsumerRecord) -> bool:
        event = event_of(record)
        return event.get("causationid") in ids and event["type"] == type_of(CategoryAssigned)

    def screenings(found: list[ConsumerRecord]) -> set[str]:
        return {event_of(r)["causationid"] for r in found}

    def due(record: ConsumerRecord) -> bool:
        return bool(event_of(record)["type"] == type_of(ScreeningDue))

    # Killed while batches are being applied: some screenings are out, most are not yet.
    await read_until(kafka_bootstrap, LEVELS_DECISIONS.name, lambda found: len(found) >= 60, match=due)
    platform.kill("levels")
    platform.start("levels")
    categories = await read_until(
        kafka_bootstrap,
        REGISTRY_OFFENDERS.name,
        lambda found: len(found) >= 400,
        match=categorised,
        timeout=120,
    )
    causes = {event_of(r)["id"] for r in categories}
    assert len(causes) == 400  # the registry was not killed: one category event per conviction
    decided = await read_until(
        kafka_bootstrap,
        LEVELS_DECISIONS.name,
        lambda found: screenings(found) >= causes,
        match=lambda r: due(r) and event_of(r).get("causationid") in causes,
        timeout=120,
    )
    # A republished event keeps its id; a second effect of one cause would have a new one.
    effects: dict[str, set[str]] = {}
    for record in decided:
        effects.setdefault(event_of(record)["causationid"], set()).add(event_of(record)["id"])
    assert {cause: len(made) for cause, made in effects.items()} == dict.fromkeys(causes, 1)
    database = platform.data_dir / "levels.db"
    marks = ",".join("?" * len(causes))
    claimed = query(database, f"select count(*) from kit_inbox where event_id in ({marks})", *causes)
    assert claimed == [(400,)]
    platform_ids = {event_of(r)["subject"] for r in categories}
    marks = ",".join("?" * len(platform_ids))
    cases = query(database, f"select count(*) from cases where platform_id in ({marks})", *platform_ids)
    assert cases == [(400,)]
