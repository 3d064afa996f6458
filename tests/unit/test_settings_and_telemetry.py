import pytest
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from eventkit.settings import Settings
from eventkit.telemetry import PassingOn, _exporter


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


def test_with_no_exporter_a_span_records_nothing_and_passes_the_senders_trace_on_unchanged() -> None:
    received = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    tracer = PassingOn().get_tracer("tests")
    with tracer.start_as_current_span("agency.police.v1 process", context=extract(received)) as span:
        sent: dict[str, str] = {}
        inject(sent)
        published = tracer.start_span("registry.offenders.v1 publish")
    assert not span.is_recording()
    assert not published.is_recording()
    assert sent == received
    after: dict[str, str] = {}
    inject(after)
    assert after == {}  # nothing of it is left current once the event is applied
