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
    migrate = sub.add_parser("migrate", help="create the database if missing and apply migrations")
    migrate.add_argument("service", choices=[*services_, "all"])
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
            asyncio.run(db.ensure_database(settings.database_url))
            applied = asyncio.run(
                db.migrate(settings.database_url, settings.db_schema, definition.package)
            )
            print(f"{name}: {len(applied)} migration(s) applied")
        return 0

    import uvicorn

    definition = service(args.service)
    settings = definition.settings()
    app = definition.create_app(settings)
    host = settings.http_host
    print(f"atiende {args.service} listening on http://{host}:{settings.port}", file=sys.stderr)
    uvicorn.run(
        app,
        host=host,
        port=settings.port,
        log_config=None,  # our JSON logging is already configured
        loop="uvloop",  # both come with uvicorn[standard]
        http="httptools",
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
