"""Preferences: a customer's channel, consents, opt-outs and quiet hours (in their zone); a
staff member's channels."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from atiende_contracts import NotificationChannel
from atiende_runtime.auth import Principal, require
from atiende_runtime.service import ServiceRuntime

from ... import usecases
from ...domain.preferences import CustomerPreferences, QuietHours
from ...repository import PostgresUnitOfWork
from ...settings import NotificationsSettings
from .deps import runtime

router = APIRouter(tags=["preferences"])
Staff = Annotated[Principal, Depends(require("supervisor", "agent", "admin"))]
Service = Annotated[ServiceRuntime[NotificationsSettings], Depends(runtime)]


class QuietHoursIO(BaseModel):
    start: time = Field(description="Local wall-clock time, e.g. 21:00")
    end: time = Field(description="e.g. 08:00 (the window may wrap midnight)")


class PreferencesIO(BaseModel):
    preferred_channel: NotificationChannel | None = None
    consent_surveys: bool | None = None
    consent_marketing: bool | None = None
    opted_out: list[NotificationChannel] = Field(default_factory=list)
    undeliverable: list[NotificationChannel] = Field(
        default_factory=list, description="Set by hard bounces; clear it when fixed"
    )
    time_zone: str | None = Field(default=None, description="IANA zone, e.g. Atlantic/Canary")
    quiet_hours: QuietHoursIO | None = None


class StaffChannelsIO(BaseModel):
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
        quiet_hours=QuietHoursIO(start=quiet.start, end=quiet.end) if quiet else None,
    )


@router.put("/customers/{customer_id}/preferences", response_model=PreferencesIO)
async def put_preferences(
    service: Service, _: Staff, customer_id: Annotated[uuid.UUID, Path()], body: PreferencesIO
) -> PreferencesIO:
    prefs = CustomerPreferences(
        customer_id=customer_id,
        preferred_channel=body.preferred_channel,
        consent_surveys=body.consent_surveys,
        consent_marketing=body.consent_marketing,
        opted_out=frozenset(body.opted_out),
        undeliverable=frozenset(body.undeliverable),
        time_zone=body.time_zone,
        quiet_hours=QuietHours(body.quiet_hours.start, body.quiet_hours.end)
        if body.quiet_hours
        else None,
    )
    async with service.unit_of_work() as tx:
        await usecases.set_customer_preferences(PostgresUnitOfWork(tx), prefs)
    return body


@router.put("/staff/{agent_id}/channels", response_model=StaffChannelsIO)
async def put_staff_channels(
    service: Service, _: Staff, agent_id: Annotated[str, Path()], body: StaffChannelsIO
) -> StaffChannelsIO:
    async with service.unit_of_work() as tx:
        member = await usecases.set_staff_channels(
            PostgresUnitOfWork(tx), agent_id, body.channels, body.phone
        )
    return StaffChannelsIO(channels=list(member.channels), phone=member.phone)
