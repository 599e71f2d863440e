"""`atiende` command: `atiende serve SERVICE`, `atiende migrate SERVICE`, `atiende parked`.

The services are the installed `atiende.services` entry points (atiende_runtime.services)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .services import service, service_names


def main(argv: list[str] | None = None) -> int:
    services_ = service_names()
    parser = argparse.ArgumentParser(prog="atiende", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate, then run a service (HTTP + consumers + relay)")
    serve.add_argument("service", choices=services_)
    migrate = sub.add_parser(
        "migrate",
        help="apply migrations; with an administrative URL, create the database if missing and"
        " each service's role owning its schema",
    )
    migrate.add_argument("service", choices=[*services_, "all"])
    migrate.add_argument(
        "--admin-url",
        help="administrative PostgreSQL URL (default: ATIENDE_DATABASE_ADMIN_URL); without one,"
        " each service's own URL applies its migrations",
    )
    parked = sub.add_parser("parked", help="inspect or replay a consumer queue's parked messages")
    parked.add_argument("action", choices=["list", "replay"])
    parked.add_argument("queue", help="the consumer queue, e.g. atiende.routing.assign-case")
    parked.add_argument("--limit", type=int, default=100)
    args = parser.parse_args(argv)

    if args.command == "parked":
        from .parking import list_parked, replay_parked
        from .settings import Settings

        amqp_url = Settings().amqp_url
        if args.action == "list":
            for item in asyncio.run(list_parked(amqp_url, args.queue, args.limit)):
                print(item)
        else:
            count = asyncio.run(replay_parked(amqp_url, args.queue, args.limit))
            print(f"{count} message(s) moved back to {args.queue}")
        return 0

    if args.command == "migrate":
        from . import db

        for name in services_ if args.service == "all" else (args.service,):
            definition = service(name)
            settings = definition.settings()
            admin_url = args.admin_url or settings.database_admin_url
            own_url = settings.session_database_url
            if admin_url:
                asyncio.run(db.ensure_database(admin_url))
                applied = asyncio.run(
                    db.migrate(
                        admin_url,
                        settings.db_schema,
                        definition.package,
                        owner=db.role_of(own_url),
                        owner_password=db.password_of(own_url),
                    )
                )
            else:
                applied = asyncio.run(db.migrate(own_url, settings.db_schema, definition.package))
            print(f"{name}: {len(applied)} migration(s) applied")
        return 0

    import uvicorn

    definition = service(args.service)
    settings = definition.settings()
    app = definition.create_app(settings)
    host = settings.http_host
    print(f"atiende {args.service} listening on http://{host}:{settings.port}", file=sys.stderr)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=settings.port,
            log_config=None,  # our JSON logging is already configured
            loop="uvloop",  # both come with uvicorn[standard]
            http="httptools",
            access_log=False,
            timeout_graceful_shutdown=int(settings.shutdown_timeout),
        )
    )
    gave_up: list[BaseException] = []

    def give_up(exc: BaseException) -> None:
        # startup waits in the background while HTTP answers the probes; when it gives up, the
        # server stops and the process exits with uvicorn's "startup failed" code
        gave_up.append(exc)
        server.should_exit = True

    app.state.runtime.on_startup_failure = give_up
    server.run()
    return STARTUP_FAILED if gave_up or not server.started else 0


STARTUP_FAILED = 3
"""Exit status when the service could not start (uvicorn's own for a failed startup)."""


if __name__ == "__main__":
    sys.exit(main())
