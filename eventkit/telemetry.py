"""OpenTelemetry set up once per process.

Only W3C trace context crosses process boundaries: baggage is not
propagated, so nothing an agency puts there travels on. The kit makes the
Kafka spans itself (eventkit.consumer, eventkit.publisher), without message
keys: on agency topics the key is a person identifier.
"""

from opentelemetry import trace
from opentelemetry.propagate import set_global_textmap
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
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
