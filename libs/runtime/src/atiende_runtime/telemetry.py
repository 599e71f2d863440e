"""OpenTelemetry: one tracer provider per process, exporters from the standard OTEL_* variables."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_provider: TracerProvider | None = None


def setup_tracing(service: str) -> TracerProvider:
    """Install the process's tracer provider once; later calls return the same one.

    Spans are exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-specific
    variable) is set; otherwise ids are still generated so logs can be correlated.
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
    AsyncPGInstrumentor().instrument(  # type: ignore[no-untyped-call]
        tracer_provider=provider
    )
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)
