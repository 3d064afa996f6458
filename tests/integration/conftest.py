from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eventkit.auth import load_auth_settings
from eventkit.service import Service
from eventkit.settings import Settings
from services.levels.app import create as create_levels
from services.meetings.app import create as create_meetings
from services.registry.app import create as create_registry
from tests.support.api import KEY
from tests.support.clock import FakeClock


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@asynccontextmanager
async def _running_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> AsyncIterator[Service]:
    monkeypatch.setenv("MAPPA_REGISTRY_DATABASE_URL", f"sqlite+inloop:///{tmp_path / 'registry.db'}")
    monkeypatch.setenv("MAPPA_RETRY_BACKOFF_SECONDS", "0")
    service = create_registry(settings=Settings("registry"), **options)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def registry(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter
) -> AsyncIterator[Service]:
    """The registry service in this process, on the real broker and a fresh SQLite file."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    async with _running_registry(tmp_path, monkeypatch, tracer_provider=provider) as service:
        yield service


@pytest.fixture
async def clocked_registry(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> AsyncIterator[Service]:
    """The registry on the real broker whose clock the test sets, for rules that depend on the day."""
    async with _running_registry(tmp_path, monkeypatch, clock=clock) as service:
        yield service


@pytest.fixture
async def levels(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Service]:
    """The levels service in this process, on the real broker and a fresh SQLite file."""
    monkeypatch.setenv("MAPPA_LEVELS_DATABASE_URL", f"sqlite+inloop:///{tmp_path / 'levels.db'}")
    monkeypatch.setenv("MAPPA_RETRY_BACKOFF_SECONDS", "0")
    # Its schedule runs once at start; tests of the schedule drive it with a fake clock.
    monkeypatch.setenv("MAPPA_LEVELS_SCHEDULE_SECONDS", "3600")
    service = create_levels(settings=Settings("levels"))
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def offline_levels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock, _auth: None
) -> AsyncIterator[Service]:
    """The levels service's database and HTTP API on a fake clock, without its broker."""
    monkeypatch.setenv("MAPPA_LEVELS_DATABASE_URL", f"sqlite+inloop:///{tmp_path / 'levels.db'}")
    service = create_levels(settings=Settings("levels"), clock=clock)
    await service.migrate()
    yield service
    await service.db.dispose()


@pytest.fixture
async def offline_meetings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock, _auth: None
) -> AsyncIterator[Service]:
    """The meetings service's database, handlers, jobs and HTTP API on a fake clock, without its broker."""
    monkeypatch.setenv("MAPPA_MEETINGS_DATABASE_URL", f"sqlite+inloop:///{tmp_path / 'meetings.db'}")
    service = create_meetings(settings=Settings("meetings"), clock=clock)
    await service.migrate()
    yield service
    await service.db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def _auth(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MAPPA_AUTH_JWT_KEY", KEY)
    load_auth_settings.cache_clear()
    yield
    load_auth_settings.cache_clear()


@pytest.fixture
async def offline_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock, _auth: None
) -> AsyncIterator[Service]:
    """The registry's database and HTTP API on a fake clock, without its broker: the API never needs one.

    Area 01 warns 5 days before a deadline, others 14.
    """
    policy = tmp_path / "policy.toml"
    policy.write_text("[defaults]\ndue_soon_days = 14\n\n[areas.01]\ndue_soon_days = 5\n")
    monkeypatch.setenv("MAPPA_REGISTRY_POLICY_FILE", str(policy))
    monkeypatch.setenv("MAPPA_REGISTRY_DATABASE_URL", f"sqlite+inloop:///{tmp_path / 'registry.db'}")
    registry = create_registry(settings=Settings("registry"), clock=clock)
    await registry.migrate()
    yield registry
    await registry.db.dispose()
