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

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection, AbstractRobustQueue
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atiende_contracts import EventData, Names

from . import db
from .auth import Authenticator, authenticator_for
from .broker import Topology, consumer_queue_arguments
from .inbox import BatchHandler, Consumers, Subscription
from .logs import configure_logging
from .openapi import install_exact_openapi
from .outbox import OutboxRelay
from .problems import install_problem_handlers, problem_response, validation_problem
from .settings import Settings
from .telemetry import setup_tracing, shutdown_tracing
from .uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("atiende.consumer")

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

DEPENDENCY_UNAVAILABLE = (
    *DATABASE_UNAVAILABLE,  # OSError covers RabbitMQ refused, reset or restarting too
    asyncpg.TooManyConnectionsError,  # PostgreSQL at max_connections: others will let go
    # the deployment's migrate step has not yet created the database, the service's role (or
    # its password) or handed it the schema: it runs beside the services, not always first
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidPasswordError,
    asyncpg.InsufficientPrivilegeError,
)
"""Errors at startup that say "wait and try again", not "this will never work". Those of a
misconfiguration (a wrong password for good) end the same way after `startup_timeout_seconds`,
having said what they are at every attempt in the log and in /readyz."""

STARTUP_FIRST_DELAY = 0.5
STARTUP_MAX_DELAY = 15.0
"""Startup retries wait 0.5 s, 1 s, 2 s … at most 15 s between attempts."""


