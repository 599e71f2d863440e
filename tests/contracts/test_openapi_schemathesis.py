"""schemathesis against the OpenAPI document of every service, in process, on real PostgreSQL and
RabbitMQ: every operation it finds (the whole document, so a route added later is walked too)
with every check, then the stateful phase over the links it infers. Zero failures.

How it runs: each service's app is built like the plugin's `service_factory` builds it (its own
database and broker namespace from the plugin's fixtures), and schemathesis drives it through
ASGI, in its own event-loop thread (the app's lifespan, pool and requests all live there).
Authentication is ON (an HS256 secret) and every request carries a token holding every role
some route admits, so every route is reachable; `ignored_auth` then proves that the routes the
document marks as needing a token refuse a request without one.

Deterministic: a fixed seed, derandomised generation, no example database, and a bounded number
of examples per operation.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

import jwt
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import engine
from schemathesis.checks import CHECKS, CheckContext, load_all_checks
from schemathesis.engine import events
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from atiende_runtime.db import service_role, url_as_role
from atiende_runtime.openapi import guarded_routes
from atiende_runtime.services import service

SERVICES = ["intake", "routing", "surveys", "notifications", "indicators"]
SECRET = "contract-tests-secret-of-32-bytes-or-more"
MAX_EXAMPLES = 15
SEED = 20261130

NOT_RUN = {
    "max_response_time": "a timing: no timed assertions in this suite",
    "object_level_authorization": "needs two callers with different data; one token here",
    # managed data is deactivated, never deleted (issue 11): DELETE on a problem threshold, a
    # policy or a procedure sets active=false and the record and its history stay readable, which
    # this check reads as a deleted resource still there. Known debt: those DELETEs should become
    # deactivation commands; then this check runs again.
    "use_after_free": "DELETE deactivates managed data by design (see the comment above)",
}
"""Checks not run, and why; every other check schemathesis has is run."""

BEYOND_JSON_SCHEMA = {
    # an opaque token
    "invalid_cursor": "a cursor is opaque: only one a previous page returned is valid",
    # one value against another
    "after_to": "`from` later than `to`: JSON Schema cannot compare two parameters",
    "day_range": "`from` after `to`, or a series longer than allowed: two parameters compared",
    "after_send_from": "a campaign's send_until must follow its send_from",
    "before_valid_from": "a catalogue entry's valid_to must not precede its valid_from",
    "bad_scale": "a scale's minimum must be below its maximum",
    "duplicate_code": "question codes unique within a questionnaire",
    "no_options": "a choice question needs options (depends on the question's type)",
    "no_dimension": "a SERVQUAL item needs a dimension (depends on the question's type)",
    # a value checked against the world, not against a shape
    "unknown_code": "a catalogue code (motive, cause…) must name an entry: a lookup",
    "not_an_option": "the web form's motive must be one of the catalogue's active motives: a lookup",
    "inactive_code": "a catalogue code must be active on the day: a lookup against the clock",
    "unknown_case": "a case number or id must name a case: a lookup",
    "unknown_customer": "a customer id must name a customer: a lookup",
    "in_the_future": "a campaign window already over, or a contact received later than now: "
    "compared with the clock",
    "template": "a template must compile and render, and an email needs a subject",
    "public": "a webhook host must not be a private, loopback or local address",
    "https": "http webhook URLs only where the deployment allows them (a setting)",
    "zone": "a time zone must be one the IANA database knows",
    "iana": "a team calendar's time zone must be one the IANA database knows: a lookup",
    "reused_with_different_body": "an Idempotency-Key names one request; another body is refused",
    "storable": "text with an unpaired surrogate (valid JSON, not storable UTF-8) or a number "
    "out of its column's range",
    "cause_needs_parent": "a cause needs its motive's code as parent_code, and the kind is a "
    "path parameter: JSON Schema cannot compare a body field with the path",
    "exactly_one_identity": "GET /customers takes exactly one of several query parameters: "
    "OpenAPI states each parameter alone",
    "parent_only_for_cause": "a catalogue entry's parent_code is for a cause only, and the kind "
    "is a path parameter: JSON Schema cannot compare a body field with the path",
    "phone": "a phone number must exist in its country's numbering plan (libphonenumber's "
    "metadata): a lookup, beyond the number's shape the document states",
    "after_valid_from": "a catalogue entry's valid_until must follow its valid_from: two fields "
    "compared",
    "default": "the default routing rule and SLA policy stay active, and `default` is a path "
    "parameter: JSON Schema cannot compare a body field with the path",
    "duplicate": "codes unique within a list of objects, or phrases unique ignoring case: "
    "uniqueItems compares whole items, exactly",
    "never_matches": "a routing rule's conditions contradict each other: items of a list compared",
    "overlap": "a team's opening intervals must not overlap: items of a list compared",
    "order": "an opening interval's start must come before its end: two fields compared",
    "interval": "an out-of-office period must end after it starts: two fields compared",
    "team": "a team id must name a team: a lookup",
    "agent": "an agent id must name an agent: a lookup",
    "exists": "a referenced record (e.g. a questionnaire) must exist: a lookup, not a shape",
}
"""422 rules a schema-valid request can still break, because JSON Schema cannot state them.
A 422 naming only these rules is accepted from a schema-valid request; any other rule is not."""


def token(settings: Any, roles: set[str]) -> str:
    claims = {
        "sub": "contract-tests@example.com",
        "roles": sorted(roles),
        "aud": settings.jwt_audience,
        "exp": int(time.time()) + 3600,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


# The one non-JSON body: a team's holidays as an iCalendar file. Schemathesis cannot make one
# up from `type: string`, so it is given real calendars (a holiday on a generated day).
ICALENDARS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)).map(
    lambda day: (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//atiende//contract tests//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{day.isoformat()}@contract-tests\r\n"
        f"DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{day:%Y%m%d}\r\n"
        "SUMMARY:Fiesta\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
)
schemathesis.openapi.media_type("text/calendar", ICALENDARS)
# and an email as the mail gateway hands it over (registering one media type makes schemathesis
# ask for every non-JSON one)
EMAILS = st.from_regex(r"[a-z]{1,12}", fullmatch=True).map(
    lambda who: (
        f"From: {who}@example.com\r\nTo: atencion@example.com\r\n"
        f"Subject: Consulta de {who}\r\nMessage-ID: <{who}@example.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nMi pedido no ha llegado.\r\n"
    ).encode()
)
schemathesis.openapi.media_type("message/rfc822", EMAILS)


def config(bearer: str) -> schemathesis.Config:
    load_all_checks()
    checks: dict[str, Any] = {
        name: {"enabled": name not in NOT_RUN} for name in CHECKS.get_all_names()
    }
    # a required If-Match left out is a 428 Precondition Required (RFC 6585), the status made
    # for exactly that; schemathesis' default list has the other refusals only
    checks["missing_required_header"] = {
        "enabled": True,
        "expected-statuses": ["400", "401", "403", "406", "415", "422", "428"],
    }
    checks["positive_data_acceptance"] = {"enabled": False}  # run as `positive_data_accepted`
    checks["positive_data_accepted"] = {"enabled": True}
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # hypothesis' health checks judge the generator, not the API: the SLA targets' schema
            # (every priority and clock, each a bounded number) is satisfiable but filters many
            # draws, and "too slow" depends on how busy the machine is
            "suppress-health-check": ["filter_too_much", "too_slow"],
            "workers": 1,
            "cache": {"enabled": False},
            "headers": {"Authorization": f"Bearer {bearer}"},
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # PostgreSQL text cannot hold U+0000; docs/api.md says it is refused (422)
                "allow-x00": False,
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": 10},
            },
            "checks": checks,
        }
    )


@schemathesis.check
def positive_data_accepted(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """schemathesis' positive_data_acceptance, except for a 422 naming only rules in
    BEYOND_JSON_SCHEMA, and a 412: a well-formed If-Match naming a version the resource no
    longer (or never) had is refused whatever the schema says."""
    if response.status_code == 412:
        return None
    if response.status_code == 422:
        content_type = response.headers.get("content-type") or ""
        if isinstance(content_type, list):
            content_type = content_type[0] if content_type else ""
        if content_type.startswith("text/html"):
            # the web form answers with the page again; each message names its rule
            rules = set(re.findall(r'data-rule="([a-z_]+)"', response.text))
        else:
            try:
                rules = {e["rule"] for e in response.json().get("errors") or []}
            except (ValueError, AttributeError, KeyError, TypeError):
                rules = set()
        if rules and rules <= set(BEYOND_JSON_SCHEMA):
            return None
    return positive_data_acceptance(ctx, response, case)


def describe(failure: Any, recorder: Any, case_id: str) -> str:
    """The failure's message, the request and the answer, short enough to read in a list."""
    message = " ".join(failure.message.split())[:200]
    interaction = recorder.interactions.get(case_id)
    if interaction is None or interaction.response is None:
        return message
    request, response = interaction.request, interaction.response
    body = (response.content or b"")[:800].decode(errors="replace")
    sent = (request.body or b"")[:200].decode(errors="replace") if request.body else ""
    return f"{message} <- {request.method} {request.uri} {sent} -> {response.status_code} {body}"


