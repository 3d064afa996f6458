"""Merges carry the notification requirement across and back (a real SQLite database)."""

from datetime import date
from pathlib import Path

from eventkit.db import Database
from services.registry.notification_rules import NotificationPeriod, Requirement
from services.registry.storage import RegistryStore
from services.registry.tables import metadata


async def test_a_merge_moves_the_requirement_to_a_survivor_without_one_and_an_unmerge_moves_it_back(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    await db.create_schema(metadata)
    requirement = Requirement(date(2026, 1, 10), NotificationPeriod(120, "s.82"), False)
    async with db.transaction() as session:
        store = RegistryStore(session)
        survivor, absorbed = [
            await store.add_nominal(
                family_name="Example",
                given_names=["Synthetic"],
                date_of_birth=date(1980, 1, 1),
                identifiers_={"pnc": pnc},
                area="01",
            )
            for pnc in ("2003/0012345N", "2010/0000001B")
        ]
        await store.set_requirement(absorbed, requirement, afresh=False)
        merge_id, _ = await store.merge(survivor, absorbed, decided_by="u-1")
        assert await store.requirement(survivor) == requirement
        assert await store.requirement(absorbed) is None
        assert [pid for pid, _ in await store.notification_states()] == [survivor]
        await store.unmerge(merge_id)
        assert await store.requirement(absorbed) == requirement
        assert await store.requirement(survivor) is None
    await db.dispose()
