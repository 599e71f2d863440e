"""Notifications' settings (environment variables ATIENDE_*)."""

from __future__ import annotations

import os
import socket
import uuid
from typing import ClassVar

from pydantic import Field, SecretStr

from atiende_runtime.settings import Settings


class NotificationsSettings(Settings):
    default_port: ClassVar[int] = 8004

    service_name: str = "notifications"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_sender: str = "Atiende <no-reply@atiende.local>"
    smtp_timeout: float = Field(default=10.0, gt=0, description="Seconds per SMTP operation")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_start_tls: bool | None = Field(
        default=None, description="None: use STARTTLS when the server offers it"
    )
    smtp_pool_size: int = Field(
        default=4,
        ge=0,
        description="SMTP connections kept open between emails (0: one connection per email)",
    )
    smtp_pool_idle_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a kept SMTP connection may stay unused"
    )
    smtp_local_hostname: str | None = Field(
        default=None, description="Name given in EHLO; None: this machine's FQDN (looked up once)"
    )
    max_attempts: int = Field(default=5, ge=1, description="Send attempts before a delivery fails")
    retry_base_delay: float = Field(
        default=30.0, gt=0, description="Seconds before the first retry; doubles for each next one"
    )
    retry_max_delay: float = Field(default=3600.0, gt=0, description="Longest wait between retries")
    dispatcher_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        description="This replica's name in the delivery log (each attempt says who made it)",
    )
    dispatch_batch_size: int = Field(default=20, ge=1)
    dispatch_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between polls for due deliveries without a NOTIFY"
    )
    default_time_zone: str = Field(
        default="Europe/Madrid",
        description="Quiet hours' zone for customers with no known zone or region; staff dates",
    )
    sms_base_url: str | None = Field(
        default=None,
        description="Twilio-compatible API base (https://api.twilio.com); unset = no SMS",
    )
    sms_account_sid: str = ""
    sms_auth_token: SecretStr | None = None
    sms_sender: str = Field(default="Atiende", description="From of every SMS")
    webhook_timeout: float = Field(default=15.0, gt=0, description="Seconds per webhook request")
    webhook_allow_http: bool = Field(
        default=False, description="Accept http:// webhook URLs (tests only)"
    )
    webhook_allow_private: bool = Field(
        default=False, description="Allow webhooks to private/loopback addresses (tests only)"
    )
    webhook_retry_schedule: list[float] = Field(
        default=[0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
        description="Seconds before each attempt of a webhook or SMS (Standard Webhooks')",
    )
    webhook_retry_jitter: float = Field(default=0.1, ge=0, le=0.5)
    webhook_secret_overlap: float = Field(
        default=86400.0, gt=0, description="Seconds an old secret keeps signing after a rotation"
    )
    admin_emails: list[str] = Field(
        default=[],
        description="Who is emailed when a webhook endpoint is disabled for a 410 or for failing "
        "for days (JSON list, e.g. ATIENDE_ADMIN_EMAILS='[\"ops@example.com\"]')",
    )
    admin_ranks: list[str] = Field(
        default=[],
        description="Staff of these ranks (from agent.changed: agent, senior, supervisor, "
        "manager) are administrators too, e.g. ATIENDE_ADMIN_RANKS='[\"manager\"]'",
    )
    dev_inbox: bool = Field(
        default=False,
        description="Development: run a local SMTP sink on smtp_host:smtp_port and a page showing "
        "what it caught (make run turns it on)",
    )
    dev_inbox_http_port: int = Field(default=8025, ge=1, le=65535)
