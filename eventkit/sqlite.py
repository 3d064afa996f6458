"""SQLite for the asyncio engine, run on the event loop's own thread (``sqlite+inloop://``).

aiosqlite hands every call to a worker thread and waits for it: a cursor,
an execute, a fetch and a close are each a round trip, three or four per
statement, and they cost several times the statement itself. SQLite
statements on a local file in WAL mode take microseconds and never wait for
a network, so this dialect runs the standard library's ``sqlite3`` where the
asyncio engine calls it: there is no thread hop at all.

What that asks of the rest of the service:
- The loop waits while a statement runs; a slow one (a WAL checkpoint, a
  large scan) delays other work in the process by as long.
- A second connection in the same process must never wait for the first's
  write lock (it would block the very loop the first needs to finish), so
  the engine keeps one connection and transactions take turns at the pool.
- Another process holding the write lock (a CLI) blocks the loop for up to
  ``busy_timeout``.
- Statements go through sessions (``Database.transaction``): an
  ``AsyncConnection.execute`` insists that the driver awaited something, and
  this one never does.

Transactions are begun explicitly (``BEGIN``) rather than by ``sqlite3``'s
legacy implicit mode, so savepoints nest as SQLAlchemy expects (the recipe
in SQLAlchemy's SQLite documentation, "Serializable isolation / Savepoints").
"""

import sqlite3
from typing import Any

from sqlalchemy import event, pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncSession

DRIVER = "inloop"


class SQLiteDialect_inloop(SQLiteDialect_pysqlite):
    driver = DRIVER
    is_async = True  # the asyncio engine calls it from its greenlet, on the loop's thread
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_inloop")


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """Called by the asyncio result after a statement; its rows stay here, to be read as needed."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    # sqlite3 would otherwise begin a transaction only before a write, and a
    # SAVEPOINT issued first would commit on its RELEASE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def configure(engine: Engine) -> None:
    """The connection settings and explicit transactions of every SQLite engine of the platform."""
    event.listen(engine, "connect", _autocommit_driver)
    event.listen(engine, "begin", _begin)


# Set on a session once its transaction holds its connection (``Database.transaction``).
CONNECTED = "eventkit.sqlite.connected"


class InLoopSession(AsyncSession):
    """An AsyncSession whose statements run straight on its sync session once it holds a connection.

    The asyncio session hands every statement to a new greenlet, in case the
    driver has something to await: that costs as much as the statement. This
    driver never awaits, so once the connection is checked out (the pool is
    the one part that may wait) statements are run directly. Until then, and
    for anything else, it is an ordinary AsyncSession.
    """

    async def execute(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        if self.sync_session.info.get(CONNECTED):
            if kw:
                return self.sync_session.execute(statement, params, **kw)
            # The platform's statements are Core: the session's ORM layer would only add its cost.
            return self.sync_session.connection().execute(statement, params)
        return await super().execute(statement, params, **kw)

    async def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        if self.sync_session.info.get(CONNECTED):
            if kw:
                return self.sync_session.scalar(statement, params, **kw)
            return self.sync_session.connection().scalar(statement, params)
        return await super().scalar(statement, params, **kw)


ENGINE_OPTIONS: dict[str, Any] = {
    "connect_args": {"factory": _Connection},
    # One connection: a second one in this process must never wait for the first's lock.
    "pool_size": 1,
    "max_overflow": 0,
}
