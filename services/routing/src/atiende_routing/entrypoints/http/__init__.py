"""Routing's HTTP API, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    agents,
    cases,
    compensations,
    phrasebook,
    policies,
    problems,
    procedures,
    queues,
    rules,
    teams,
)

ROUTERS: tuple[APIRouter, ...] = (
    cases.router,
    teams.router,
    agents.router,
    rules.router,
    policies.router,
    queues.router,
    phrasebook.router,
    problems.router,
    procedures.router,
    compensations.router,
)
