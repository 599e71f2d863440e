"""Dependencies shared by routing's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from atiende_runtime.auth import Principal, require
from atiende_runtime.auth import actor_of as actor_of  # re-exported: routes take it from here
from atiende_runtime.service import ServiceRuntime, runtime_of

from ...settings import RoutingSettings


def runtime(request: Request) -> ServiceRuntime[RoutingSettings]:
    return runtime_of(request)


Runtime = Annotated[ServiceRuntime[RoutingSettings], Depends(runtime)]
CaseWorker = Annotated[Principal, Depends(require("agent", "supervisor"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Anyone = Annotated[Principal, Depends(require("agent", "supervisor", "admin"))]


CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
"""What a managed code (procedure, policy, threshold) looks like."""
