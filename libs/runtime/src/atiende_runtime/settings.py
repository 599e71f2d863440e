"""Settings every service reads from the environment (prefix ATIENDE_), with local defaults."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from atiende_contracts.topology import DEFAULT_NAMESPACE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATIENDE_", extra="ignore")

    default_port: ClassVar[int] = 8000
    """Each service's own HTTP port when ATIENDE_HTTP_PORT is unset (intake 8001 … indicators 8005)."""

    service_name: str = "atiende"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/atiende"
    database_pool_min: int = Field(default=2, ge=1)
    database_pool_max: int = Field(default=10, ge=1)
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    broker_namespace: str = Field(
        default=DEFAULT_NAMESPACE,
        pattern=r"^[a-z][a-z0-9_-]*$",
        description="Prefix of every exchange and queue; tests use their own to stay isolated.",
    )
    delivery_limit: int = Field(
        default=5,
        ge=1,
        description="Redeliveries before a message is parked (limit + 1 deliveries)",
    )
    prefetch: int = Field(default=32, ge=1)
    batch_size: int = Field(
        default=32,
        ge=1,
        description="Most deliveries a consumer handles in one transaction (at most the prefetch)",
    )
    trace_queries: bool = Field(
        default=False, description="A span per SQL query (costly; for debugging a slow path)"
    )
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    log_level: str = "INFO"
    relay_batch_size: int = Field(default=200, ge=1)
    relay_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between outbox polls when no NOTIFY arrives"
    )
    outbox_retention_hours: float = Field(
        default=168,
        gt=0,
        description="Published outbox rows are deleted after this long (they may hold personal data)",
    )
    idempotency_ttl_hours: float = Field(
        default=24,
        gt=0,
        description="An Idempotency-Key (and the answer stored for it) expires after this long",
    )
    jwt_secret: str | None = Field(
        default=None, description="HS256 secret; when unset, authentication is disabled (dev only)"
    )
    jwt_audience: str = "atiende"
    shutdown_timeout: float = 15.0
    startup_timeout_seconds: float = Field(
        default=300,
        gt=0,
        description="How long startup waits for PostgreSQL and RabbitMQ before the process exits",
    )

    @property
    def db_schema(self) -> str:
        """Each service owns one PostgreSQL schema, named after it."""
        return self.service_name

    @property
    def port(self) -> int:
        return self.http_port or self.default_port
