import pytest
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from eventkit.settings import Settings
from eventkit.telemetry import _exporter


def test_each_service_reads_its_own_database_url_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-a:9092,kafka-b:9092")
    monkeypatch.setenv("MAPPA_LEVELS_DATABASE_URL", "postgresql+asyncpg://mappa@db/levels")
    monkeypatch.setenv("MAPPA_LEVELS_HTTP_PORT", "9102")
    levels, meetings = Settings("levels"), Settings("meetings")
    assert levels.database_url == "postgresql+asyncpg://mappa@db/levels"
    assert levels.http_port == 9102
    assert meetings.database_url.startswith("sqlite+inloop:///")
    assert meetings.database_url.endswith("/meetings.db")
    assert meetings.http_port == 8103
    assert levels.platform.kafka_bootstrap_servers == "kafka-a:9092,kafka-b:9092"


def test_the_trace_exporter_is_chosen_by_environment_name() -> None:
    assert _exporter("none") is None
    assert isinstance(_exporter("console"), ConsoleSpanExporter)
    with pytest.raises(ValueError, match="unsupported"):
        _exporter("zipkin-by-carrier-pigeon")
