"""Routing's settings (environment ATIENDE_*). Imports nothing else of the service."""

from __future__ import annotations

from typing import ClassVar

from atiende_runtime.settings import Settings


class RoutingSettings(Settings):
    default_port: ClassVar[int] = 8002

    service_name: str = "routing"
    default_team: str = "general"
    # the timer worker (SLA warnings and breaches, commitments): it sleeps until the next
    # deadline, at most timer_poll_interval seconds
    timer_batch_size: int = 200
    timer_poll_interval: float = 1.0
    replica_name: str = ""
    """Recorded on each timer this process fires (empty: host:pid)."""
