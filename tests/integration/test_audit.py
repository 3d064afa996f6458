"""The read audit commits with the read or not at all, on SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Column, MetaData, String, Table, func, select
from sqlalchemy.exc import DBAPIError

from eventkit import audit
from eventkit.auth import Principal, Role
from eventkit.db import Database
from schemas.agencies import Agency
from tests.support.stores import create_tables

# Stands in for whatever else the reading transaction does, so a rollback can be seen.
probe_metadata = MetaData()
probe = Table("audit_test_probe", probe_metadata, Column("id", String(32), primary_key=True))

OFFICER = Principal(user="u-9c2e", agency=Agency.POLICE, role=Role.PUBLIC_PROTECTION_OFFICER, area="N01")


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+inloop:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    await create_tables(database, probe_metadata)
    async with database.transaction() as session:
        await session.execute(audit.audit_reads.delete())
        await session.execute(probe.delete())
    yield database
    await database.dispose()


async def _probes(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(probe)) or 0)


async def _read(db: Database, record_id: str, purpose: str, principal: Principal = OFFICER) -> None:
    async with db.transaction() as session:
        await session.execute(probe.insert(), {"id": f"read-{record_id}-{principal.user}"})
        await audit.record_read(
            session, principal, purpose=purpose, record_type="nominal", record_id=record_id
        )


async def test_a_read_and_its_audit_row_commit_together(db: Database) -> None:
    await _read(db, "P-0001", "risk management plan review")
    assert await _probes(db) == 1
    async with db.transaction() as session:
        [row] = await audit.reads_of(session, ("nominal",), "P-0001")
    assert (row.user, row.agency, row.role, row.area) == (
        "u-9c2e",
        "police",
        "public-protection-officer",
        "N01",
    )
    assert (row.purpose, row.record_type, row.record_id) == (
        "risk management plan review",
        "nominal",
        "P-0001",
    )
    assert row.at.utcoffset() == UTC.utcoffset(None)  # aware, and UTC
    assert row.request_id is None  # no span was current


async def test_an_audit_row_the_database_refuses_fails_the_read_and_keeps_nothing(db: Database) -> None:
    with pytest.raises(DBAPIError):
        await _read(db, "P-0002", "")  # the CHECK constraint refuses an empty purpose
    assert await _probes(db) == 0
    async with db.transaction() as session:
        assert await audit.reads_of(session, ("nominal",), "P-0002") == []


async def test_a_missing_audit_table_fails_the_read_and_keeps_nothing(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(audit.audit_reads.drop)
    try:
        with pytest.raises(DBAPIError) as failed:
            await _read(db, "P-0003", "purpose-text-that-must-not-leak")
        # hide_parameters: the values read and audited stay out of the error.
        assert "purpose-text-that-must-not-leak" not in str(failed.value)
        assert "u-9c2e" not in str(failed.value)
        assert await _probes(db) == 0
    finally:
        await create_tables(db, probe_metadata)
    async with db.transaction() as session:
        assert await audit.reads_of(session, ("nominal",), "P-0003") == []


async def test_reads_of_pages_through_one_record_newest_first(db: Database) -> None:
    for n in range(3):
        reader = Principal(user=f"u-{n}", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area="N01")
        await _read(db, "P-0004", f"supervision visit {n}", reader)
    await _read(db, "P-0005", "someone else's record")
    async with db.transaction() as session:
        first = await audit.reads_of(session, ("nominal",), "P-0004", limit=2)
        rest = await audit.reads_of(session, ("nominal",), "P-0004", limit=2, offset=2)
        assert await audit.reads_of(session, ("registration",), "P-0004") == []
        with pytest.raises(ValueError, match="limit"):
            await audit.reads_of(session, ("nominal",), "P-0004", limit=0)
    assert [r.user for r in first + rest] == ["u-2", "u-1", "u-0"]
    assert {r.record_id for r in first + rest} == {"P-0004"}


async def test_the_request_id_is_the_current_trace_id(db: Database) -> None:
    tracer = TracerProvider().get_tracer("tests")
    with tracer.start_as_current_span("GET /nominals/P-0006") as span:
        await _read(db, "P-0006", "level review")
    async with db.transaction() as session:
        [row] = await audit.reads_of(session, ("nominal",), "P-0006")
    assert row.request_id == format(span.get_span_context().trace_id, "032x")
