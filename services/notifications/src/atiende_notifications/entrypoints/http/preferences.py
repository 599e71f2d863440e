"""Preferences: a customer's channel, consents, opt-outs and quiet hours (in their zone); a
staff member's channels."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import Field, StrictBool

from atiende_contracts import NotificationChannel
from atiende_runtime.auth import Principal, actor_of, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...domain.preferences import CustomerPreferences, QuietHours
from ...repository import PostgresUnitOfWork
from ...settings import NotificationsSettings
from .deps import runtime

router = APIRouter(tags=["preferences"])
Staff = Annotated[Principal, Depends(require("supervisor", "agent", "admin"))]
Service = Annotated[ServiceRuntime[NotificationsSettings], Depends(runtime)]


WALL_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
"""A local wall-clock time, HH:MM or HH:MM:SS, with no zone: the customer's time_zone says where."""


class QuietHoursIO(RequestModel):
    start: str = Field(pattern=WALL_CLOCK, description="Local wall-clock time, e.g. 21:00")
    end: str = Field(pattern=WALL_CLOCK, description="e.g. 08:00 (the window may wrap midnight)")

    @classmethod
    def of(cls, quiet: QuietHours) -> QuietHoursIO:
        return cls(start=quiet.start.isoformat(), end=quiet.end.isoformat())

    def hours(self) -> QuietHours:
        return QuietHours(time.fromisoformat(self.start), time.fromisoformat(self.end))


class PreferencesIO(RequestModel):
    preferred_channel: NotificationChannel | None = None
    consent_surveys: StrictBool | None = None
    consent_marketing: StrictBool | None = None
    opted_out: list[NotificationChannel] = Field(default_factory=list)
    undeliverable: list[NotificationChannel] = Field(
        default_factory=list, description="Set by hard bounces; clear it when fixed"
    )
    time_zone: str | None = Field(default=None, description="IANA zone, e.g. Atlantic/Canary")
    quiet_hours: QuietHoursIO | None = None


class StaffChannelsIO(RequestModel):
    channels: list[NotificationChannel] = Field(description="Empty: tell this person nothing")
    phone: str | None = None


@router.get("/customers/{customer_id}/preferences", response_model=PreferencesIO)
async def get_preferences(
    service: Service, _: Staff, customer_id: Annotated[uuid.UUID, Path()]
) -> PreferencesIO:
    async with service.unit_of_work() as tx:
        prefs = await usecases.customer_preferences(PostgresUnitOfWork(tx), customer_id)
    quiet = prefs.quiet_hours
    return PreferencesIO(
        preferred_channel=prefs.preferred_channel,
        consent_surveys=prefs.consent_surveys,
        consent_marketing=prefs.consent_marketing,
        opted_out=sorted(prefs.opted_out),
        undeliverable=sorted(prefs.undeliverable),
        time_zone=prefs.time_zone,
        quiet_hours=QuietHoursIO.of(quiet) if quiet else None,
    )


@router.put("/customers/{customer_id}/preferences", response_model=PreferencesIO)
async def put_preferences(
    service: Service,
    principal: Staff,
    customer_id: Annotated[uuid.UUID, Path()],
    body: PreferencesIO,
) -> PreferencesIO:
    prefs = CustomerPreferences(
        customer_id=customer_id,
        preferred_channel=body.preferred_channel,
        consent_surveys=body.consent_surveys,
        consent_marketing=body.consent_marketing,
        opted_out=frozenset(body.opted_out),
        undeliverable=frozenset(body.undeliverable),
        time_zone=body.time_zone,
        quiet_hours=body.quiet_hours.hours() if body.quiet_hours else None,
    )
    async with service.unit_of_work() as tx:
        await usecases.set_customer_preferences(
            PostgresUnitOfWork(tx), prefs, actor=actor_of(principal)
        )
    return body


@router.put("/staff/{agent_id}/channels", response_model=StaffChannelsIO)
async def put_staff_channels(
    service: Service, principal: Staff, agent_id: Annotated[str, Path()], body: StaffChannelsIO
) -> StaffChannelsIO:
    async with service.unit_of_work() as tx:
        member = await usecases.set_staff_channels(
            PostgresUnitOfWork(tx), agent_id, body.channels, body.phone, actor=actor_of(principal)
        )
    return StaffChannelsIO(channels=list(member.channels), phone=member.phone)
