"""The catalogue's SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import asyncpg

from atiende_contracts import CatalogueKind
from atiende_runtime.db import Connection

from ..domain.catalogue import CatalogueEntry, Classification


def entry_of(row: asyncpg.Record) -> CatalogueEntry:
    return CatalogueEntry(
        kind=CatalogueKind(row["kind"]),
        code=row["code"],
        name_es=row["name_es"],
        name_en=row["name_en"],
        active=row["active"],
        parent_code=row["parent_code"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
    )


class PostgresCatalogueRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def lookup(
        self, wanted: Iterable[tuple[CatalogueKind, str]]
    ) -> dict[tuple[CatalogueKind, str], CatalogueEntry]:
        keys = list(wanted)
        if not keys:
            return {}
        rows = await self.conn.fetch(
            """SELECT e.* FROM catalogue_entries e
               JOIN unnest($1::text[], $2::text[]) AS w(kind, code)
                 ON w.kind = e.kind AND w.code = e.code""",
            [k.value for k, _ in keys],
            [code for _, code in keys],
        )
        return {(CatalogueKind(r["kind"]), r["code"]): entry_of(r) for r in rows}

    async def lookup_classification(
        self, wanted: Classification
    ) -> dict[tuple[CatalogueKind, str], CatalogueEntry]:
        pairs = [
            (CatalogueKind.MOTIVE, wanted.motive),
            (CatalogueKind.CAUSE, wanted.cause),
            (CatalogueKind.TOUCHPOINT, wanted.touchpoint),
            (CatalogueKind.PRODUCT, wanted.product),
        ]
        return await self.lookup((kind, code) for kind, code in pairs if code is not None)

    # --- managing the catalogue --------------------------------------------

    async def get(self, kind: CatalogueKind, code: str) -> CatalogueEntry | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM catalogue_entries WHERE kind = $1 AND code = $2", kind.value, code
        )
        return entry_of(row) if row else None

    async def lock(self, kind: CatalogueKind, code: str) -> CatalogueEntry | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM catalogue_entries WHERE kind = $1 AND code = $2 FOR UPDATE",
            kind.value,
            code,
        )
        return entry_of(row) if row else None

    async def add(self, entry: CatalogueEntry, actor: str | None) -> bool:
        """Insert a new entry; False if its code is taken within its kind."""
        return bool(
            await self.conn.fetchval(
                """INSERT INTO catalogue_entries (kind, code, parent_code, name_es, name_en,
                       active, valid_from, valid_to, updated_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                   ON CONFLICT (kind, code) DO NOTHING RETURNING true""",
                entry.kind.value,
                entry.code,
                entry.parent_code,
                entry.name_es,
                entry.name_en,
                entry.active,
                entry.valid_from,
                entry.valid_to,
                actor,
            )
        )

    async def update(self, entry: CatalogueEntry, actor: str | None) -> None:
        await self.conn.execute(
            """UPDATE catalogue_entries SET name_es = $3, name_en = $4, active = $5,
                   valid_from = $6, valid_to = $7, updated_at = now(), updated_by = $8
               WHERE kind = $1 AND code = $2""",
            entry.kind.value,
            entry.code,
            entry.name_es,
            entry.name_en,
            entry.active,
            entry.valid_from,
            entry.valid_to,
            actor,
        )

    async def changed_by(self, kind: CatalogueKind, code: str) -> str | None:
        actor: str | None = await self.conn.fetchval(
            "SELECT updated_by FROM catalogue_entries WHERE kind = $1 AND code = $2",
            kind.value,
            code,
        )
        return actor

    async def entries(
        self,
        kind: CatalogueKind,
        *,
        active: bool | None,
        on: date | None,
        parent: str | None,
        after_code: str | None,
        limit: int,
    ) -> list[CatalogueEntry]:
        """Entries of a kind in code order, filtered: by the active flag, by being valid `on` a
        day (within valid_from..valid_to), by parent; the page after `after_code`."""
        rows = await self.conn.fetch(
            """SELECT * FROM catalogue_entries
               WHERE kind = $1
                 AND ($2::boolean IS NULL OR active = $2)
                 AND ($3::date IS NULL OR ((valid_from IS NULL OR valid_from <= $3)
                                           AND (valid_to IS NULL OR $3 <= valid_to)))
                 AND ($4::text IS NULL OR parent_code = $4)
                 AND ($5::text IS NULL OR code COLLATE "C" > $5)
               ORDER BY code COLLATE "C" LIMIT $6""",
            kind.value,
            active,
            on,
            parent,
            after_code,
            limit,
        )
        return [entry_of(r) for r in rows]
