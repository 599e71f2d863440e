"""`atiende` command: `atiende serve SERVICE`, `atiende migrate SERVICE`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from typing import Any

SERVICES = ("intake", "routing", "surveys", "notifications", "indicators")


def _service_module(service: str) -> Any:
    return importlib.import_module(f"atiende_{service}.app")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atiende", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate, then run a service (HTTP + consumers + relay)")
    serve.add_argument("service", choices=SERVICES)
    migrate = sub.add_parser("migrate", help="create the database if missing and apply migrations")
    migrate.add_argument("service", choices=[*SERVICES, "all"])
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

        for service in SERVICES if args.service == "all" else (args.service,):
            module = _service_module(service)
            settings = module.settings()
            asyncio.run(db.ensure_database(settings.database_url))
            applied = asyncio.run(
                db.migrate(settings.database_url, settings.db_schema, f"atiende_{service}")
            )
            print(f"{service}: {len(applied)} migration(s) applied")
        return 0

    import uvicorn

    module = _service_module(args.service)
    settings = module.settings()
    app = module.create_app(settings)
    host = settings.http_host
    print(f"atiende {args.service} listening on http://{host}:{settings.port}", file=sys.stderr)
    uvicorn.run(
        app,
        host=host,
        port=settings.port,
        log_config=None,  # our JSON logging is already configured
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
