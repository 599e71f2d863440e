"""Routing's composition root: settings, routes and consumers put together. Nothing imports this
module; the `atiende.services` entry point in pyproject.toml names `service`."""

from __future__ import annotations

from fastapi import FastAPI

from atiende_contracts import (
    AgentChanged,
    CaseAssigned,
    CaseClosed,
    CaseDeescalated,
    CaseEscalated,
    CaseReopened,
    CaseResolved,
    CaseSlaBreached,
    CaseSlaWarning,
    CaseStatusChanged,
    CommitmentDueSoon,
    CommitmentKept,
    CommitmentMade,
    CommitmentMissed,
    CompensationApproved,
    CompensationGranted,
    CompensationRejected,
    CompensationRequested,
    CompensationReversed,
    ProblemCaseLinked,
    ProblemDetected,
    ProblemResolved,
    ProcedureReviewRequested,
    RoutingRuleChanged,
    SlaPolicyChanged,
    TeamChanged,
)
from atiende_runtime.service import ServiceRuntime, Worker, build_app
from atiende_runtime.services import ServiceDefinition

from .entrypoints.consumers import consumers
from .entrypoints.http import ROUTERS
from .entrypoints.workers import timer_worker
from .settings import RoutingSettings
from .usecases import commitments
from .usecases.timers import KINDS

commitments.register(KINDS)  # commitment reminders and misses; SLA alerts climb the ladder

PUBLISHES = (
    CaseAssigned,
    CaseResolved,
    TeamChanged,
    AgentChanged,
    RoutingRuleChanged,
    CaseSlaWarning,
    CaseSlaBreached,
    SlaPolicyChanged,
    # the case lifecycle
    CaseStatusChanged,
    CaseEscalated,
    CaseDeescalated,
    CaseClosed,
    CaseReopened,
    CommitmentMade,
    CommitmentDueSoon,
    CommitmentKept,
    CommitmentMissed,
    # root causes, problems and procedures (docs/problems.md)
    ProblemDetected,
    ProblemCaseLinked,
    ProblemResolved,
    ProcedureReviewRequested,
    # compensations
    CompensationRequested,
    CompensationApproved,
    CompensationRejected,
    CompensationGranted,
    CompensationReversed,
)
"""Every event routing emits (its unit of work refuses any other)."""


def workers(runtime: ServiceRuntime[RoutingSettings]) -> list[Worker]:
    return [timer_worker(runtime)]


def create_app(config: RoutingSettings | None = None) -> FastAPI:
    return build_app(
        config or RoutingSettings(),
        package="atiende_routing",
        title="Atiende routing",
        routers=ROUTERS,
        consumers=consumers,
        publishes=PUBLISHES,
        workers=workers,
    )


service = ServiceDefinition(
    name="routing",
    package="atiende_routing",
    settings=RoutingSettings,
    create_app=create_app,
    consumers=consumers,
    publishes=PUBLISHES,
)
