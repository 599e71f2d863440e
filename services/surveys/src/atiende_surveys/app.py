"""Surveys' composition root: its routes, consumers and timer, built into one app. Nothing
imports this module; the `atiende.services` entry point names `service`."""

from __future__ import annotations

from fastapi import FastAPI

from atiende_contracts import (
    CustomerSurveyOptOut,
    SurveyAnswered,
    SurveyDeclined,
    SurveyDetractor,
    SurveyExpired,
    SurveyInvited,
    SurveyReminded,
    SurveySuppressed,
)
from atiende_runtime.service import build_app
from atiende_runtime.services import ServiceDefinition

from .entrypoints.consumers import consumers
from .entrypoints.http import campaigns, invitations, questionnaires, results
from .entrypoints.pages import survey
from .entrypoints.workers import workers
from .settings import SurveysSettings

PUBLISHES = (
    SurveyInvited,
    SurveyAnswered,
    SurveyReminded,
    SurveyDeclined,
    SurveySuppressed,
    SurveyExpired,
    SurveyDetractor,
    CustomerSurveyOptOut,
)
"""Every event surveys emits (its unit of work refuses any other)."""


def create_app(config: SurveysSettings | None = None) -> FastAPI:
    return build_app(
        config or SurveysSettings(),
        package="atiende_surveys",
        title="Atiende surveys",
        routers=[
            survey.router,
            invitations.router,
            results.router,
            questionnaires.router,
            campaigns.router,
        ],
        consumers=consumers,
        publishes=PUBLISHES,
        workers=workers,
    )


service = ServiceDefinition(
    name="surveys",
    package="atiende_surveys",
    settings=SurveysSettings,
    create_app=create_app,
    consumers=consumers,
    publishes=PUBLISHES,
)
