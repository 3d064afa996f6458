"""The kit's database on PostgreSQL: replicas' turns (advisory locks) and pooled connections the
server closed."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from deploy.postgres import fresh_database
from eventkit.db import Database, hold, try_hold


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[Database]:
    database = Database(await fresh_database(postgres_url, "kit"))
    yield database
    await database.dispose()


async def test_several_turns_are_taken_in_one_statement_and_held_to_the_end_of_the_transaction(
    db: Database,
) -> None:
    other = Database(db.engine.url.render_as_string(hide_password=False))
    try:
        async with db.transaction() as session:
            await hold(session, "identifier pnc:1", "nominal P-1")
            async with other.transaction() as elsewhere:
                assert await try_hold(elsewhere, "identifier pnc:1") is False
                assert await try_hold(elsewhere, "nominal P-1") is False
                assert await try_hold(elsewhere, "nominal P-2") is True
        async with other.transaction() as elsewhere:
            assert await try_hold(elsewhere, "identifier pnc:1") is True
            assert await try_hold(elsewhere, "nominal P-1") is True
    finally:
        await other.dispose()


async def test_a_pooled_connection_the_server_closed_is_replaced_without_failing_a_transaction(
    db: Database,
) -> None:
    async with db.transaction() as session:
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None
    closed = asyncio.Event()
    driver.add_termination_listener(lambda _: closed.set())
    async with db.transaction() as session:  # the same pooled connection, still open
        assert await session.scalar(text("SELECT pg_backend_pid()")) == pid
    admin = Database(db.engine.url.render_as_string(hide_password=False))
    try:
        async with admin.transaction() as session:
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()
    await closed.wait()

    async with db.transaction() as session:
        assert await session.scalar(text("SELECT pg_backend_pid()")) != pid
