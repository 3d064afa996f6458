from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eventkit.service import Service
from eventkit.settings import Settings
from services.registry.app import create as create_registry


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def registry(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter
) -> AsyncIterator[Service]:
    """The registry service in this process, on the real broker and a fresh SQLite file."""
    monkeypatch.setenv("MAPPA_REGISTRY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    monkeypatch.setenv("MAPPA_RETRY_BACKOFF_SECONDS", "0")
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    service = create_registry(settings=Settings("registry"), tracer_provider=provider)
    await service.start()
    yield service
    await service.stop()
