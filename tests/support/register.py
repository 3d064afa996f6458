"""Putting synthetic nominals on a registry database, and reading what an event did to them."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import Database
from eventkit.history import history
from services.registry.storage import RegistryStore
from tests.support.waiting import eventually


async def a_nominal(session: AsyncSession, *, pnc: str = "2003/0012345N", area: str | None = "01") -> str:
    """A synthetic nominal known by ``pnc``, managed in ``area``."""
    return await RegistryStore(session).add_nominal(
        family_name="Example",
        given_names=["Synthetic"],
        date_of_birth=date(1980, 1, 1),
        identifiers_={"pnc": pnc},
        area=area,
    )


async def changes_caused_by(db: Database, event_id: str) -> list[str]:
    """The history lines the event caused, once there are any."""

    async def lines() -> list[str]:
        async with db.transaction() as session:
            rows = await session.execute(select(history.c.change).where(history.c.cause_id == event_id))
            return list(rows.scalars())

    return await eventually(lines, what=f"event {event_id} to be applied")