class NotStarted(RuntimeError):
    """The database pool was asked for before startup finished: a request that arrives while
    the service still waits for PostgreSQL or RabbitMQ answers 503, not 500."""

    def __init__(self, waiting_for: str | None) -> None:
        super().__init__(f"service not started (waiting for: {waiting_for or 'startup'})")
        self.waiting_for = waiting_for


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
        # refuses (AuthConfigError) when authentication is neither configured nor turned off by name
        self.authenticator: Authenticator = authenticator_for(settings)
        self.consumers: Consumers[S] = consumers or Consumers()
        self.publishes = (
            frozenset(model.event_type for model in publishes) if publishes is not None else None
        )
        self.names = Names(settings.broker_namespace)
        self.source = f"/atiende/{settings.service_name}"
        self._pool: asyncpg.Pool | None = None
        self._starting: asyncio.Task[None] | None = None
        self.started = False
        self.waiting_for: str | None = None
        """While starting: what startup is waiting for ("database" or "broker")."""
        self.last_error: str | None = None
        self.on_startup_failure: Callable[[BaseException], None] | None = None
        """Called when startup gives up (the CLI stops the HTTP server and exits with 3)."""
        self.topology = Topology(
            settings.amqp_url, self.names, delivery_limit=settings.delivery_limit
        )
        setup_tracing(settings.service_name, trace_queries=settings.trace_queries)
        self._consuming: AbstractRobustConnection | None = None
        self._queues: list[tuple[AbstractRobustQueue, str]] = []  # (queue, consumer tag)
        self._handlers: list[tuple[Subscription[Any], BatchHandler]] = []
        self._in_flight: set[asyncio.Task[Any]] = set()
        self.relay: OutboxRelay | None = None
        self.workers: list[Worker] = []
        for sub in self.consumers.subscriptions:
            self._subscribe(sub)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None or not self.started:
            raise NotStarted(self.waiting_for)
        return self._pool

    def queue_name(self, sub: Subscription[Any]) -> str:
        return self.names.queue(self.settings.service_name, sub.name)

    def consumer_name(self, sub: Subscription[Any]) -> str:
        return f"{self.settings.service_name}.{sub.name}"

    def _subscribe(self, sub: Subscription[Any]) -> None:
        self._handlers.append(
            (
                sub,
                BatchHandler(
                    lambda: self.pool,
                    consumer=self.consumer_name(sub),
                    source=self.source,
                    subscription=sub,
                    settings=self.settings,
                    publishes=self.publishes,
                    max_size=min(self.settings.batch_size, self.settings.prefetch),
                    unavailable=DATABASE_UNAVAILABLE,
                    retry_seconds=DATABASE_RETRY_SECONDS,
                ),
            )
        )

    async def _start_consuming(self) -> None:
        """Consume every queue on one robust connection (one channel, with the prefetch, per
        queue): after a broker restart aio-pika reopens them and consumes again by itself.

        Consumed with aio-pika directly rather than through a framework's per-message middleware
        stack: per delivery, one span, one batch slot, one ack after the commit (or one nack)."""
        self._consuming = await aio_pika.connect_robust(
            self.settings.amqp_url,
            # try again every second (aio-pika's default is 5 s): consumers back soon after a
            # broker restart
            reconnect_interval=1.0,
            client_properties={
                "connection_name": f"{self.names.namespace}-{self.settings.service_name}-consumers"
            },
        )
        for sub, batch in self._handlers:
            channel = await self._consuming.channel()
            await channel.set_qos(prefetch_count=self.settings.prefetch)
            name = self.queue_name(sub)
            # declared as Topology declares it, so a reopened channel may declare it again
            queue = await channel.declare_queue(
                name,
                durable=True,
                arguments=consumer_queue_arguments(self.names, name, self.settings.delivery_limit),
            )
            tag = await queue.consume(self._on_message(name, batch))
            self._queues.append((queue, tag))

    def _on_message(
        self, queue: str, batch: BatchHandler
    ) -> Callable[[AbstractIncomingMessage], Any]:
        async def on_message(message: AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._in_flight.add(task)
            try:
                headers = dict(message.headers or {})
                parent = propagate.extract({k: v for k, v in headers.items() if isinstance(v, str)})
                with _tracer.start_as_current_span(
                    f"{queue} process",
                    context=parent,
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "rabbitmq",
                        "messaging.operation": "process",
                        "messaging.destination.name": queue,
                        "messaging.message.id": str(message.message_id or ""),
                        "messaging.rabbitmq.destination.routing_key": message.routing_key or "",
                    },
                ):
                    try:
                        # returns once the delivery's batch committed; raises when the delivery
                        # itself failed, so it is nacked, redelivered, and parked at the limit
                        await batch.submit(
                            headers, message.body, redelivered=bool(message.redelivered)
                        )
                    except Exception:
                        with contextlib.suppress(Exception):  # a closed channel requeues it
                            await message.nack(requeue=True)
                        return
                with contextlib.suppress(Exception):
                    await message.ack()
            finally:
                if task is not None:
                    self._in_flight.discard(task)

        return on_message

    async def _stop_consuming(self) -> None:
        # stop taking messages, let the handlers in flight finish and ack, then close
        for queue, tag in self._queues:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)
        self._queues.clear()
        if self._in_flight:
            await asyncio.wait(list(self._in_flight), timeout=self.settings.shutdown_timeout)
        if self._consuming is not None:
            with contextlib.suppress(Exception):
                await self._consuming.close()

    def unit_of_work(self) -> contextlib.AbstractAsyncContextManager[UnitOfWork]:
        return unit_of_work(self.pool, self.source, self.publishes)

    async def _connect(self) -> None:
        s = self.settings
        self.waiting_for = "database"
        if s.database_admin_url:
            # create the database, the service's role and its schema owned by the role
            await db.ensure_database(s.database_admin_url)
            await db.migrate(
                s.database_admin_url,
                s.db_schema,
                self.package,
                owner=db.role_of(s.session_database_url),
                owner_password=db.password_of(s.session_database_url),
            )
        else:
            await db.migrate(s.session_database_url, s.db_schema, self.package)
        self._pool = await db.create_pool(
            s.database_url,
            s.db_schema,
            min_size=s.database_pool_min,
            max_size=s.database_pool_max,
            statement_cache_size=s.database_statement_cache_size,
        )
        self.waiting_for = "broker"
        await self.topology.connect()
        for sub in self.consumers.subscriptions:
            await self.topology.declare_consumer_queue(self.queue_name(sub), sub.binding_keys)
        self.waiting_for = None

    async def _disconnect(self) -> None:
        """Undo a half-done `_connect` before the next attempt."""
        with contextlib.suppress(Exception):
            await self.topology.close()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.terminate()

    async def _connect_patiently(self) -> None:
        """Connect to PostgreSQL and RabbitMQ, waiting with capped exponential backoff while
        either is down, restarting or full (a fault, a deploy or a cluster restart starts many
        services at once); gives up, raising the last error, after `startup_timeout_seconds`."""
        deadline = time.monotonic() + self.settings.startup_timeout_seconds
        delay = STARTUP_FIRST_DELAY
        attempt = 1
        while True:
            try:
                await self._connect()
                if attempt > 1:
                    log.info("dependencies reachable; starting", extra={"attempts": attempt})
                return
            except DEPENDENCY_UNAVAILABLE as exc:
                self.last_error = repr(exc)
                await self._disconnect()
                left = deadline - time.monotonic()
                if left <= 0:
                    log.error(
                        "dependencies still unreachable; giving up",
                        extra={"attempts": attempt, "error": repr(exc)},
                    )
                    raise
                wait = min(delay, left)
                log.warning(
                    "dependencies unreachable; retrying",
                    extra={
                        "waiting_for": self.waiting_for,
                        "attempt": attempt,
                        "retry_in_seconds": wait,
                        "error": repr(exc),
                    },
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, STARTUP_MAX_DELAY)
                attempt += 1

    async def start(self) -> None:
        """Connect (waiting while PostgreSQL or RabbitMQ is unreachable), then start the relay,
        the workers and the consumers; the service is ready when this returns."""
        s = self.settings
        await self._connect_patiently()
        self.relay = OutboxRelay(
            self._connected_pool(),
            self.topology,
            database_url=s.session_database_url,
            schema=s.db_schema,
            batch_size=s.relay_batch_size,
            poll_interval=s.relay_poll_interval,
            retention_hours=s.outbox_retention_hours,
        )
        await self.relay.start()
        self.started = True  # the workers and handlers below use `pool`
        for worker in self.workers:
            await worker.start()
        await self._start_consuming()
        log.info(
            "service started",
            extra={"queues": [self.queue_name(x) for x in self.consumers.subscriptions]},
        )
        if self.authenticator.mode == "off":
            log.warning(
                "AUTHENTICATION IS OFF (ATIENDE_AUTH_MODE=off): every request, from anyone, acts "
                "with every role. Never run this way where others can reach the service."
            )
        else:
            log.info("authentication on", extra={"auth_mode": self.authenticator.mode})

    def _connected_pool(self) -> asyncpg.Pool:
        assert self._pool is not None
        return self._pool

    def begin(self) -> None:
        """Start in the background, so the HTTP server answers /healthz (alive) and /readyz (503,
        naming what startup waits for) meanwhile. `wait_started` awaits the outcome; with nobody
        awaiting it, a startup that gives up calls `on_startup_failure`."""
        self._starting = asyncio.create_task(self.start(), name="service-start")
        self._starting.add_done_callback(self._started_or_failed)

    def _started_or_failed(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None and self.on_startup_failure is not None:
            self.on_startup_failure(exc)

    async def wait_started(self) -> None:
        """Until `begin`'s startup finished; raises what made it give up."""
        if self._starting is None:
            raise RuntimeError("begin() was not called")
        await asyncio.shield(self._starting)

    async def stop(self) -> None:
        if self._starting is not None and not self._starting.done():
            # stopped while still waiting for a dependency: give up waiting
            self._starting.cancel()
            with contextlib.suppress(BaseException):
                await self._starting
        # Stop taking messages first (in-flight handlers finish and ack), then the relay.
        with contextlib.suppress(Exception):
            await self._stop_consuming()
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
        if not self.started:
            return checks
        with contextlib.suppress(Exception):
            async with self.pool.acquire(timeout=2) as conn:
                checks["database"] = await conn.fetchval("SELECT true") is True
        consuming = self._consuming
        checks["broker"] = (
            self.topology.is_connected
            and consuming is not None
            and not consuming.is_closed
            and consuming.connected.is_set()
        )
        return checks


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
        runtime.begin()  # HTTP serves the probes while startup waits for its dependencies
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title,
        version="0.1.0",
        lifespan=lifespan,
        # RequestTelemetry below makes the one span per request; FastAPI's own telemetry would
        # wrap every request again (and, with operation_spans, add spans inside it)
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    install_dependency_handlers(app)

    app.add_middleware(
        RequestTelemetry,
        tracer=setup_tracing(
            settings.service_name, trace_queries=settings.trace_queries
        ).get_tracer("atiende.http"),
    )

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Database and broker are reachable")
    async def readyz(request: Request) -> Response:
        checks = await runtime.ready()
        if all(checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        if not runtime.started:
            waiting = runtime.waiting_for or "startup"
            detail = f"Starting: waiting for the {waiting}" + (
                f" (last error: {runtime.last_error})" if runtime.last_error else ""
            )
            return problem_response(
                request,
                503,
                "Service Unavailable",
                detail,
                headers={"Retry-After": "5"},
                extensions={"checks": checks, "waiting_for": waiting},
            )
        failing = ", ".join(k for k, ok in checks.items() if not ok)
        return problem_response(
            request,
            503,
            "Service Unavailable",
            f"Not reachable: {failing}",
            extensions={"checks": checks},
        )

    @app.exception_handler(NotStarted)
    async def not_started(request: Request, exc: NotStarted) -> Response:
        return problem_response(
            request,
            503,
            "Service Unavailable",
            f"The service is starting (waiting for the {exc.waiting_for or 'startup'})",
            headers={"Retry-After": "5"},
        )

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    if configure is not None:
        configure(app, runtime)
    install_exact_openapi(app)
    return app


RETRY_AFTER_SECONDS = 5


def install_dependency_handlers(app: FastAPI) -> None:
    """Errors that come from PostgreSQL rather than from the request or the code: the database
    out of reach is a 503 the client may retry (never a 500); a value PostgreSQL cannot store
    (U+0000 in text, a number out of range) is the request's fault, a 422. The transaction was
    rolled back either way."""

    async def unavailable(request: Request, exc: Exception) -> Response:
        log.warning("dependency unavailable", extra={"path": request.url.path, "error": repr(exc)})
        return problem_response(
            request,
            503,
            "Service Unavailable",
            "The database is out of reach; retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    async def unstorable(request: Request, exc: Exception) -> Response:
        # PostgreSQL (or asyncpg encoding the argument) does not say which value it was: the
        # body's, or the query's on a read
        where = "query" if request.method in {"GET", "HEAD"} else "body"
        problem = validation_problem(
            [
                {
                    "field": where,
                    "rule": "storable",
                    "message": "a value the database cannot store: text with U+0000 or an "
                    "unpaired surrogate, or a number or date out of range",
                }
            ]
        )
        return problem_response(
            request, 422, problem.title, problem.detail, type_=problem.type, errors=problem.errors
        )

    for kind in DEPENDENCY_UNAVAILABLE:
        app.add_exception_handler(kind, unavailable)
    # both DataErrors: PostgreSQL's (SQLSTATE class 22) and asyncpg's own, raised while encoding
    # an argument; the latter is an InterfaceError, so it must not be taken for an outage
    app.add_exception_handler(asyncpg.DataError, unstorable)
    app.add_exception_handler(asyncpg.exceptions._base.DataError, unstorable)


QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class _RawHeaders(Getter[list[tuple[bytes, bytes]]]):
    """Reads trace headers straight from the ASGI scope's raw (lower-cased) header list: no
    Headers object per request for the two or three keys the propagators ask for."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        name = key.lower().encode("latin-1")
        values = [value.decode("latin-1") for header, value in carrier if header == name]
        return values or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [header.decode("latin-1") for header, _ in carrier]


_RAW_HEADERS = _RawHeaders()


class RequestTelemetry:
    """One SERVER span and one log line per HTTP request (none for the probes), in one pure ASGI
    middleware: the span continues the caller's `traceparent` and is current while the route
    runs and while the line is logged, so both carry the trace id.

    Written here rather than taken from opentelemetry-instrumentation-fastapi, whose middleware
    walked every route to name each span (the stack cost twice the CPU of this one), or from
    FastAPI's own telemetry, which wraps receive and send and keeps per-request state for
    features we do not use (and cost ~15 % more than this). Span name and attributes follow the
    HTTP semantic conventions (`POST /cases`; http.request.method, url.path, url.scheme,
    http.route, http.response.status_code, error status at 5xx)."""

    def __init__(self, app: ASGIApp, tracer: trace.Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in QUIET_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        path = scope["path"]
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        span = self.tracer.start_span(
            method,
            context=propagate.extract(scope["headers"], getter=_RAW_HEADERS),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": path,
                "url.scheme": scope.get("scheme", "http"),
            },
        )
        # records an escaping exception on the span and ends it, after the line below
        with trace.use_span(span, end_on_exit=True):
            try:
                await self.app(scope, receive, send_noting_status)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None)
                if template is not None:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)
                log.info(
                    "http request",
                    extra={
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )


def runtime_of(request: Request) -> ServiceRuntime[Any]:
    """The runtime of the app serving `request`; a service's entrypoints wrap this in a typed
    dependency (`ServiceRuntime[IntakeSettings]`)."""
    runtime: ServiceRuntime[Any] = request.app.state.runtime
    return runtime
