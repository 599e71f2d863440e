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
    survey_max_invitations: int = Field(
        default=2, ge=1, description="Contact-pressure budget: survey messages per customer..."
    )
    survey_window_days: int = Field(default=90, ge=1, description="...in this many days")
    survey_min_days_between: int = Field(
        default=14, ge=0, description="Days at least between two invitations to one customer"
    )
    survey_reminder_after_days: int = Field(
        default=3, ge=1, description="Days before the one reminder (it counts in the budget)"
    )
    survey_delay_minutes: int = Field(
        default=0, ge=0, description="Minutes after resolution before the invitation is sent"
    )
    survey_daytime_start_hour: int = Field(
        default=0, ge=0, le=23, description="Invitations wait for this local hour (customer's)"
    )
    survey_daytime_end_hour: int = Field(
        default=24, ge=1, le=24, description="...and are not sent from this local hour on"
    )
    survey_default_timezone: str = Field(
        default="Europe/Madrid", description="Customer time zone when the region is unknown"
    )
    survey_resolution_questionnaire: str = Field(
        default="csat", description="Questionnaire sent after a resolution"
    )
    survey_sale_questionnaire: str = Field(
        default="post_sale", description="Questionnaire sent after sale.completed"
    )
    survey_poll_interval: float = Field(
        default=5.0, gt=0, description="Seconds between two looks for due invitations"
    )
