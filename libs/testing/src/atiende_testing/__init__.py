"""Atiende's test support: the pytest plugin (`atiende_testing.plugin`) and the helpers tests
import. Process and cluster helpers live in atiende_harness.cluster (no pytest there)."""

from atiende_harness.cluster import (
    SERVICE_NAMES,
    Cluster,
    ServiceProcess,
    SmtpSink,
    eventually,
    free_port,
    service_env,
)

from .plugin import RunningService, run_service

__all__ = [
    "SERVICE_NAMES",
    "Cluster",
    "RunningService",
    "ServiceProcess",
    "SmtpSink",
    "eventually",
    "free_port",
    "run_service",
    "service_env",
]
