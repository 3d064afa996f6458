from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from eventkit.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite file with the kit's tables (outbox, inbox)."""
    database = Database(f"sqlite+inloop:///{tmp_path / 'kit.db'}")
    await database.create_schema()
    yield database
    await database.dispose()
