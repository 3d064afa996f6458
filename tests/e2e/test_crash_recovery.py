"""A service killed between its database commit and the publish loses no event."""

from deploy.local import LocalPlatform
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, REGISTRY_OFFENDERS
from schemas.events.registry import CategoryAssigned, NominalRegistered
from tests.e2e.helpers import about, query, registered
from tests.support.kafka import event_of, publish, read_all, read_until
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
        return bool(claimed == [(1,)] and pending[0][0] >= 2)

    await eventually(committed, what="the registry to commit the conviction")
    platform.kill("registry")
    assert await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name, match=registered(pnc)) == []

    platform.start("registry")
    [nominal] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(pnc))
    platform_id = event_of(nominal)["subject"]

    async def drained() -> bool:
        return query(database, "select count(*) from kit_outbox") == [(0,)]

    await eventually(drained, what="the outbox to drain")
    published = await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name, match=about(platform_id))
    assert sorted(event_of(r)["type"] for r in published) == sorted(
        [NominalRegistered.EVENT_TYPE, CategoryAssigned.EVENT_TYPE]
    )
    assert query(database, "select count(*) from convictions where platform_id = ?", platform_id) == [(1,)]
