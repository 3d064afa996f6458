"""One async SQLAlchemy engine per service: SQLite file by default, PostgreSQL by URL."""

import functools
import hashlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Executable,
    Insert,
    Integer,
    MetaData,
    Table,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.event import listens_for
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from eventkit import sqlite

# Kit tables (outbox, inbox) live on this metadata; each service adds its own.
kit_metadata = MetaData()

# One row, rewritten by each health check: reading alone would not notice a database that refuses writes.
health_probe = Table(
    "kit_health_probe",
    kit_metadata,
    Column("id", Integer, primary_key=True),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)


def utc(value: datetime) -> datetime:
    """A stored time as the instant it is: SQLite hands back naive datetimes, and every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Rows staged in a transaction, by table, until it commits; then the tables they went to.
_STAGED = "eventkit.db.staged"
_WRITTEN = "eventkit.db.written"
# Statements to run once as the transaction commits, with their parameters.
_AT_COMMIT = "eventkit.db.at_commit"


def stage(session: AsyncSession, table: Table, row: dict[str, Any]) -> None:
    """Insert ``row`` into ``table`` as the session's transaction commits.

    Rows nothing reads back in the same transaction (outbox, history) are
    staged: each table's rows go in one statement just before the commit,
    however many events the transaction applied.
    """
    session.sync_session.info.setdefault(_STAGED, {}).setdefault(table, []).append(row)


async def write_staged(session: AsyncSession) -> None:
    """Insert the staged rows now, for a read of them in the same transaction."""
    await session.run_sync(_write_staged)


@listens_for(Session, "before_commit")
def _write_staged(session: Session) -> None:
    staged: dict[Table, list[dict[str, Any]]] = session.info.pop(_STAGED, {})
    for table, rows in staged.items():
        session.execute(table.insert(), rows)
    session.info.setdefault(_WRITTEN, set()).update(staged)


def once_at_commit(session: AsyncSession, statement: Executable, params: dict[str, Any]) -> None:
    """Run ``statement`` just before the transaction commits, once however often it is asked for:
    a lock it takes (a counter's row) is then held for the commit alone, not the whole batch."""
    session.sync_session.info.setdefault(_AT_COMMIT, {})[statement] = params


@listens_for(Session, "before_commit")
def _run_at_commit(session: Session) -> None:
    for statement, params in session.info.pop(_AT_COMMIT, {}).items():
        session.execute(statement, params)


@listens_for(Session, "after_begin")
def _new_transaction(session: Session, *_: Any) -> None:
    session.info.pop(_WRITTEN, None)


# Set by ``Database.on_commit_of``: (table, callback) pairs, for after_commit.
_ON_COMMIT = "eventkit.db.on_commit"


@listens_for(Session, "after_commit")
def _wake(session: Session) -> None:
    for table, wake in session.info.get(_ON_COMMIT, ()):
        if written(session, table):
            wake()


def written(session: Session, table: Table) -> bool:
    """Whether the transaction that just committed wrote staged rows to ``table`` (for after_commit)."""
    return table in session.info.get(_WRITTEN, ())


@listens_for(Session, "after_rollback")
def _drop_staged(session: Session) -> None:
    session.info.pop(_STAGED, None)
    session.info.pop(_WRITTEN, None)
    session.info.pop(_AT_COMMIT, None)


def lock_key(name: str) -> int:
    """A PostgreSQL advisory-lock key for ``name``, the same in every replica (62 bits: room above)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 2


# unnest hands the keys out in the array's order, and each is taken before the next is asked for.
_HOLD = text("SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) AS key")


async def hold(session: AsyncSession, *names: str) -> None:
    """Wait for the locks ``names``, one after another in the order given (one statement), and hold
    them to the end of the transaction, so replicas take turns; callers name them in one order, so
    no two transactions wait on each other. On SQLite there is nothing to do: one process owns the
    file, and its writes take turns already."""
    if names and session.get_bind().dialect.name == "postgresql":
        await session.execute(_HOLD, {"keys": [lock_key(name) for name in names]})


async def try_hold(session: AsyncSession, name: str) -> bool:
    """Take the lock ``name`` to the end of the transaction if no other replica holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(name)}))


