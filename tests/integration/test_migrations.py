"""Each service's migrations make, from an empty database, exactly the tables its code defines; a
service refuses to start on any other schema."""

import asyncio
import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, text
from sqlalchemy.orm import Session

from deploy.local import SERVICES
from deploy.migrate import main as migrate_main
from deploy.migrate import schema_of
from deploy.postgres import fresh_database
from eventkit.db import Database, kit_metadata
from eventkit.migrations import Schema, SchemaNotCurrent, check, current, upgrade
from eventkit.settings import Settings
from services.registry.app import create as create_registry


async def _database(request: pytest.FixtureRequest, tmp_path: Path, kind: str, service: str) -> Database:
    if kind == "sqlite":
        return Database(f"sqlite+inloop:///{tmp_path / f'{service}.db'}")
    return Database(await fresh_database(request.getfixturevalue("postgres_url"), service))


def _copy(*metadatas: MetaData) -> MetaData:
    copied = MetaData()
    for metadata in metadatas:
        for table in metadata.tables.values():
            table.to_metadata(copied)
    return copied


def _differences(session: Session, schema: Schema) -> list[object]:
    context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
    return list(compare_metadata(context, _copy(kit_metadata, schema.metadata)))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@pytest.mark.parametrize("service", SERVICES)
async def test_from_empty_to_head_the_tables_are_the_models(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str, service: str
) -> None:
    db = await _database(request, tmp_path, kind, service)
    schema = schema_of(service)
    try:
        assert await current(db) == frozenset()
        before, after = await upgrade(db, schema)
        assert (before, after) == (frozenset(), schema.heads)
        assert schema.heads == {"kit_0001", f"{service}_0001"}  # the kit's branch and the service's
        await check(db, schema)
        async with db.transaction() as session:
            assert await session.run_sync(_differences, schema) == []
        assert await upgrade(db, schema) == (schema.heads, schema.heads)  # a second run changes nothing
    finally:
        await db.dispose()


async def test_a_service_refuses_to_start_on_a_database_without_its_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAPPA_REGISTRY_DATABASE_URL", f"sqlite+inloop:///{tmp_path / 'registry.db'}")
    monkeypatch.setenv("MAPPA_REGISTRY_MIGRATE_AT_START", "false")
    service = create_registry(settings=Settings("registry"))
    with pytest.raises(SchemaNotCurrent, match=r"no schema yet: apply its migrations first \(make migrate"):
        await service.start()
    await service.db.dispose()
    # ``make migrate`` (deploy.migrate) brings it to head; then it starts, as far as its schema goes.
    assert await asyncio.to_thread(migrate_main, ["registry"]) == 0
    assert await asyncio.to_thread(migrate_main, ["--check", "registry"]) == 0
    db = Database(Settings("registry").database_url)
    try:
        await check(db, schema_of("registry"))
    finally:
        await db.dispose()


async def test_a_database_behind_the_code_or_ahead_of_it_is_refused(tmp_path: Path) -> None:
    registry = schema_of("registry")
    # The code gains a revision after the database was migrated.
    newer = tmp_path / "versions"
    shutil.copytree(registry.versions, newer, ignore=shutil.ignore_patterns("__pycache__"))
    (newer / "registry_0002_a_column.py").write_text(
        '"""a column"""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        'revision = "registry_0002"\ndown_revision = "registry_0001"\nbranch_labels = None\n'
        "depends_on = None\n\n\n"
        "def upgrade() -> None:\n"
        '    op.add_column("nominals", sa.Column("added", sa.Integer()))\n\n\n'
        "def downgrade() -> None:\n"
        '    op.drop_column("nominals", "added")\n'
    )
    grown = _copy(registry.metadata)
    grown.tables["nominals"].append_column(Column("added", Integer))
    later = Schema("registry", grown, directory=newer)
    db = Database(f"sqlite+inloop:///{tmp_path / 'registry.db'}")
    try:
        await upgrade(db, registry)
        older = "at revision kit_0001, registry_0001, older than its code's kit_0001, registry_0002: apply"
        with pytest.raises(SchemaNotCurrent, match=older):
            await check(db, later)
        assert await upgrade(db, later) == (
            frozenset({"kit_0001", "registry_0001"}),
            frozenset({"kit_0001", "registry_0002"}),
        )
        await check(db, later)
        # The older code, on the newer database.
        with pytest.raises(SchemaNotCurrent, match="revision registry_0002, which this code does not know"):
            await check(db, registry)
        async with db.transaction() as session:
            await session.execute(text("SELECT added FROM nominals"))
    finally:
        await db.dispose()


async def test_a_database_made_before_migrations_is_not_migrated_over(tmp_path: Path) -> None:
    db = Database(f"sqlite+inloop:///{tmp_path / 'registry.db'}")
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE nominals (platform_id VARCHAR(64) PRIMARY KEY)"))
        with pytest.raises(SchemaNotCurrent, match="has 1 tables but no migration revision"):
            await upgrade(db, schema_of("registry"))
    finally:
        await db.dispose()
