"""Routing's settings (environment ATIENDE_*). Imports nothing else of the service."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from atiende_runtime.settings import Settings


class RoutingSettings(Settings):
    default_port: ClassVar[int] = 8002

    service_name: str = "routing"
    # the timer worker (SLA warnings and breaches, commitments): it sleeps until the next
    # deadline, at most timer_poll_interval seconds
    timer_batch_size: int = Field(default=200, ge=1)
    timer_poll_interval: float = Field(default=1.0, gt=0)
    replica_name: str = ""
    """Recorded on each timer this process fires (empty: host:pid)."""
    # the case lifecycle
    require_steps: bool = True
    """The seven-step gates on complaints and claims: resolve needs steps 3-6, close 7a+7b (or a
    supervisor's waiver)."""
    reopen_window_days: int = Field(default=14, ge=0)
    """How long after resolution a customer's return reopens the case (a team's own window wins)."""
    commitment_reminder_minutes: float = Field(default=15, ge=0)
    """How long before a commitment is due its owner hears commitment.due_soon."""
