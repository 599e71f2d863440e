"""OpenTelemetry: one tracer provider per process; exporter and sampler from the standard OTEL_*
variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG).

One span per HTTP request and per consumed message (and per published event); a span per SQL
query only with ATIENDE_TRACE_QUERIES=true, because at a dozen queries per event the query spans
cost more CPU than the work they describe.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_provider: TracerProvider | None = None


def setup_tracing(service: str, *, trace_queries: bool = False) -> TracerProvider:
    """Install the process's tracer provider once; later calls return the same one.

    Spans are exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-specific
    variable) is set, in batches; otherwise ids are still generated so logs can be correlated.
    The sampler is the SDK's, read from OTEL_TRACES_SAMPLER (default: parent-based, always on);
    an unsampled span still has ids, so every log line keeps its trace_id.
    """
    global _provider
    if _provider is not None:
        return _provider
    resource = Resource.create(
        {SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", f"atiende-{service}")}
    )
    provider = TracerProvider(resource=resource)
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    if trace_queries:
        AsyncPGInstrumentor().instrument(  # type: ignore[no-untyped-call]
            tracer_provider=provider
        )
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)
