"""Each service's schema, by Alembic migrations: the kit's tables and its own, in its own database.

Two branches make a service's database: the kit's revisions (``eventkit/migrations/versions``,
branch ``kit``: the outbox, inbox, history, read audit, invitations and schedule marks every
service has) and the service's own (``services/<service>/migrations``, a branch named after it;
no service table refers to a kit table, so the two are independent). A change to a kit table is
one revision for every service. ``upgrade`` brings a database to the code's heads (``make migrate``,
``python -m deploy.migrate``); a service checks at start that its database is there, and refuses
to start on an older (or newer) schema.
"""

import os
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
KIT_VERSIONS = Path(__file__).parent / "versions"
KIT = "kit"


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
        config.set_main_option("version_locations", os.pathsep.join(map(str, (KIT_VERSIONS, self.versions))))
        config.set_main_option("path_separator", "os")
        config.attributes["metadata"] = [kit_metadata, self.metadata]
        config.attributes["connection"] = connection
        return config

    @property
    def heads(self) -> frozenset[str]:
        """The revisions its code expects the database at: the kit's head and its own."""
        return frozenset(ScriptDirectory.from_config(self.config()).get_heads())

    def known(self) -> frozenset[str]:
        return frozenset(s.revision for s in ScriptDirectory.from_config(self.config()).walk_revisions())


def _current(session: Session) -> frozenset[str]:
    return frozenset(MigrationContext.configure(session.connection()).get_current_heads())


async def current(db: Database) -> frozenset[str]:
    """The revisions the database is at (none: no schema yet)."""
    async with db.transaction() as session:
        return await session.run_sync(_current)


async def upgrade(db: Database, schema: Schema) -> tuple[frozenset[str], frozenset[str]]:
    """Brings the database to the code's heads, in one transaction; (from, to) revisions.

    Replicas starting together take turns on PostgreSQL (an advisory lock held by the transaction),
    so each revision runs once.
    """

    def run(session: Session) -> tuple[frozenset[str], frozenset[str]]:
        before = _current(session)
        if not before and (tables := inspect(session.connection()).get_table_names()):
            raise SchemaNotCurrent(
                f"{schema.service}'s database has {len(tables)} tables but no migration revision: it was "
                "made before migrations (by create_all); rebuild it from the log or start it afresh"
            )
        command.upgrade(schema.config(session.connection()), "heads")
        return before, _current(session)

    async with db.transaction() as session:
        await hold(session, "schema")
        return await session.run_sync(run)


def shown(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "none"


async def check(db: Database, schema: Schema) -> None:
    """Raises ``SchemaNotCurrent``, saying what to do, unless the database is at the code's heads."""
    at, heads = await current(db), schema.heads
    if at == heads:
        return
    apply = f"(make migrate, or python -m deploy.migrate {schema.service})"
    if not at:
        raise SchemaNotCurrent(
            f"{schema.service}'s database has no schema yet: apply its migrations first {apply}"
        )
    if unknown := at - schema.known():
        raise SchemaNotCurrent(
            f"{schema.service}'s database is at revision {shown(unknown)}, which this code does not know: "
            "it was migrated by a newer version; run that version, or one at least as new"
        )
    raise SchemaNotCurrent(
        f"{schema.service}'s database is at revision {shown(at)}, older than its code's {shown(heads)}: "
        f"apply the migrations first {apply}"
    )
