"""Indicators' settings (environment ATIENDE_*). Imports nothing else of the service."""

from __future__ import annotations

from typing import ClassVar

from atiende_runtime.settings import Settings


class IndicatorsSettings(Settings):
    default_port: ClassVar[int] = 8005

    service_name: str = "indicators"
