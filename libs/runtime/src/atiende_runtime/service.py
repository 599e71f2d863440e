"""Wiring shared by every service: one FastAPI app per service, running its HTTP routes, its
FastStream consumers, its outbox relay and any background workers in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, QueueType, RabbitBroker, RabbitMessage, RabbitQueue
from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from atiende_contracts import EventData, Names

from . import db
from .broker import Topology
from .inbox import Consumers, Subscription, handle_delivery
from .logs import configure_logging
from .outbox import OutboxRelay
from .problems import install_problem_handlers, problem_response
from .settings import Settings
from .telemetry import setup_tracing, shutdown_tracing
from .uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (
    OSError,  # refused or reset while PostgreSQL restarts
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a connection that broke mid-operation
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)
"""Errors that say the database is unreachable, not that the message or the handler is wrong."""

DATABASE_RETRY_SECONDS = 60.0
"""How long a delivery is retried in place while the database is unreachable."""


class Worker(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


S = TypeVar("S", bound=Settings)


class ServiceRuntime(Generic[S]):
    """Everything a service's routes and handlers need at run time, built in one place;
    `ServiceRuntime[IntakeSettings]` types `runtime.settings`."""

    def __init__(
        self,
        settings: S,
        package: str,
        consumers: Consumers[S] | None = None,
        publishes: Sequence[type[EventData]] | None = None,
    ) -> None:
        self.settings = settings
        self.package = package
        self.consumers: Consumers[S] = consumers or Consumers()
        self.publishes = (
            frozenset(model.event_type for model in publishes) if publishes is not None else None
        )
        self.names = Names(settings.broker_namespace)
        self.source = f"/atiende/{settings.service_name}"
        self._pool: asyncpg.Pool | None = None
        self.topology = Topology(
            settings.amqp_url, self.names, delivery_limit=settings.delivery_limit
        )
        provider = setup_tracing(settings.service_name)
        self.broker = RabbitBroker(
            settings.amqp_url,
            app_id=settings.service_name,
            default_channel=Channel(prefetch_count=settings.prefetch),
            middlewares=[RabbitTelemetryMiddleware(tracer_provider=provider)],
            graceful_timeout=settings.shutdown_timeout,
            logger=logging.getLogger(f"atiende.{settings.service_name}.broker"),
        )
        self.relay: OutboxRelay | None = None
        self.workers: list[Worker] = []
        for sub in self.consumers.subscriptions:
            self._subscribe(sub)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("service not started")
        return self._pool

    def queue_name(self, sub: Subscription[Any]) -> str:
        return self.names.queue(self.settings.service_name, sub.name)

    def consumer_name(self, sub: Subscription[Any]) -> str:
        return f"{self.settings.service_name}.{sub.name}"

    def _subscribe(self, sub: Subscription[Any]) -> None:
        # The queue is declared (with its bindings, delivery limit and parking queue) by Topology;
        # FastStream only consumes it.
        queue = RabbitQueue(self.queue_name(sub), queue_type=QueueType.QUORUM, declare=False)
        consumer = self.consumer_name(sub)

        async def on_message(message: RabbitMessage) -> None:
            raw = message.raw_message
            delay, waited = 0.5, 0.0
            while True:
                try:
                    await handle_delivery(
                        self.pool,
                        consumer=consumer,
                        source=self.source,
                        subscription=sub,
                        headers=dict(raw.headers or {}),
                        body=raw.body,
                        settings=self.settings,
                        publishes=self.publishes,
                    )
                    return
                except DATABASE_UNAVAILABLE:
                    # Not the message's fault: retried here, still unacknowledged, so a database
                    # restart does not use up its delivery limit and park a good event. (A commit
                    # cut off mid-way is safe to retry: the inbox drops the repeat.)
                    if waited >= DATABASE_RETRY_SECONDS:
                        raise
                    await asyncio.sleep(delay)
                    waited += delay
                    delay = min(delay * 2, 5.0)

        on_message.__name__ = f"handle_{sub.name.replace('-', '_')}"
        self.broker.subscriber(
            queue, ack_policy=AckPolicy.NACK_ON_ERROR, decoder=_raw_body, title=consumer
        )(on_message)

    def unit_of_work(self) -> contextlib.AbstractAsyncContextManager[UnitOfWork]:
        return unit_of_work(self.pool, self.source, self.publishes)

    async def start(self) -> None:
        s = self.settings
        await db.ensure_database(s.database_url)
        await db.migrate(s.database_url, s.db_schema, self.package)
        self._pool = await db.create_pool(
            s.database_url, s.db_schema, min_size=s.database_pool_min, max_size=s.database_pool_max
        )
        await self.topology.connect()
        for sub in self.consumers.subscriptions:
            await self.topology.declare_consumer_queue(self.queue_name(sub), sub.binding_keys)
        self.relay = OutboxRelay(
            self.pool,
            self.topology,
            database_url=s.database_url,
            schema=s.db_schema,
            batch_size=s.relay_batch_size,
            poll_interval=s.relay_poll_interval,
            retention_hours=s.outbox_retention_hours,
        )
        await self.relay.start()
        for worker in self.workers:
            await worker.start()
        await self.broker.start()
        log.info(
            "service started",
            extra={"queues": [self.queue_name(x) for x in self.consumers.subscriptions]},
        )
        if not s.jwt_secret:
            log.warning("authentication is OFF: set ATIENDE_JWT_SECRET to require bearer tokens")

    async def stop(self) -> None:
        # Stop taking messages first (in-flight handlers finish and ack), then the relay.
        with contextlib.suppress(Exception):
            await self.broker.stop()
        for worker in reversed(self.workers):
            with contextlib.suppress(Exception):
                await worker.stop()
        if self.relay is not None:
            await self.relay.stop()
        with contextlib.suppress(Exception):
            await self.topology.close()
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pool.close(), timeout=self.settings.shutdown_timeout)
        shutdown_tracing()
        log.info("service stopped")

    async def ready(self) -> dict[str, bool]:
        checks = {"database": False, "broker": False}
        with contextlib.suppress(Exception):
            async with self.pool.acquire(timeout=2) as conn:
                checks["database"] = await conn.fetchval("SELECT true") is True
        checks["broker"] = self.topology.is_connected and await _broker_ping(self.broker)
        return checks


async def _broker_ping(broker: RabbitBroker) -> bool:
    try:
        return bool(await broker.ping(timeout=2))
    except Exception:
        return False


async def _raw_body(message: Any) -> bytes:
    """Hand handlers the raw body: parsing and validation happen in the inbox, where a failure is
    counted and the message is requeued, then parked after the delivery limit."""
    return bytes(message.body)


def build_app(
    settings: S,
    *,
    package: str,
    title: str,
    routers: Sequence[APIRouter] = (),
    consumers: Consumers[S] | None = None,
    publishes: Sequence[type[EventData]] | None = None,
    workers: Callable[[ServiceRuntime[S]], list[Worker]] | None = None,
    configure: Callable[[FastAPI, ServiceRuntime[S]], None] | None = None,
) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level)
    runtime = ServiceRuntime(settings, package, consumers, publishes)
    if workers is not None:
        runtime.workers = workers(runtime)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    install_problem_handlers(app)

    @app.middleware("http")
    async def log_requests(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        if request.url.path not in {"/healthz", "/readyz", "/metrics"}:
            log.info(
                "http request",
                extra={
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        return response

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Database and broker are reachable")
    async def readyz(request: Request) -> Response:
        checks = await runtime.ready()
        if all(checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        failing = ", ".join(k for k, ok in checks.items() if not ok)
        return problem_response(request, 503, "Service Unavailable", f"Not reachable: {failing}")

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    if configure is not None:
        configure(app, runtime)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=setup_tracing(settings.service_name),
        excluded_urls="healthz,readyz,metrics",
    )
    return app


def runtime_of(request: Request) -> ServiceRuntime[Any]:
    """The runtime of the app serving `request`; a service's entrypoints wrap this in a typed
    dependency (`ServiceRuntime[IntakeSettings]`)."""
    runtime: ServiceRuntime[Any] = request.app.state.runtime
    return runtime
