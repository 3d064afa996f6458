"""Session-wide real infrastructure: a Kafka broker and a PostgreSQL server, started on demand.

Set KAFKA_BOOTSTRAP_SERVERS to use an existing broker instead (with every principal's
MAPPA_<CLIENT>_KAFKA_USERNAME/PASSWORD, as ``deploy/kafka.sh env`` prints them), or
MAPPA_TEST_POSTGRES_URL to use an existing PostgreSQL database.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local import SERVICES, free_ports
from deploy.postgres import start_postgres
from tests.support.kafka import start_broker, stop_broker


@pytest.fixture(scope="session", autouse=True)
def _migrate_at_start() -> None:
    """Services started by a test apply their migrations first (one test checks they refuse not to)."""
    for service in SERVICES:
        os.environ.setdefault(f"MAPPA_{service.upper()}_MIGRATE_AT_START", "true")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if existing:
        yield existing
        return
    state = Path(tempfile.mkdtemp(prefix="mappa-kafka-"))
    port, controller_port = free_ports(2)
    env = start_broker(state, port, controller_port)
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{port}"
    try:
        yield f"127.0.0.1:{port}"
    finally:
        del os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        stop_broker(env)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    existing = os.environ.get("MAPPA_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    root = Path(tempfile.mkdtemp(prefix="mappa-pg-"))
    server = start_postgres(root)
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API holds the main thread's event loop from its first use
    to the end of the session, and the asyncio tests need it free."""
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))
