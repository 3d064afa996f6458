"""Databases for store tests: a service's, as its migrations make it, on SQLite and on PostgreSQL;
or the kit's tables alone, for the kit's own code."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from deploy.migrate import schema_of
from deploy.postgres import fresh_database
from eventkit.db import Database, kit_metadata
from eventkit.migrations import upgrade


@asynccontextmanager
async def both_databases(
    request: pytest.FixtureRequest, tmp_path: Path, service: str
) -> AsyncIterator[Database]:
    """For a fixture parametrised ``["sqlite", "postgresql"]``: an empty database of ``service``'s."""
    url = (
        f"sqlite+inloop:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else await fresh_database(request.getfixturevalue("postgres_url"), service)
    )
    database = Database(url)
    await upgrade(database, schema_of(service))
    try:
        yield database
    finally:
        await database.dispose()


async def create_tables(database: Database, *metadatas: MetaData) -> None:
    """The kit's tables and ``metadatas``' as their models say (if not there): for tests of the kit's
    own code. A service's database is made by its migrations."""

    def create(session: Session) -> None:
        for metadata in (kit_metadata, *metadatas):
            metadata.create_all(session.connection())

    async with database.transaction() as session:
        await session.run_sync(create)
    await database.ensure_probe_row()
