"""One async SQLAlchemy engine per service: SQLite file by default, PostgreSQL by URL."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, DateTime, Insert, Integer, MetaData, Table, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from eventkit import sqlite

# Kit tables (outbox, inbox) live on this metadata; each service adds its own.
kit_metadata = MetaData()
SCHEMA_LOCK_KEY = 0x4D41505041  # "MAPPA"

# One row, rewritten by each health check: reading alone would not notice a database that refuses writes.
health_probe = Table(
    "kit_health_probe",
    kit_metadata,
    Column("id", Integer, primary_key=True),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)


def insert_if_new(session: AsyncSession, table: Table) -> Insert:
    """An insert that does nothing when the row's key is there already (one statement, not a
    select and an insert); its result's ``rowcount`` says whether it inserted."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite_dialect.insert
    return insert(table).on_conflict_do_nothing()


def _create_all(session: Session, metadata: MetaData) -> None:
    metadata.create_all(session.connection())


class Database:
    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters keeps personal data out of error messages and logs.
        if self.is_sqlite:
            # A local file is never disconnected: no ping before each transaction.
            self.engine: AsyncEngine = create_async_engine(url, hide_parameters=True, **sqlite.ENGINE_OPTIONS)
            sqlite.configure(self.engine.sync_engine)
        else:
            self.engine = create_async_engine(url, hide_parameters=True, pool_pre_ping=True)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def create_schema(self, *metadatas: MetaData) -> None:
        async with self.transaction() as session:
            if not self.is_sqlite:
                # Instances starting together take turns; the lock ends with the transaction.
                await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            for metadata in (kit_metadata, *metadatas):
                await session.run_sync(_create_all, metadata)
            if await session.scalar(select(health_probe.c.id)) is None:
                await session.execute(health_probe.insert(), {"id": 1, "checked_at": datetime.now(UTC)})

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits together, or not at all."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.sessions() as session:
            await session.execute(text("SELECT 1"))

    async def probe_write(self) -> None:
        """Commit a write, as applying an event would; raises if the database cannot take one.

        An update of the one row ``create_schema`` made, so that overlapping probes only take turns.
        """
        async with self.transaction() as session:
            await session.execute(health_probe.update().values(checked_at=datetime.now(UTC)))

    async def dispose(self) -> None:
        await self.engine.dispose()
