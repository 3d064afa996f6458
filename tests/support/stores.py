"""A service's tables on SQLite and on PostgreSQL, emptied, for store tests run against both."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table

from eventkit.db import Database


@asynccontextmanager
async def both_databases(
    request: pytest.FixtureRequest, tmp_path: Path, metadata: MetaData, *emptied: Table
) -> AsyncIterator[Database]:
    """For a fixture parametrised ``["sqlite", "postgresql"]``; ``emptied`` in the order to delete them."""
    url = (
        f"sqlite+inloop:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    database = Database(url)
    await database.create_schema(metadata)
    async with database.transaction() as session:
        for table in emptied:
            await session.execute(table.delete())
    try:
        yield database
    finally:
        await database.dispose()
