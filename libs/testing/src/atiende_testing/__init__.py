"""Atiende's test support: the pytest plugin (`atiende_testing.plugin`) and the helpers tests
import. Process and cluster helpers live in atiende_harness.cluster (no pytest there)."""

from atiende_harness.cluster import (
    SERVICE_NAMES,
    STAFF_ROLES,
    Cluster,
    ServiceProcess,
    SmtpSink,
    bearer,
    eventually,
    free_port,
    new_secret,
    service_env,
)

from .plugin import RunningService, run_service

__all__ = [
    "SERVICE_NAMES",
    "STAFF_ROLES",
    "Cluster",
    "RunningService",
    "ServiceProcess",
    "SmtpSink",
    "bearer",
    "eventually",
    "free_port",
    "new_secret",
    "run_service",
    "service_env",
]
