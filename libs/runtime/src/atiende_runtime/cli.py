"""`atiende` command: `atiende serve SERVICE`, `atiende migrate SERVICE`, `atiende parked`,
`atiende token` (a development token) and `atiende dev-secret`.

The services are the installed `atiende.services` entry points (atiende_runtime.services)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import sys
from datetime import timedelta
from pathlib import Path

from .services import service, service_names

DEV_SECRET_FILE = Path(".atiende/dev-secret")
"""The development signing secret `make run` and `atiende token` share (git-ignored)."""

EX_CONFIG = 78
"""sysexits.h: a configuration error; deploy/restart.sh does not restart a service for it."""


def dev_secret(path: Path = DEV_SECRET_FILE) -> str:
    """The development HS256 secret in `path`, made (random, readable by its owner only) the
    first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()


def duration(text: str) -> timedelta:
    """`90s`, `30m`, `8h`, `7d` (a bare number is seconds)."""
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration like 30m, 8h or 7d: {text!r}")
    unit = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    return timedelta(**{unit[match[2]]: int(match[1])})


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
    token = sub.add_parser(
        "token",
        help="print a development bearer token (HS256) signed with the services' secret",
        description="The secret is ATIENDE_JWT_SECRET if set, else .atiende/dev-secret (made "
        "on first use; `make run` gives the same one to the services).",
    )
    token.add_argument("--sub", required=True, help="who the token is for, e.g. ana@example.com")
    token.add_argument(
        "--role", action="append", required=True, help="a role (repeat for several), e.g. agent"
    )
    token.add_argument("--ttl", type=duration, default=timedelta(hours=8), help="default 8h")
    token.add_argument("--secret-file", type=Path, help="read the secret from this file instead")
    sub.add_parser(
        "dev-secret",
        help="print the development signing secret, making .atiende/dev-secret the first time",
    )
    args = parser.parse_args(argv)

    if args.command in ("token", "dev-secret"):
        from .auth import mint_token
        from .settings import Settings

        if args.command == "dev-secret":
            print(dev_secret())
            return 0
        if args.secret_file is not None:
            secret = args.secret_file.read_text().strip()
        else:
            secret = os.environ.get("ATIENDE_JWT_SECRET") or dev_secret()
        audience = Settings().jwt_audience
        print(
            mint_token(secret, subject=args.sub, roles=args.role, audience=audience, ttl=args.ttl)
        )
        return 0

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

    from .auth import AuthConfigError

    definition = service(args.service)
    settings = definition.settings()
    try:
        app = definition.create_app(settings)
    except AuthConfigError as exc:
        print(f"atiende {args.service}: refusing to start: {exc}", file=sys.stderr)
        return EX_CONFIG
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
