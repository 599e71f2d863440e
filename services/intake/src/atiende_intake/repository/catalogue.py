"""The catalogue's SQL."""

from __future__ import annotations

from collections.abc import Iterable

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


class CatalogueRepository:
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
