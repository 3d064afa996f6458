from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from eventkit.db import Database
from tests.support.stores import create_tables


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite file with the kit's tables (outbox, inbox)."""
    database = Database(f"sqlite+inloop:///{tmp_path / 'kit.db'}")
    await create_tables(database)
    yield database
    await database.dispose()
