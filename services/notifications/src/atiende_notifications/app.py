"""Notifications' composition root: builds the SMTP mailer and the dispatcher, and hands them,
the routes and the consumers to the runtime. Nothing imports this module."""

from __future__ import annotations

from fastapi import FastAPI

from atiende_contracts import (
    NotificationDeferred,
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
    WebhookEndpointDisabled,
    WebhookEndpointEnabled,
)
from atiende_runtime.service import ServiceRuntime, Worker, build_app
from atiende_runtime.services import ServiceDefinition

from .adapters.mail import SmtpMailer
from .adapters.sms import TwilioSms
from .adapters.webhooks import HttpWebhookSender
from .entrypoints.consumers import consumers, use_endpoints_cache
from .entrypoints.http import ROUTERS
from .entrypoints.workers import dispatcher, endpoints_watch
from .repository import EndpointsCache
from .settings import NotificationsSettings
from .usecases import Senders

PUBLISHES = (
    NotificationSent,
    NotificationFailed,
    NotificationSuppressed,
    NotificationDeferred,
    WebhookEndpointEnabled,
    WebhookEndpointDisabled,
)
"""Every event notifications emits (its unit of work refuses any other)."""


def create_app(config: NotificationsSettings | None = None) -> FastAPI:
    settings = config or NotificationsSettings()
    token = settings.sms_auth_token
    mailer = SmtpMailer.from_settings(settings)
    endpoints = EndpointsCache()
    use_endpoints_cache(settings, endpoints)
    senders = Senders(
        email=mailer,
        sms=TwilioSms(
            base_url=settings.sms_base_url,
            account_sid=settings.sms_account_sid,
            auth_token=token.get_secret_value() if token else "",
            sender=settings.sms_sender,
        )
        if settings.sms_base_url
        else None,
        webhook=HttpWebhookSender(
            timeout=settings.webhook_timeout, allow_private=settings.webhook_allow_private
        ),
    )

    def workers(runtime: ServiceRuntime[NotificationsSettings]) -> list[Worker]:
        started: list[Worker] = []
        if settings.dev_inbox:
            # imported only when asked for: aiosmtpd is a development dependency
            from .entrypoints.devinbox import DevInbox

            started.append(
                DevInbox(settings.smtp_host, settings.smtp_port, settings.dev_inbox_http_port)
            )
        # stopped in reverse order: the dispatcher first, then the mailer's kept connections
        return [*started, endpoints_watch(runtime, endpoints), mailer, dispatcher(runtime, senders)]

    return build_app(
        settings,
        package="atiende_notifications",
        title="Atiende notifications",
        routers=ROUTERS,
        consumers=consumers,
        publishes=PUBLISHES,
        workers=workers,
    )


service = ServiceDefinition(
    name="notifications",
    package="atiende_notifications",
    settings=NotificationsSettings,
    create_app=create_app,
    consumers=consumers,
    publishes=PUBLISHES,
)
