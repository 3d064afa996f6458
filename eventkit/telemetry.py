"""OpenTelemetry set up once per process.

Only W3C trace context crosses process boundaries: baggage is not
propagated, so nothing an agency puts there travels on. The kit makes the
Kafka spans itself (eventkit.consumer, eventkit.publisher), without message
keys: on agency topics the key is a person identifier.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagate import set_global_textmap
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_provider: trace.TracerProvider | None = None


class _PassingOn(trace.Tracer):
    """A span records nothing and carries its parent's context: the trace received is the one passed on."""

    def start_span(self, name: str, context: Context | None = None, *args: Any, **kwargs: Any) -> trace.Span:
        return trace.NonRecordingSpan(trace.get_current_span(context).get_span_context())

    @contextlib.contextmanager  # the API's own decorator for this is private
    def start_as_current_span(  # type: ignore[override]
        self, name: str, context: Context | None = None, *args: Any, **kwargs: Any
    ) -> Iterator[trace.Span]:
        span = self.start_span(name, context)
        with trace.use_span(span, end_on_exit=False):
            yield span


class PassingOn(trace.TracerProvider):
    """For a process that exports no spans: recording them (some 30 µs each, several per event) would
    be for nothing. The agency's trace still goes on through the process, unchanged."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _PassingOn()


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


def setup_tracing(service: str, agency: str, exporters: str) -> trace.TracerProvider:
    """Install the process-wide tracer provider (first call wins); one that records nothing when
    there is no exporter."""
    global _provider
    if _provider is None:
        set_global_textmap(TraceContextTextMapPropagator())
        chosen = [e for e in (_exporter(name.strip()) for name in exporters.split(",")) if e is not None]
        if not chosen:
            _provider = PassingOn()
            return _provider
        recording = TracerProvider(
            resource=Resource.create(
                {
                    "service.name": f"mappa-{service}",
                    "service.namespace": "mappa",
                    "mappa.agency": agency,
                }
            )
        )
        for exporter in chosen:
            recording.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(recording)
        _provider = recording
    return _provider
