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
    # the case lifecycle
    require_steps: bool = True
    """The seven-step gates on complaints and claims: resolve needs steps 3-6, close 7a+7b (or a
    supervisor's waiver)."""
    reopen_window_days: int = 14
    """How long after resolution a customer's return reopens the case (a team's own window wins)."""
    commitment_reminder_minutes: float = 15
    """How long before a commitment is due its owner hears commitment.due_soon."""
