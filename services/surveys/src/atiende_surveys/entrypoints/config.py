"""The use cases' view of surveys' settings."""

from __future__ import annotations

from datetime import timedelta

from ..domain import PressurePolicy
from ..settings import SurveysSettings
from ..usecases import SurveyConfig


def survey_config(settings: SurveysSettings) -> SurveyConfig:
    return SurveyConfig(
        base_url=settings.survey_base_url,
        ttl=timedelta(days=settings.survey_ttl_days),
        pressure=PressurePolicy(
            max_invitations=settings.survey_max_invitations,
            window_days=settings.survey_window_days,
            min_days_between=settings.survey_min_days_between,
            reminder_after_days=settings.survey_reminder_after_days,
        ),
        delay=timedelta(minutes=settings.survey_delay_minutes),
        daytime_start_hour=settings.survey_daytime_start_hour,
        daytime_end_hour=settings.survey_daytime_end_hour,
        default_zone=settings.survey_default_timezone,
        resolution_questionnaire=settings.survey_resolution_questionnaire,
        sale_questionnaire=settings.survey_sale_questionnaire,
    )
