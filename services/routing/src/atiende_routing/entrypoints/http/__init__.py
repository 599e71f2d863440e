"""Routing's HTTP API, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from . import cases

ROUTERS: tuple[APIRouter, ...] = (cases.router,)
