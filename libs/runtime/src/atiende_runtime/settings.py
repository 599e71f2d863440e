"""Settings every service reads from the environment (prefix ATIENDE_), with local defaults."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from atiende_contracts.topology import DEFAULT_NAMESPACE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATIENDE_", extra="ignore")

    default_port: ClassVar[int] = 8000
    """Each service's own HTTP port when ATIENDE_HTTP_PORT is unset (intake 8001 … indicators 8005)."""

    service_name: str = "atiende"
    database_url: str = Field(
        default="postgresql://atiende_{service}@127.0.0.1:5432/atiende",
        description=(
            "The service's own PostgreSQL role and database (its pool; may be PgBouncer);"
            " {service} stands for the service's name"
        ),
    )
    database_direct_url: str | None = Field(
        default=None,
        description=(
            "Same role, straight to PostgreSQL (or a session-mode pool): LISTEN and migrations;"
            " unset: database_url"
        ),
    )
    database_admin_url: str | None = Field(
        default=None,
        description=(
            "Administrative URL: when set, startup and `atiende migrate` create the database, the"
            " service's role and its schema owned by that role; never give it to a service in"
            " production"
        ),
    )
    database_statement_cache_size: int = Field(
        default=100,
        ge=0,
        description="asyncpg's prepared-statement cache per connection; 0 behind PgBouncer",
    )
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
    auth_mode: Literal["oidc", "hs256", "off"] | None = Field(
        default=None,
        description="oidc, hs256 or off; unset: hs256 if a secret is set, oidc if an issuer is, "
        "else the service refuses to start (atiende_runtime.auth)",
    )
    oidc_issuer: str | None = Field(
        default=None, description="The OpenID Connect issuer URL tokens must name (`iss`)"
    )
    oidc_jwks_url: str | None = Field(
        default=None,
        description="The issuer's JWKS; unset: the `jwks_uri` of its discovery document",
    )
    oidc_jwks_cache_seconds: float = Field(
        default=300, gt=0, description="How long fetched signing keys are used before refetching"
    )
    oidc_jwks_cooldown_seconds: float = Field(
        default=30,
        ge=0,
        description="Least time between refetches caused by a token with an unknown key id",
    )
    oidc_http_timeout_seconds: float = Field(
        default=5, gt=0, description="Timeout of each request to the issuer"
    )
    jwt_secret: str | None = Field(
        default=None,
        description="HS256 shared secret (mode hs256, development); at least 32 bytes",
    )
    jwt_audience: str = Field(default="atiende", min_length=1, description="Required `aud`")
    jwt_roles_claim: str = Field(
        default="roles",
        pattern=r"^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$",
        description="Dotted path of the roles claim, e.g. realm_access.roles (Keycloak)",
    )
    jwt_subject_claim: str = Field(
        default="sub",
        pattern=r"^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$",
        description="Dotted path of the claim that names the caller (recorded as the actor)",
    )
    jwt_leeway_seconds: float = Field(
        default=30, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat"
    )
    shutdown_timeout: float = 15.0
    startup_timeout_seconds: float = Field(
        default=300,
        gt=0,
        description="How long startup waits for PostgreSQL and RabbitMQ before the process exits",
    )

    @model_validator(mode="after")
    def _own_database_urls(self) -> Settings:
        """One shared value (`postgresql://atiende_{service}@db/atiende`) gives each service
        its own role's URL; a per-service value without the placeholder is used as it is."""
        self.database_url = self.database_url.replace("{service}", self.service_name)
        if self.database_direct_url is not None:
            self.database_direct_url = self.database_direct_url.replace(
                "{service}", self.service_name
            )
        return self

    @property
    def db_schema(self) -> str:
        """Each service owns one PostgreSQL schema, named after it."""
        return self.service_name

    @property
    def session_database_url(self) -> str:
        """The URL for what needs a session of its own (LISTEN, the migrations' advisory lock)."""
        return self.database_direct_url or self.database_url

    @property
    def port(self) -> int:
        return self.http_port or self.default_port
