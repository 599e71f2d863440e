"""Intake's composition root: its routes, pages, consumers and the SMTP listener, in one app.
Nothing imports this module; the `atiende.services` entry point names `service`."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from atiende_contracts import (
    CaseContactLinked,
    CaseMerged,
    CaseOpened,
    CaseReclassified,
    CatalogueEntryChanged,
    ContactReceived,
    CustomerErased,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerProfileChanged,
    EmailBounced,
)
from atiende_runtime.service import ServiceRuntime, Worker, build_app
from atiende_runtime.services import ServiceDefinition

from .entrypoints.consumers import consumers
from .entrypoints.http import cases, catalogue, contacts, customers, email
from .entrypoints.pages import webform
from .entrypoints.smtp import InboundSmtpListener
from .settings import IntakeSettings

ROUTERS: list[APIRouter] = [
    cases.router,
    contacts.router,
    customers.router,
    catalogue.router,
    email.router,
    webform.router,
]

PUBLISHES = (
    CaseOpened,
    ContactReceived,
    CaseContactLinked,
    CustomerProfileChanged,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerErased,
    CatalogueEntryChanged,
    CaseReclassified,
    CaseMerged,
    EmailBounced,
)
"""Every event intake emits (its unit of work refuses any other)."""


def workers(runtime: ServiceRuntime[IntakeSettings]) -> list[Worker]:
    config = runtime.settings
    if config.inbound_smtp_port is None:
        return []
    return [
        InboundSmtpListener(
            runtime,
            host=config.inbound_smtp_host,
            port=config.inbound_smtp_port,
            domains=config.inbound_smtp_domains,
            max_bytes=config.inbound_email_max_bytes,
        )
    ]


def create_app(config: IntakeSettings | None = None) -> FastAPI:
    return build_app(
        config or IntakeSettings(),
        package="atiende_intake",
        title="Atiende intake",
        routers=ROUTERS,
        consumers=consumers,
        publishes=PUBLISHES,
        workers=workers,
    )


service = ServiceDefinition(
    name="intake",
    package="atiende_intake",
    settings=IntakeSettings,
    create_app=create_app,
    consumers=consumers,
    publishes=PUBLISHES,
)
