"""Notifications' settings (environment variables ATIENDE_*)."""

from __future__ import annotations

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
    max_attempts: int = Field(default=5, ge=1, description="Send attempts before a delivery fails")
    retry_base_delay: float = Field(
        default=30.0, gt=0, description="Seconds before the first retry; doubles for each next one"
    )
    retry_max_delay: float = Field(default=3600.0, gt=0, description="Longest wait between retries")
    dispatch_batch_size: int = Field(default=20, ge=1)
    dispatch_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between polls for due deliveries without a NOTIFY"
    )