def run(api: Any) -> tuple[list[str], list[str]]:
    """Run every phase the way `st run` does; the failures and the errors, one line each."""
    failures: dict[tuple[str, str, str], str] = {}
    errors: list[str] = []
    for event in engine.from_schema(api).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    key = (event.recorder.label, failure.code, failure.title)
                    failures.setdefault(key, describe(failure, event.recorder, case_id))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.title}: {event.info.message}"[:400])
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            failures.update(
                {
                    ("run", f.code, f.title): " ".join(f.message.split())[:300]
                    for f in event.failures
                }
            )
    lines = [
        f"{op} | {code} {title} | {message}" for (op, code, title), message in failures.items()
    ]
    return sorted(lines), errors


class StartedApp:
    """The app, whose lifespan reports "started" only once the runtime has connected: a service
    starts in the background (its probes answer meanwhile), and schemathesis sends its first
    request as soon as the lifespan says it is up."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_once_started(message: Any) -> None:
            if message["type"] == "lifespan.startup.complete":
                await self.app.state.runtime.wait_started()
            await send(message)

        await self.app(scope, receive, send_once_started)


@pytest.mark.parametrize("name", SERVICES)
def test_schemathesis_finds_nothing(
    name: str, database_url: str, amqp_url: str, broker_namespace: str
) -> None:
    definition = service(name)
    settings = definition.settings(
        # as the plugin's service_factory: the service as its own role, the test's database as
        # the administrative URL (never whatever ATIENDE_DATABASE_ADMIN_URL `make` exports)
        database_url=url_as_role(database_url, service_role(name)),
        database_admin_url=database_url,
        amqp_url=amqp_url,
        broker_namespace=broker_namespace,
        relay_poll_interval=0.2,
        jwt_secret=SECRET,
    )
    app = definition.create_app(settings)
    every_role = set().union(*guarded_routes(app).values())
    try:
        api = schemathesis.openapi.from_asgi(
            "/openapi.json", StartedApp(app), config=config(token(settings, every_role))
        )
        assert len(list(api.get_all_operations())) > 0
        failures, errors = run(api)
    finally:
        asgi.shutdown_lifespans()
    assert failures == [], f"{len(failures)} contract failures:\n" + "\n".join(failures)
    assert errors == [], "\n".join(errors)
