"""Notifications' HTTP routes, one module per resource."""

from fastapi import APIRouter

from . import deliveries, preferences, templates, webhooks

ROUTERS: tuple[APIRouter, ...] = (
    deliveries.router,
    templates.router,
    webhooks.router,
    preferences.router,
)

__all__ = ["ROUTERS"]
