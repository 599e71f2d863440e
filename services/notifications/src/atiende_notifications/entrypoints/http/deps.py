"""The routes' one typed dependency on the running service."""

from __future__ import annotations

from fastapi import Request

from atiende_runtime.service import ServiceRuntime, runtime_of

from ...settings import NotificationsSettings


def runtime(request: Request) -> ServiceRuntime[NotificationsSettings]:
    return runtime_of(request)
