"""Notifications' HTTP routes, one module per resource."""

from fastapi import APIRouter

from . import deliveries

ROUTERS: tuple[APIRouter, ...] = (deliveries.router,)

__all__ = ["ROUTERS"]
