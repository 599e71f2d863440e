"""Intake's settings, read from the environment (prefix ATIENDE_)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from atiende_contracts import ContactKind
from atiende_runtime.settings import Settings

CATALOGUE_CODE = r"^[A-Z0-9][A-Z0-9_-]{0,39}$"
"""A catalogue code: upper case, digits, `_` and `-` (the database checks the same). Defined here,
the lowest layer, so the settings' default motive and the domain share the one pattern."""


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
        pattern=CATALOGUE_CODE,
        description="Motive of a case opened without one (e.g. from an email), until triage "
        "reclassifies it; must be an active catalogue motive. A contact with this motive never "
        "joins another case by 'same problem'",
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
