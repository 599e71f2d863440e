"""Intake's HTTP routes, one module per resource; `routers` is what app.py mounts."""

from fastapi import APIRouter

from . import cases, catalogue, contacts, customers, email, webform

routers: list[APIRouter] = [
    cases.router,
    contacts.router,
    customers.router,
    catalogue.router,
    email.router,
    webform.router,
]
