"""Intake's HTTP routes, one module per resource; `routers` is what app.py mounts."""

from fastapi import APIRouter

from . import cases, contacts

routers: list[APIRouter] = [cases.router, contacts.router]
