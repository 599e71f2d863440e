"""Surveys' settings (environment variables ATIENDE_…, see atiende_runtime.settings)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from atiende_runtime.settings import Settings


class SurveysSettings(Settings):
    default_port: ClassVar[int] = 8003

    service_name: str = "surveys"
    survey_base_url: str = Field(
        default="http://127.0.0.1:8003",
        pattern=r"^https?://[^\s?#]+$",
        description="Public base URL of the survey pages, used in the links sent to customers",
    )
    survey_ttl_days: int = Field(default=14, ge=1, description="Days a survey link stays open")
