"""The one typed dependency of surveys' routes: its runtime."""

from __future__ import annotations

from fastapi import Request

from atiende_runtime.service import ServiceRuntime, runtime_of

from ...settings import SurveysSettings


def runtime(request: Request) -> ServiceRuntime[SurveysSettings]:
    return runtime_of(request)
