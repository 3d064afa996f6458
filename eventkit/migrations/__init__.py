"""Each service's schema, by Alembic migrations: the kit's tables and its own, in its own database.

A service's revisions are in ``services/<service>/migrations/``; this package holds the one
environment they all run in. ``upgrade`` brings a database to the code's head (``make migrate``,
``python -m deploy.migrate``); a service checks at start that its database is there, and refuses
to start on an older (or newer) schema.
"""

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect
from sqlalchemy.orm import Session

# Every kit table is defined on kit_metadata by the module that uses it: each service has them all.
from eventkit import audit, history, inbox, invitations, outbox, scheduler  # noqa: F401
from eventkit.db import Database, hold, kit_metadata

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


class SchemaNotCurrent(RuntimeError):
    """The database's schema is not the one the service's code was written for."""


@dataclass(frozen=True)
class Schema:
    """A service's tables (with the kit's), and the revisions that make them."""

    service: str
    metadata: MetaData
    directory: Path | None = None  # services/<service>/migrations

    @property
    def versions(self) -> Path:
        return self.directory or SERVICES_DIR / self.service / "migrations"

    def config(self, connection: Connection | None = None) -> Config:
        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent))
        config.set_main_option("version_locations", str(self.versions))
        config.set_main_option("path_separator", "os")
        config.attributes["metadata"] = [kit_metadata, self.metadata]
        config.attributes["connection"] = connection
        return config

    @property
    def head(self) -> str | None:
        return ScriptDirectory.from_config(self.config()).get_current_head()


def _current(session: Session) -> str | None:
    return MigrationContext.configure(session.connection()).get_current_revision()


async def current(db: Database) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    async with db.transaction() as session:
        return await session.run_sync(_current)


async def upgrade(db: Database, schema: Schema) -> tuple[str | None, str | None]:
    """Brings the database to the code's head, in one transaction; (from, to) revisions.

    Replicas starting together take turns on PostgreSQL (an advisory lock held by the transaction),
    so each revision runs once.
    """

    def run(session: Session) -> tuple[str | None, str | None]:
        before = _current(session)
        if before is None and (tables := inspect(session.connection()).get_table_names()):
            raise SchemaNotCurrent(
                f"{schema.service}'s database has {len(tables)} tables but no migration revision: it was "
                "made before migrations (by create_all); rebuild it from the log or start it afresh"
            )
        command.upgrade(schema.config(session.connection()), "head")
        return before, _current(session)

    async with db.transaction() as session:
        await hold(session, "schema")
        return await session.run_sync(run)


async def check(db: Database, schema: Schema) -> None:
    """Raises ``SchemaNotCurrent``, saying what to do, unless the database is at the code's head."""
    at, head = await current(db), schema.head
    if at == head:
        return
    if at is None:
        raise SchemaNotCurrent(
            f"{schema.service}'s database has no schema yet: apply its migrations first "
            f"(make migrate, or python -m deploy.migrate {schema.service})"
        )
    known = {s.revision for s in ScriptDirectory.from_config(schema.config()).walk_revisions()}
    if at not in known:
        raise SchemaNotCurrent(
            f"{schema.service}'s database is at revision {at}, which this code does not know: "
            "it was migrated by a newer version; run that version, or one at least as new"
        )
    raise SchemaNotCurrent(
        f"{schema.service}'s database is at revision {at}, older than its code's {head}: apply the "
        f"migrations first (make migrate, or python -m deploy.migrate {schema.service})"
    )
