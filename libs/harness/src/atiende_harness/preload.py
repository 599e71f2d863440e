"""Stored cases to start from: the rows that N cases leave behind once they have flowed through
the five services (customers and cases, every service's copy of the case, deliveries, read models,
and the inbox rows of their events), written directly with `INSERT ... SELECT FROM
generate_series`, so a million stored cases take minutes instead of hours. No outbox rows: the
cases are 400 days old, and a long-lived database has deleted their published events after
`ATIENDE_OUTBOX_RETENTION_HOURS` (writing them made each relay's first prune delete a million
rows at startup, and the autovacuum of those dead rows fell in the measured window).

This mirrors the services' migrations on purpose: when a table changes, a column named here that
no longer exists fails the preload loudly, and this file is updated with it. Preloaded cases are
numbered in the previous year, so this year's numbering (what the run opens) is untouched.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import asyncpg


def _inbox(schema: str, consumer: str, producer: str, event: str) -> str:
    return f"""INSERT INTO {schema}.inbox (consumer, event_id, event_type, subject, handled_at)
               SELECT '{consumer}', md5('{producer}.{event}' || i)::uuid,
                      'io.atiende.{event}.v1', md5('case' || i)::uuid::text,
                      now() - interval '400 days'
               FROM generate_series(1, $1) AS i"""


# A case number as intake formats it (`{:06d}`: at least six digits; lpad() alone would cut
# 1000000 to 100000), in the previous year.
_NUMBER = (
    "'AT-' || (extract(year FROM now())::int - 1) || '-'"
    " || lpad(i::text, greatest(6, length(i::text)), '0')"
)

# $1: number of cases. Ids are md5-derived uuids, distinct per table role and case.
_PRELOAD: list[str] = [
    """INSERT INTO intake.customers (id, name, primary_email, created_at)
           SELECT md5('customer' || i)::uuid, 'Precargado ' || i, 'pre-' || i || '@example.com',
                  now() - interval '400 days'
           FROM generate_series(1, $1) AS i""",
    """INSERT INTO intake.customer_identities (customer_id, kind, value, created_at)
           SELECT md5('customer' || i)::uuid, 'email', 'pre-' || i || '@example.com',
                  now() - interval '400 days'
           FROM generate_series(1, $1) AS i""",
    f"""INSERT INTO intake.cases (id, number, customer_id, type, channel, description, opened_at,
                                 motive)
           SELECT md5('case' || i)::uuid,
                  {_NUMBER},
                  md5('customer' || i)::uuid, 'complaint', 'phone', 'Caso precargado',
                  now() - interval '400 days' + i * interval '1 second', 'OTHER'
           FROM generate_series(1, $1) AS i""",
    """INSERT INTO intake.contacts (id, customer_id, case_id, kind, channel, body, received_at,
                                    outcome)
           SELECT md5('contact' || i)::uuid, md5('customer' || i)::uuid, md5('case' || i)::uuid,
                  'complaint', 'phone', 'Caso precargado',
                  now() - interval '400 days' + i * interval '1 second', 'opened'
           FROM generate_series(1, $1) AS i""",
    # routing: a case worked to the end (closed), with what the lifecycle leaves behind — the
    # routing decision, the assignment, met SLA clocks, fired timers and the timeline
    f"""INSERT INTO routing.cases (id, number, type, status, team, opened_at, assigned_at,
                                      assignments, agent_id, customer_id, channel, motive,
                                      language, resolved_at, resolution, closed_at, close_reason)
           SELECT md5('case' || i)::uuid,
                  {_NUMBER},
                  'complaint', 'closed', 'general', now() - interval '400 days',
                  now() - interval '400 days', 1, 'pre-agent', md5('customer' || i)::uuid,
                  'phone', 'OTHER', 'es', now() - interval '399 days', 'Resuelto',
                  now() - interval '398 days', 'verified'
           FROM generate_series(1, $1) AS i""",
    """INSERT INTO routing.routing_decisions (case_id, rule_id, rule_version, explanation,
                                              decided_at)
           SELECT md5('case' || i)::uuid, 'default', 1, '{"matched": "default"}',
                  now() - interval '400 days'
           FROM generate_series(1, $1) AS i""",
    f"""INSERT INTO routing.assignments (case_id, case_number, team, agent_id, customer_id,
                                            channel, language, motive, queued_at, assigned_at,
                                            closed_at)
           SELECT md5('case' || i)::uuid, {_NUMBER}, 'general', 'pre-agent',
                  md5('customer' || i)::uuid, 'phone', 'es', 'OTHER',
                  now() - interval '400 days', now() - interval '400 days',
                  now() - interval '398 days'
           FROM generate_series(1, $1) AS i""",
    f"""INSERT INTO routing.sla_clocks (case_id, clock, cycle, case_number, policy_id,
                                           policy_version, priority, target_seconds, started_at,
                                           met_at, due_at)
           SELECT md5('case' || i)::uuid, clock, 1, {_NUMBER}, 'default', 1, 'normal', 86400,
                  now() - interval '400 days', now() - interval '399 days',
                  now() - interval '399 days'
           FROM generate_series(1, $1) AS i, unnest(ARRAY['first_response', 'resolution']) AS clock""",
    """INSERT INTO routing.timers (id, kind, case_id, ref, due_at, created_at, fired_at, fired_by,
                                   outcome)
           SELECT md5('timer' || kind || i)::uuid, kind, md5('case' || i)::uuid, 'resolution',
                  now() - interval '399 days', now() - interval '400 days',
                  now() - interval '399 days', 'preload', 'met'
           FROM generate_series(1, $1) AS i, unnest(ARRAY['sla_warning', 'sla_breach']) AS kind""",
    """INSERT INTO routing.timeline (case_id, at, kind, actor, summary)
           SELECT md5('case' || i)::uuid, now() - interval '400 days', kind, 'preload',
                  'Precargado'
           FROM generate_series(1, $1) AS i, unnest(ARRAY['assigned', 'resolved', 'closed']) AS kind""",
    _inbox("routing", "routing.assign-case", "intake", "case.opened"),
    f"""INSERT INTO surveys.cases (case_id, case_number, customer_id, language, opened_at)
           SELECT md5('case' || i)::uuid,
                  {_NUMBER},
                  md5('customer' || i)::uuid, 'es', now() - interval '400 days'
           FROM generate_series(1, $1) AS i""",
    _inbox("surveys", "surveys.remember-case", "intake", "case.opened"),
    f"""INSERT INTO notifications.recipients (case_id, case_number, customer_name,
                                                 customer_email, language)
           SELECT md5('case' || i)::uuid,
                  {_NUMBER},
                  'Precargado ' || i, 'pre-' || i || '@example.com', 'es'
           FROM generate_series(1, $1) AS i""",
    f"""INSERT INTO notifications.deliveries (id, idempotency_key, case_id, case_number,
               template, channel, recipient, subject, body_text, status, attempts,
               next_attempt_at, created_at, sent_at)
           SELECT md5('delivery' || i)::uuid,
                  'case_acknowledgement:' || md5('case' || i)::uuid, md5('case' || i)::uuid,
                  {_NUMBER},
                  'case_acknowledgement', 'email', 'pre-' || i || '@example.com',
                  'Hemos recibido su caso', 'Precargado', 'sent', 1,
                  now() - interval '400 days', now() - interval '400 days',
                  now() - interval '400 days'
           FROM generate_series(1, $1) AS i""",
    _inbox("notifications", "notifications.acknowledge-case", "intake", "case.opened"),
    f"""INSERT INTO indicators.case_facts (case_id, case_number, type, channel, opened_at,
                                              assigned_at)
           SELECT md5('case' || i)::uuid,
                  {_NUMBER},
                  'complaint', 'phone', now() - interval '400 days', now() - interval '400 days'
           FROM generate_series(1, $1) AS i""",
    """INSERT INTO indicators.daily_counts (day, metric, value)
           SELECT (now() - interval '400 days')::date, metric, $1
           FROM unnest(ARRAY['cases_opened', 'cases_assigned', 'notifications_sent']) AS metric""",
    *[
        _inbox("indicators", "indicators.project-events", producer, event)
        for producer, event in (
            ("intake", "case.opened"),
            ("routing", "case.assigned"),
            ("notifications", "notification.sent"),
        )
    ],
]


async def preload(database_url: str, cases: int) -> dict[str, Any]:
    """Write `cases` stored cases into every service's tables; returns what it took."""
    started = time.monotonic()
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            for sql in _PRELOAD:
                await conn.execute(sql, cases)
        await conn.execute("VACUUM ANALYZE")  # fresh statistics, as a long-lived database has
        # and its pages written out: otherwise the checkpoint after a million-case load lands in
        # the measured window, and its writes are what the tail latencies measure
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    return {"cases": cases, "seconds": round(time.monotonic() - started, 1)}
