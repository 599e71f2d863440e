"""Indicators' HTTP API, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from . import indicators

ROUTERS: tuple[APIRouter, ...] = (indicators.router,)
