"""OpenTelemetry set up once per process, and Kafka tracing without personal data.

Only W3C trace context crosses process boundaries: baggage is not
propagated, so nothing an agency puts there travels on. FastStream's Kafka
middleware records the message key and the sender's correlation id as span
attributes; on agency topics the key is a person identifier, so our
provider leaves both out.
"""

from typing import Any

from faststream.kafka.opentelemetry.provider import KafkaTelemetrySettingsProvider
from faststream.kafka.response import KafkaPublishCommand
from faststream.opentelemetry.middleware import TelemetryMiddleware
from opentelemetry import trace
from opentelemetry.propagate import set_global_textmap
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.semconv.trace import SpanAttributes
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_provider: TracerProvider | None = None


def _exporter(name: str) -> SpanExporter | None:
    if name in ("", "none"):
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        # Reads OTEL_EXPORTER_OTLP_* from the environment itself.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise ValueError(f"unsupported OTEL_TRACES_EXPORTER value: {name!r}")


def setup_tracing(service: str, agency: str, exporters: str) -> TracerProvider:
    """Install the process-wide tracer provider (first call wins)."""
    global _provider
    if _provider is None:
        set_global_textmap(TraceContextTextMapPropagator())
        _provider = TracerProvider(
            resource=Resource.create(
                {
                    "service.name": f"mappa-{service}",
                    "service.namespace": "mappa",
                    "mappa.agency": agency,
                }
            )
        )
        for name in exporters.split(","):
            exporter = _exporter(name.strip())
            if exporter is not None:
                _provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(_provider)
    return _provider


# The key may be a person identifier; the correlation id is whatever the
# sender put in a header. Neither belongs in a span.
_WITHHELD = (SpanAttributes.MESSAGING_KAFKA_MESSAGE_KEY, SpanAttributes.MESSAGING_MESSAGE_CONVERSATION_ID)


def _withheld(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k not in _WITHHELD}


class _KeylessProvider(KafkaTelemetrySettingsProvider):
    def get_consume_attrs_from_message(self, msg: Any) -> dict[str, Any]:
        return _withheld(super().get_consume_attrs_from_message(msg))

    def get_publish_attrs_from_cmd(self, cmd: KafkaPublishCommand) -> dict[str, Any]:
        return _withheld(super().get_publish_attrs_from_cmd(cmd))


def _keyless_factory(_msg: Any) -> _KeylessProvider:
    return _KeylessProvider()


class KafkaTracing(TelemetryMiddleware[KafkaPublishCommand]):
    """FastStream's Kafka tracing, minus message keys."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        super().__init__(
            settings_provider_factory=_keyless_factory,
            tracer_provider=tracer_provider,
            include_messages_counters=False,
        )
