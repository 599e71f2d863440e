"""All of indicators' SQL, behind the ports the use cases see (IndicatorsRepository, UnitOfWork)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

from atiende_runtime.db import Connection
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from .domain.days import DayRange
from .domain.projection import (
    CaseFacts,
    Cost,
    CostKey,
    CostPeriod,
    CostRow,
    Metric,
    Projection,
    aggregate,
)

# --- ports -------------------------------------------------------------------------------------


class IndicatorsRepository(Protocol):
    """The read models: daily counters per metric and the facts known about each case."""

    async def apply(self, projection: Projection) -> None:
        """Add one event's projection; call once per event (the inbox guarantees it)."""
        ...

    async def apply_many(self, projections: Sequence[Projection]) -> None:
        """Add a batch of events' projections (each event once), as if applied one by one."""
        ...

    async def case_facts(self, case_id: uuid.UUID) -> CaseFacts | None:
        """What the events told so far about one case."""
        ...

    async def totals(self, days: DayRange) -> dict[Metric, int]:
        """Each known metric summed over the days (a metric with no count is absent)."""
        ...

    async def daily(self, metric: Metric, days: DayRange) -> dict[date, int]:
        """The metric's count on each day that has one."""
        ...

    async def median_minutes_to_resolution(self, days: DayRange) -> float | None: ...

    async def compensation_costs(
        self,
        days: DayRange,
        period: CostPeriod,
        *,
        team: str | None = None,
        kind: str | None = None,
        currency: str | None = None,
    ) -> list[CostRow]:
        """The cost of compensations per period (its first day), team, kind and currency, by
        period, team, kind, currency. Team '' is "no team"."""
        ...


class UnitOfWork(Protocol):
    """One transaction over the read models. Indicators emits no event, so it has no `emit`."""

    @property
    def indicators(self) -> IndicatorsRepository: ...


# --- PostgreSQL --------------------------------------------------------------------------------

# A NULL in the new row means "this event does not know", so it never overwrites. Every rule is
# order-independent, because events of one case come from different services in any order:
# the earliest opening and first assignment, the latest resolution (a reopened case resolved
# again), the latest answer together with its satisfaction.
_MERGE_CASE_FACTS = """
INSERT INTO case_facts AS f (case_id, case_number, type, channel, opened_at, assigned_at,
                             resolved_at, satisfaction, answered_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (case_id) DO UPDATE SET
    case_number  = COALESCE(EXCLUDED.case_number, f.case_number),
    type         = COALESCE(EXCLUDED.type, f.type),
    channel      = COALESCE(EXCLUDED.channel, f.channel),
    opened_at    = LEAST(f.opened_at, EXCLUDED.opened_at),        -- LEAST/GREATEST skip NULLs
    assigned_at  = LEAST(f.assigned_at, EXCLUDED.assigned_at),
    resolved_at  = GREATEST(f.resolved_at, EXCLUDED.resolved_at),
    satisfaction = CASE WHEN f.answered_at IS NULL OR EXCLUDED.answered_at >= f.answered_at
                        THEN COALESCE(EXCLUDED.satisfaction, f.satisfaction)
                        ELSE f.satisfaction END,
    answered_at  = GREATEST(f.answered_at, EXCLUDED.answered_at)
"""

_INCREMENT = """
INSERT INTO daily_counts (day, metric, value)
SELECT $1, metric, value FROM unnest($2::text[], $3::bigint[]) AS i (metric, value)
ON CONFLICT (day, metric) DO UPDATE SET value = daily_counts.value + EXCLUDED.value
"""

# A batch: every (day, metric) counter and every case of the batch in one statement each, rows
# sorted so concurrent transactions lock them in one order
_INCREMENT_MANY = """
INSERT INTO daily_counts (day, metric, value)
SELECT * FROM unnest($1::date[], $2::text[], $3::bigint[])
ON CONFLICT (day, metric) DO UPDATE SET value = daily_counts.value + EXCLUDED.value
"""

_MERGE_CASE_FACTS_MANY = _MERGE_CASE_FACTS.replace(
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],"
    " $6::timestamptz[], $7::timestamptz[], $8::smallint[], $9::timestamptz[])",
)

_ADD_COSTS = """
INSERT INTO compensation_costs AS c (day, team, kind, currency, granted, reversed, grants,
                                     reversals)
SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::numeric[],
                     $6::numeric[], $7::bigint[], $8::bigint[])
ON CONFLICT (day, team, kind, currency) DO UPDATE SET
    granted = c.granted + EXCLUDED.granted, reversed = c.reversed + EXCLUDED.reversed,
    grants = c.grants + EXCLUDED.grants, reversals = c.reversals + EXCLUDED.reversals
"""

# A day range on a `date` column; NULL bounds are open.
_IN_RANGE = "($1::date IS NULL OR day >= $1) AND ($2::date IS NULL OR day <= $2)"


class PostgresIndicatorsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def apply(self, projection: Projection) -> None:
        """Daily rows first, then the case row: with one lock order in every transaction,
        concurrent handlers wait for each other but never deadlock."""
        await self.conn.execute(
            _INCREMENT,
            projection.day,
            [metric.value for metric, _ in projection.increments],
            [value for _, value in projection.increments],
        )
        if projection.facts is not None:
            await self._merge_case_facts(projection.facts)
        if projection.cost is not None:
            await self._add_costs([projection.cost])

    async def apply_many(self, projections: Sequence[Projection]) -> None:
        batch = aggregate(projections)
        if batch.increments:
            await self.conn.execute(
                _INCREMENT_MANY,
                [day for day, _, _ in batch.increments],
                [metric.value for _, metric, _ in batch.increments],
                [value for _, _, value in batch.increments],
            )
        if batch.facts:
            await self.conn.execute(
                _MERGE_CASE_FACTS_MANY,
                *(
                    [getattr(f, column) for f in batch.facts]
                    for column in (
                        "case_id",
                        "case_number",
                        "type",
                        "channel",
                        "opened_at",
                        "assigned_at",
                        "resolved_at",
                        "satisfaction",
                        "answered_at",
                    )
                ),
            )
        if batch.costs:
            await self._add_costs(batch.costs)

    async def _add_costs(self, costs: Sequence[tuple[CostKey, Cost]]) -> None:
        await self.conn.execute(
            _ADD_COSTS,
            [k.day for k, _ in costs],
            [k.team for k, _ in costs],
            [k.kind for k, _ in costs],
            [k.currency for k, _ in costs],
            [c.granted for _, c in costs],
            [c.reversed for _, c in costs],
            [c.grants for _, c in costs],
            [c.reversals for _, c in costs],
        )

    async def _merge_case_facts(self, facts: CaseFacts) -> None:
        await self.conn.execute(
            _MERGE_CASE_FACTS,
            facts.case_id,
            facts.case_number,
            facts.type,
            facts.channel,
            facts.opened_at,
            facts.assigned_at,
            facts.resolved_at,
            facts.satisfaction,
            facts.answered_at,
        )

    async def case_facts(self, case_id: uuid.UUID) -> CaseFacts | None:
        row = await self.conn.fetchrow("SELECT * FROM case_facts WHERE case_id = $1", case_id)
        return CaseFacts(**dict(row)) if row else None

    async def totals(self, days: DayRange) -> dict[Metric, int]:
        # only the metrics this version knows: a newer replica may already store others
        rows = await self.conn.fetch(
            f"""SELECT metric, sum(value) AS total FROM daily_counts
                WHERE {_IN_RANGE} AND metric = ANY($3::text[]) GROUP BY metric""",
            days.start,
            days.end,
            [m.value for m in Metric],
        )
        return {Metric(r["metric"]): int(r["total"]) for r in rows}

    async def daily(self, metric: Metric, days: DayRange) -> dict[date, int]:
        rows = await self.conn.fetch(
            f"SELECT day, value FROM daily_counts WHERE metric = $3 AND {_IN_RANGE}",
            days.start,
            days.end,
            metric.value,
        )
        return {r["day"]: r["value"] for r in rows}

    async def median_minutes_to_resolution(self, days: DayRange) -> float | None:
        median: float | None = await self.conn.fetchval(
            """SELECT percentile_cont(0.5) WITHIN GROUP (
                          ORDER BY extract(epoch FROM resolved_at - opened_at)::float8 / 60)
               FROM case_facts
               WHERE opened_at IS NOT NULL AND resolved_at IS NOT NULL
                 AND ($1::date IS NULL OR resolved_at >= ($1::date::timestamp AT TIME ZONE 'UTC'))
                 AND ($2::date IS NULL
                      OR resolved_at < (($2::date + 1)::timestamp AT TIME ZONE 'UTC'))""",
            days.start,
            days.end,
        )
        return median

    async def compensation_costs(
        self,
        days: DayRange,
        period: CostPeriod,
        *,
        team: str | None = None,
        kind: str | None = None,
        currency: str | None = None,
    ) -> list[CostRow]:
        rows = await self.conn.fetch(
            f"""SELECT date_trunc($3, day)::date AS period, team, kind, currency,
                       sum(granted) AS granted, sum(reversed) AS reversed,
                       sum(grants) AS grants, sum(reversals) AS reversals
                FROM compensation_costs
                WHERE {_IN_RANGE} AND ($4::text IS NULL OR team = $4)
                  AND ($5::text IS NULL OR kind = $5) AND ($6::text IS NULL OR currency = $6)
                GROUP BY 1, team, kind, currency ORDER BY 1, team, kind, currency""",
            days.start,
            days.end,
            period.value,
            team,
            kind,
            currency,
        )
        return [
            CostRow(
                r["period"],
                r["team"],
                r["kind"],
                r["currency"],
                Cost(
                    Decimal(r["granted"]),
                    Decimal(r["reversed"]),
                    int(r["grants"]),
                    int(r["reversals"]),
                ),
            )
            for r in rows
        ]


class PostgresUnitOfWork:
    """Indicators' repository on the runtime's unit of work (the inbox's or a read's transaction)."""

    def __init__(self, uow: RuntimeUnitOfWork) -> None:
        self.indicators = PostgresIndicatorsRepository(uow.conn)
