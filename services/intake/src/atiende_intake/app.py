"""Intake's wiring: settings, routes, consumers and the SMTP listener, in one place."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import FastAPI
from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from atiende_contracts import (
    CaseContactLinked,
    CaseOpened,
    CatalogueEntryChanged,
    ContactKind,
    ContactReceived,
    CustomerErased,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerProfileChanged,
)
from atiende_runtime.service import ServiceRuntime, Worker, build_app
from atiende_runtime.services import ServiceDefinition
from atiende_runtime.settings import Settings

from .api import routers
from .consumers import consumers
from .inbound_smtp import InboundSmtpListener


class IntakeSettings(Settings):
    default_port: ClassVar[int] = 8001

    service_name: str = "intake"
    join_window_days: int = Field(
        default=30,
        ge=0,
        description="A repeat complaint joins the customer's open case with the same motive opened "
        "within this many days",
    )
    default_motive: str = Field(
        default="OTHER",
        pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$",
        description="Motive of a case opened without one (e.g. from an email), until triage "
        "reclassifies it; must be an active catalogue motive",
    )
    inbound_email_kind: ContactKind = Field(
        default=ContactKind.CLAIM,
        description="What a customer's email is recorded as (an email joining a case by its "
        "number joins whatever its kind)",
    )
    inbound_email_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest email accepted, in bytes"
    )
    inbound_smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of the SMTP listener for customer emails; unset: no listener",
    )
    inbound_smtp_host: str = Field(
        default="127.0.0.1", description="Address the SMTP listener binds (0.0.0.0: every one)"
    )
    inbound_smtp_domains: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(),
        description="Recipient domains the SMTP listener accepts mail for, comma-separated "
        "(e.g. atencion.example.com,example.com); empty: any",
    )
    form_rate_limit: int = Field(
        default=5, ge=1, description="Web form submissions per client address per window"
    )
    form_rate_window_seconds: int = Field(
        default=600, ge=1, description="The web form's rate-limit window, in seconds"
    )

    @field_validator("inbound_smtp_domains", mode="before")
    @classmethod
    def _domain_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        return frozenset(d.strip().lower() for d in value if d.strip())


def settings(**overrides: Any) -> IntakeSettings:
    return IntakeSettings(**overrides)


def workers(runtime: ServiceRuntime) -> list[Worker]:
    config = runtime.settings
    assert isinstance(config, IntakeSettings)
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


PUBLISHES = (
    CaseOpened,
    ContactReceived,
    CaseContactLinked,
    CustomerProfileChanged,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerErased,
    CatalogueEntryChanged,
)
"""Every event intake emits (its unit of work refuses any other)."""


def create_app(config: IntakeSettings | None = None) -> FastAPI:
    return build_app(
        config or settings(),
        package="atiende_intake",
        title="Atiende intake",
        routers=routers,
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
