"""Routing's settings (environment ATIENDE_*). Imports nothing else of the service."""

from __future__ import annotations

from typing import ClassVar

from atiende_runtime.settings import Settings


class RoutingSettings(Settings):
    default_port: ClassVar[int] = 8002

    service_name: str = "routing"
    default_team: str = "general"