def insert_if_new(session: AsyncSession, table: Table) -> Insert:
    """An insert that does nothing when the row's key is there already (one statement, not a
    select and an insert); its result's ``rowcount`` says whether it inserted."""
    return _insert_if_new(session.get_bind().dialect.name, table)


def count_up(session: AsyncSession, table: Table, column: str) -> Insert:
    """An insert of the row (with ``column`` as given, say 1) that, when its key is there already,
    adds one to ``column`` instead: a counter in one statement."""
    return _count_up(session.get_bind().dialect.name, table, column)


# Given the row offered (``excluded``), whether it may replace the one there.
Replaces = Callable[[Any], ColumnElement[bool]]


def upsert(
    session: AsyncSession,
    table: Table,
    updated: Iterable[str],
    replaces: Replaces | None = None,
    *,
    returning: Iterable[str] = (),
) -> Insert:
    """An insert that, when the row's primary key is there already, sets the ``updated`` columns
    instead: always, or when ``replaces`` holds. Its result's ``rowcount`` is 0 if it did neither;
    with ``returning``, its result has those columns of the row as it now stands."""
    return _upsert(session.get_bind().dialect.name, table, tuple(updated), replaces, tuple(returning))


# Built once per table: building a statement costs more than running it (SQLAlchemy makes the
# clause, then a cache key to find its compiled form), and these run for every event.
@functools.cache
def _insert_if_new(dialect: str, table: Table) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite_dialect.insert
    return insert(table).on_conflict_do_nothing()


@functools.cache
def _count_up(dialect: str, table: Table, column: str) -> Insert:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite_dialect.insert)(table)
    return insert.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key], set_={column: table.c[column] + 1}
    )


@functools.cache
def _upsert(
    dialect: str,
    table: Table,
    updated: tuple[str, ...],
    replaces: Replaces | None,
    returning: tuple[str, ...],
) -> Insert:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite_dialect.insert)(table)
    statement = insert.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key],
        set_={name: insert.excluded[name] for name in updated},
        where=replaces(insert.excluded) if replaces is not None else None,
    )
    return statement.returning(*(table.c[name] for name in returning)) if returning else statement


def _drop_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server closed (a restart, a failover) is replaced as it is checked out.

    asyncpg marks a connection closed as soon as its socket is, so this costs no round trip, where
    ``pool_pre_ping`` costs three per transaction (begin, select, rollback): on the hot path of every
    event batch. A connection lost silently fails its transaction, which the consumer retries, and
    the pool then replaces it.
    """

    @listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, *_: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the database server closed this pooled connection")


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
            self.engine = create_async_engine(url, hide_parameters=True)
            _drop_closed_connections(self.engine)
        session_class = sqlite.InLoopSession if self.is_sqlite else AsyncSession
        self._on_commit: list[tuple[Table, Callable[[], None]]] = []
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, class_=session_class, info={_ON_COMMIT: self._on_commit}
        )

    def on_commit_of(self, table: Table, wake: Callable[[], None]) -> None:
        """Have ``wake`` called after each transaction that staged rows into ``table`` commits."""
        self._on_commit.append((table, wake))

    async def ensure_probe_row(self) -> None:
        """The one row health checks rewrite, made by the first start."""
        async with self.transaction() as session:
            await session.execute(
                insert_if_new(session, health_probe), {"id": 1, "checked_at": datetime.now(UTC)}
            )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits together, or not at all."""
        async with self.sessions() as session, session.begin():
            if self.is_sqlite:
                await session.connection()  # checked out (and begun) here, so statements need no greenlet
                session.sync_session.info[sqlite.CONNECTED] = True
            yield session

    async def ping(self) -> None:
        async with self.sessions() as session:
            await session.execute(text("SELECT 1"))

    async def probe_write(self) -> None:
        """Commit a write, as applying an event would; raises if the database cannot take one.

        An update of the one row ``ensure_probe_row`` made, so that overlapping probes only take turns.
        """
        async with self.transaction() as session:
            await session.execute(health_probe.update().values(checked_at=datetime.now(UTC)))

    async def dispose(self) -> None:
        await self.engine.dispose()
