"""Compensations: the catalogue (versioned, deactivated never deleted), approval limits and
customer caps (admin); granting on a case, deciding approval requests, reversing grants and
reading the ledger (agents, supervisors, managers, admins). Amounts are decimal strings with at
most two places ("20.00"); currencies ISO 4217 codes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema

from atiende_contracts import CaseType, CompensationKind, Rank
from atiende_runtime import idempotency
from atiende_runtime.auth import Principal, require
from atiende_runtime.bodies import RequestModel
from atiende_runtime.errors import FieldError, Invalid
from atiende_runtime.languages import Language
from atiende_runtime.params import IsoDate
from atiende_runtime.problems import Problem

from ...domain.compensations import (
    ApprovalLimit,
    ApprovalRequest,
    CatalogueEntry,
    CustomerCap,
    LedgerEntry,
    PeriodUnit,
    RequestStatus,
    ValueRule,
)
from ...domain.errors import NotPermitted
from ...repository import PostgresUnitOfWork, UnitOfWork
from ...repository.compensations import CurrencyTotal, LedgerFilter
from ...usecases import compensations
from .deps import Admin, Runtime, actor_of

router = APIRouter(tags=["compensations"])

T = TypeVar("T")

Granter = Annotated[Principal, Depends(require("agent", "supervisor", "manager", "admin"))]
"""Who grants, decides, reverses and reads compensations (what a rank may decide is checked
against the caller's rank)."""

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
_CENTS = r"(?:\.[0-9]{1,2})?"
_ZERO = r"^0(?:\.0{1,2})?$"
MONEY_MAX = Decimal("999999999999.99")
_MONEY_TEXT = rf"^(?:0|[1-9][0-9]{{0,11}}){_CENTS}$"


def _amount_schema(minimum: str, maximum: Decimal, text_pattern: str, zero: bool) -> WithJsonSchema:
    """An amount as JSON may carry it: a number or its decimal text (pydantic takes both); the
    text's pattern says what the number's bounds say, since JSON Schema bounds numbers only."""
    text: dict[str, Any] = {"type": "string", "pattern": text_pattern}
    if not zero:
        text["not"] = {"pattern": _ZERO}
    number = {"type": "number", minimum: 0, "maximum": float(maximum), "multipleOf": 0.01}
    return WithJsonSchema({"anyOf": [number, text]})


Money = Annotated[
    Decimal,
    Field(gt=0, le=MONEY_MAX, max_digits=14, decimal_places=2),
    _amount_schema("exclusiveMinimum", MONEY_MAX, _MONEY_TEXT, zero=False),
]
"""A positive amount with cents, at most 999 999 999 999.99."""
Currency = Annotated[str, Field(pattern=CURRENCY_PATTERN, description="ISO 4217 code, e.g. EUR")]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
CurrencyPath = Annotated[str, Path(pattern=CURRENCY_PATTERN, description="ISO 4217 code")]
CapId = Annotated[str, Path(pattern=CODE_PATTERN, description="The cap's code")]
EntryCode = Annotated[str, Path(pattern=CODE_PATTERN, description="The entry's code")]

ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "The caller's rank may not decide it (names the rule)"},
    404: {"description": "Unknown case, request or grant"},
    409: {"description": "The state refuses it: a closed case, a request already decided"},
    422: {"description": "A field breaks a rule (problem+json names field and rule)"},
}


def _actor(principal: Principal) -> compensations.Actor:
    return compensations.Actor(actor_of(principal), principal.roles)


def _now() -> datetime:
    return datetime.now(UTC)


async def _in_unit_of_work(runtime: Runtime, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    async with runtime.unit_of_work() as tx:
        return await _guarded(work(PostgresUnitOfWork(tx)))


async def _guarded(work: Awaitable[T]) -> T:
    """A rank that may not decide answers 403 naming the rule."""
    try:
        return await work
    except NotPermitted as exc:
        raise Problem(
            403, "Forbidden", exc.message, errors=[e.as_dict() for e in exc.errors] or None
        ) from exc


# --- models ----------------------------------------------------------------------------------


class _In(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _value_rule_fields(schema: dict[str, Any]) -> None:
    """The value rule decides which of amount, percent and maximum are given (not null)."""
    given: dict[str, Any] = {"not": {"type": "null"}}
    absent: dict[str, Any] = {"type": "null"}
    shapes = {
        "fixed": ({"amount"}, set()),
        "percentage": ({"percent"}, {"maximum"}),
        "up_to": ({"maximum"}, set()),
    }
    branches = []
    for rule, (needed, optional) in shapes.items():
        properties: dict[str, Any] = {"value_rule": {"const": rule}}
        for name in ("amount", "percent", "maximum"):
            if name in needed:
                properties[name] = given
            elif name not in optional:
                properties[name] = absent
        branches.append({"required": ["value_rule", *sorted(needed)], "properties": properties})
    schema["anyOf"] = branches


class CatalogueEntryIn(_In):
    model_config = ConfigDict(json_schema_extra=_value_rule_fields)

    kind: CompensationKind
    descriptions: dict[Language, Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        min_length=1, description="What the customer gets, per language (es, en)"
    )
    value_rule: ValueRule = Field(
        description="fixed: always `amount`; percentage: `percent` of the order value (capped"
        " at `maximum` if set); up_to: any amount up to `maximum`"
    )
    amount: Money | None = None
    percent: (
        Annotated[
            Decimal,
            Field(gt=0, le=100, max_digits=5, decimal_places=2),
            _amount_schema(
                "exclusiveMinimum",
                Decimal(100),
                r"^(?:(?:0|[1-9][0-9]?)(?:\.[0-9]{1,2})?|100(?:\.0{1,2})?)$",
                zero=False,
            ),
        ]
        | None
    ) = None
    maximum: Money | None = None
    currency: Currency
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    case_types: list[CaseType] = Field(default=[], description="Empty: every case type")
    motives: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default=[], max_length=200, description="Motive codes; empty: every motive"
    )
    cost_centre: str | None = Field(default=None, max_length=100)
    active: bool = Field(default=True, description="false deactivates it (never deleted)")

    def entry(self, code: str) -> CatalogueEntry:
        return CatalogueEntry(
            code=code,
            kind=self.kind,
            descriptions={language.value: text for language, text in self.descriptions.items()},
            value_rule=self.value_rule,
            currency=self.currency,
            amount=self.amount,
            percent=self.percent,
            maximum=self.maximum,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            case_types=frozenset(t.value for t in self.case_types),
            motives=frozenset(self.motives),
            cost_centre=self.cost_centre,
            active=self.active,
        )


class NewCatalogueEntry(CatalogueEntryIn):
    code: str = Field(pattern=CODE_PATTERN, description="Letters, digits, '.', '_', '-'")


class CatalogueEntryOut(BaseModel):
    code: str
    version: int
    kind: CompensationKind
    descriptions: dict[str, str]
    value_rule: ValueRule
    amount: Decimal | None
    percent: Decimal | None
    maximum: Decimal | None
    currency: str
    valid_from: datetime | None
    valid_until: datetime | None
    case_types: list[str]
    motives: list[str]
    cost_centre: str | None
    active: bool
    changed_at: datetime | None
    actor: str | None

    @classmethod
    def of(cls, e: CatalogueEntry) -> CatalogueEntryOut:
        return cls(
            code=e.code,
            version=e.version,
            kind=e.kind,
            descriptions=dict(e.descriptions),
            value_rule=e.value_rule,
            amount=e.amount,
            percent=e.percent,
            maximum=e.maximum,
            currency=e.currency,
            valid_from=e.valid_from,
            valid_until=e.valid_until,
            case_types=sorted(e.case_types),
            motives=sorted(e.motives),
            cost_centre=e.cost_centre,
            active=e.active,
            changed_at=e.changed_at,
            actor=e.actor,
        )


class LimitIn(_In):
    max_amount: Annotated[
        Decimal,
        Field(ge=0, le=MONEY_MAX, max_digits=14, decimal_places=2),
        _amount_schema("minimum", MONEY_MAX, _MONEY_TEXT, zero=True),
    ] = Field(description="The most this rank grants at once in this currency")


class LimitOut(BaseModel):
    rank: Rank
    currency: str
    max_amount: Decimal
    changed_at: datetime | None
    actor: str | None

    @classmethod
    def of(cls, limit: ApprovalLimit) -> LimitOut:
        return cls(
            rank=limit.rank,
            currency=limit.currency,
            max_amount=limit.max_amount,
            changed_at=limit.changed_at,
            actor=limit.actor,
        )


def _currency_with_amount(schema: dict[str, Any]) -> None:
    """An amount cap names its currency, and a cap limits the count, the amount or both."""
    null: dict[str, Any] = {"type": "null"}
    schema["allOf"] = [
        {
            "anyOf": [
                {"properties": {"max_amount": null}},
                {"required": ["currency"], "properties": {"currency": {"type": "string"}}},
            ]
        },
        {  # and a cap limits something: the count, the amount or both
            "anyOf": [
                {"required": ["max_count"], "properties": {"max_count": {"not": null}}},
                {"required": ["max_amount"], "properties": {"max_amount": {"not": null}}},
            ]
        },
    ]


class CapIn(_In):
    model_config = ConfigDict(json_schema_extra=_currency_with_amount)

    max_count: int | None = Field(default=None, ge=1, description="Grants per customer")
    max_amount: Money | None = Field(default=None, description="Net amount per customer")
    currency: Currency | None = Field(
        default=None, description="Required with max_amount; null: count grants in any currency"
    )
    period_unit: PeriodUnit
    period_length: int = Field(ge=1, le=1200)
    active: bool = True


class CapOut(CapIn):
    id: str
    changed_at: datetime | None
    actor: str | None

    @classmethod
    def of(cls, cap: CustomerCap) -> CapOut:
        return cls(
            id=cap.id,
            max_count=cap.max_count,
            max_amount=cap.max_amount,
            currency=cap.currency,
            period_unit=cap.period_unit,
            period_length=cap.period_length,
            active=cap.active,
            changed_at=cap.changed_at,
            actor=cap.actor,
        )


class GrantIn(_In):
    catalogue_code: str = Field(pattern=CODE_PATTERN)
    currency: Currency
    amount: Money | None = Field(
        default=None,
        description="Fixed entries: omit (or the fixed amount); up_to: required; percentage:"
        " omit for the computed share, or less",
    )
    order_value: Money | None = Field(
        default=None, description="The order's value, for percentage entries"
    )
    cost_centre: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=2000)


class DecisionIn(_In):
    reason: Reason


class ReversalIn(_In):
    amount: Money | None = Field(default=None, description="Default: all that remains")
    reason: Reason


class LedgerEntryOut(BaseModel):
    entry_id: uuid.UUID
    entry_kind: str
    grant_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str | None
    customer_id: uuid.UUID | None
    catalogue_code: str
    catalogue_version: int
    kind: CompensationKind
    amount: Decimal = Field(description="Positive for a grant, negative for a reversal")
    currency: str
    cost_centre: str | None
    team: str | None
    agent_id: str | None
    actor: str | None
    approved_by: str | None
    request_id: uuid.UUID | None
    reason: str | None
    recorded_at: datetime

    @classmethod
    def of(cls, e: LedgerEntry) -> LedgerEntryOut:
        return cls(
            entry_id=e.entry_id,
            entry_kind=e.entry_kind.value,
            grant_id=e.grant_id,
            case_id=e.case_id,
            case_number=e.case_number,
            customer_id=e.customer_id,
            catalogue_code=e.catalogue_code,
            catalogue_version=e.catalogue_version,
            kind=e.kind,
            amount=e.amount,
            currency=e.currency,
            cost_centre=e.cost_centre,
            team=e.team,
            agent_id=e.agent_id,
            actor=e.actor,
            approved_by=e.approved_by,
            request_id=e.request_id,
            reason=e.reason,
            recorded_at=e.recorded_at,
        )


class RequestOut(BaseModel):
    id: uuid.UUID
    status: RequestStatus
    case_id: uuid.UUID
    case_number: str
    customer_id: uuid.UUID | None
    team: str | None
    agent_id: str | None
    catalogue_code: str
    catalogue_version: int
    kind: CompensationKind
    amount: Decimal
    currency: str
    cost_centre: str | None
    reason: str | None
    requested_by: str | None
    requested_rank: Rank
    approver_rank: Rank = Field(description="The lowest rank that may decide it")
    requested_at: datetime
    decided_by: str | None
    decided_rank: Rank | None
    decision_reason: str | None
    decided_at: datetime | None
    grant_id: uuid.UUID | None

    @classmethod
    def of(cls, r: ApprovalRequest) -> RequestOut:
        p = r.proposal
        return cls(
            id=r.id,
            status=r.status,
            case_id=p.case_id,
            case_number=p.case_number,
            customer_id=p.customer_id,
            team=p.team,
            agent_id=p.agent_id,
            catalogue_code=p.catalogue_code,
            catalogue_version=p.catalogue_version,
            kind=p.kind,
            amount=p.amount,
            currency=p.currency,
            cost_centre=p.cost_centre,
            reason=p.reason,
            requested_by=r.requested_by,
            requested_rank=r.requested_rank,
            approver_rank=r.approver_rank,
            requested_at=r.requested_at,
            decided_by=r.decided_by,
            decided_rank=r.decided_rank,
            decision_reason=r.decision_reason,
            decided_at=r.decided_at,
            grant_id=r.grant_id,
        )


class GrantOutcomeOut(BaseModel):
    outcome: Literal["granted", "requested"]
    grant: LedgerEntryOut | None = Field(description="Set when granted at once")
    request: RequestOut | None = Field(description="Set when it needs a higher rank's approval")


class ApprovedOut(BaseModel):
    request: RequestOut
    grant: LedgerEntryOut


class GrantViewOut(BaseModel):
    grant: LedgerEntryOut
    reversals: list[LedgerEntryOut]
    remaining: Decimal

    @classmethod
    def of(cls, view: compensations.GrantView) -> GrantViewOut:
        return cls(
            grant=LedgerEntryOut.of(view.grant),
            reversals=[LedgerEntryOut.of(r) for r in view.reversals],
            remaining=view.remaining,
        )


class ReversalOut(BaseModel):
    reversal: LedgerEntryOut
    remaining: Decimal = Field(description="What is left of the grant")


class TotalOut(BaseModel):
    currency: str
    granted: Decimal
    reversed: Decimal
    net: Decimal
    grants: int
    reversals: int

    @classmethod
    def of(cls, t: CurrencyTotal) -> TotalOut:
        return cls(
            currency=t.currency,
            granted=t.granted,
            reversed=t.reversed,
            net=t.net,
            grants=t.grants,
            reversals=t.reversals,
        )


class LedgerPageOut(BaseModel):
    items: list[LedgerEntryOut]
    totals: list[TotalOut] = Field(description="Per currency, over everything the filter matches")
    next_cursor: str | None


# --- catalogue -------------------------------------------------------------------------------


@router.get(
    "/compensation-catalogue",
    response_model=list[CatalogueEntryOut],
    summary="The compensation catalogue: the latest version of every entry",
)
async def list_catalogue(
    runtime: Runtime,
    _: Granter,
    active: Annotated[bool | None, Query(description="Only active (or inactive) entries")] = None,
) -> list[CatalogueEntryOut]:
    entries = await _in_unit_of_work(runtime, compensations.catalogue)
    return [CatalogueEntryOut.of(e) for e in entries if active is None or e.active == active]


@router.get(
    "/compensation-catalogue/{code}",
    response_model=CatalogueEntryOut,
    summary="A catalogue entry: its latest version or the one asked",
    responses={404: {"description": "Unknown entry or version"}},
)
async def get_catalogue_entry(
    code: EntryCode,
    runtime: Runtime,
    _: Granter,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> CatalogueEntryOut:
    entry = await _in_unit_of_work(
        runtime, lambda uow: compensations.catalogue_entry(uow, code, version)
    )
    return CatalogueEntryOut.of(entry)


@router.get(
    "/compensation-catalogue/{code}/history",
    response_model=list[CatalogueEntryOut],
    summary="Every version of a catalogue entry, oldest first",
    responses={404: {"description": "Unknown entry"}},
)
async def catalogue_history(code: str, runtime: Runtime, _: Admin) -> list[CatalogueEntryOut]:
    versions = await _in_unit_of_work(
        runtime, lambda uow: compensations.catalogue_history(uow, code)
    )
    return [CatalogueEntryOut.of(e) for e in versions]


@router.post(
    "/compensation-catalogue",
    status_code=201,
    response_model=CatalogueEntryOut,
    summary="Add a catalogue entry (version 1)",
    responses={409: {"description": "The code exists"}, 422: ERRORS[422]},
)
async def create_catalogue_entry(
    body: NewCatalogueEntry,
    request: Request,
    runtime: Runtime,
    principal: Admin,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            stored = await compensations.save_entry(
                PostgresUnitOfWork(tx),
                body.entry(body.code),
                _now(),
                actor_of(principal),
                create=True,
            )
            return idempotency.Answer(
                201,
                CatalogueEntryOut.of(stored).model_dump(mode="json"),
                {"Location": f"/compensation-catalogue/{stored.code}"},
            )

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


@router.put(
    "/compensation-catalogue/{code}",
    response_model=CatalogueEntryOut,
    summary="Change a catalogue entry: stores its next version (active=false deactivates it)",
    responses={404: {"description": "Unknown entry"}, 422: ERRORS[422]},
)
async def change_catalogue_entry(
    code: EntryCode, body: CatalogueEntryIn, runtime: Runtime, principal: Admin
) -> CatalogueEntryOut:
    stored = await _in_unit_of_work(
        runtime,
        lambda uow: compensations.save_entry(
            uow, body.entry(code), _now(), actor_of(principal), create=False
        ),
    )
    return CatalogueEntryOut.of(stored)


# --- limits and caps -------------------------------------------------------------------------


@router.get(
    "/compensation-limits",
    response_model=list[LimitOut],
    summary="Approval limits: what each rank grants at once, per currency (no limit for a rank"
    " and currency: nothing at once, except a manager, who has none unless set)",
)
async def list_limits(runtime: Runtime, _: Granter) -> list[LimitOut]:
    return [LimitOut.of(x) for x in await _in_unit_of_work(runtime, compensations.limits)]


@router.put(
    "/compensation-limits/{rank}/{currency}",
    response_model=LimitOut,
    summary="Set a rank's approval limit in a currency",
    responses={422: ERRORS[422]},
)
async def put_limit(
    rank: Rank,
    currency: CurrencyPath,
    body: LimitIn,
    runtime: Runtime,
    principal: Admin,
) -> LimitOut:
    limit = ApprovalLimit(rank, currency, body.max_amount, _now(), actor_of(principal))
    stored = await _in_unit_of_work(runtime, lambda uow: compensations.set_limit(uow, limit))
    return LimitOut.of(stored)


@router.delete(
    "/compensation-limits/{rank}/{currency}",
    status_code=204,
    summary="Remove a rank's limit in a currency (then it grants nothing at once in it)",
    responses={404: {"description": "No such limit"}},
)
async def delete_limit(rank: Rank, currency: CurrencyPath, runtime: Runtime, _: Admin) -> Response:
    await _in_unit_of_work(runtime, lambda uow: compensations.remove_limit(uow, rank, currency))
    return Response(status_code=204)


@router.get(
    "/compensation-caps", response_model=list[CapOut], summary="Per-customer caps per period"
)
async def list_caps(runtime: Runtime, _: Granter) -> list[CapOut]:
    return [CapOut.of(c) for c in await _in_unit_of_work(runtime, compensations.caps)]


@router.put(
    "/compensation-caps/{cap_id}",
    response_model=CapOut,
    summary="Create or replace a per-customer cap (at most N grants and/or an amount per period)",
    responses={422: ERRORS[422]},
)
async def put_cap(
    cap_id: CapId,
    body: CapIn,
    runtime: Runtime,
    principal: Admin,
) -> CapOut:
    cap = CustomerCap(
        id=cap_id,
        period_unit=body.period_unit,
        period_length=body.period_length,
        max_count=body.max_count,
        max_amount=body.max_amount,
        currency=body.currency,
        active=body.active,
        changed_at=_now(),
        actor=actor_of(principal),
    )
    stored = await _in_unit_of_work(runtime, lambda uow: compensations.set_cap(uow, cap))
    return CapOut.of(stored)


@router.delete(
    "/compensation-caps/{cap_id}",
    status_code=204,
    summary="Remove a per-customer cap",
    responses={404: {"description": "No such cap"}},
)
async def delete_cap(cap_id: str, runtime: Runtime, _: Admin) -> Response:
    await _in_unit_of_work(runtime, lambda uow: compensations.remove_cap(uow, cap_id))
    return Response(status_code=204)


# --- granting and deciding -------------------------------------------------------------------


@router.post(
    "/cases/{case_id}/compensations",
    status_code=201,
    response_model=GrantOutcomeOut,
    summary="Grant a compensation on a case: within your limit and the customer's caps it is"
    " granted at once (201, compensation.granted); above your limit it is asked of the next"
    " rank that may grant it (202, compensation.requested)",
    responses={202: {"description": "Asked of a higher rank", "model": GrantOutcomeOut}, **ERRORS},
)
async def grant_compensation(
    case_id: uuid.UUID,
    body: GrantIn,
    request: Request,
    runtime: Runtime,
    principal: Granter,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            outcome = await _guarded(
                compensations.grant_on_case(
                    PostgresUnitOfWork(tx),
                    case_id,
                    catalogue_code=body.catalogue_code,
                    currency=body.currency,
                    amount=body.amount,
                    order_value=body.order_value,
                    cost_centre=body.cost_centre,
                    reason=body.reason,
                    actor=_actor(principal),
                    now=_now(),
                )
            )
            if outcome.grant is not None:
                out = GrantOutcomeOut(
                    outcome="granted", grant=LedgerEntryOut.of(outcome.grant), request=None
                )
                status, location = 201, f"/compensations/{outcome.grant.grant_id}"
            else:
                assert outcome.request is not None
                out = GrantOutcomeOut(
                    outcome="requested", grant=None, request=RequestOut.of(outcome.request)
                )
                status, location = 202, f"/compensation-requests/{outcome.request.id}"
            return idempotency.Answer(status, out.model_dump(mode="json"), {"Location": location})

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


@router.get(
    "/compensation-requests",
    response_model=list[RequestOut],
    summary="Approval requests, oldest first: by default the pending ones your rank may decide",
)
async def list_requests(
    runtime: Runtime,
    principal: Granter,
    status: RequestStatus | None = RequestStatus.PENDING,
    case_id: uuid.UUID | None = None,
    every_rank: Annotated[bool, Query(description="Also those asking a rank above yours")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[RequestOut]:
    found = await _in_unit_of_work(
        runtime,
        lambda uow: compensations.requests_for(
            uow,
            _actor(principal),
            status=status,
            case_id=case_id,
            every_rank=every_rank,
            limit=limit,
        ),
    )
    return [RequestOut.of(r) for r in found]


@router.get(
    "/compensation-requests/{request_id}",
    response_model=RequestOut,
    summary="An approval request",
    responses={404: {"description": "Unknown request"}},
)
async def get_request(request_id: uuid.UUID, runtime: Runtime, _: Granter) -> RequestOut:
    found = await _in_unit_of_work(runtime, lambda uow: compensations.get_request(uow, request_id))
    return RequestOut.of(found)


@router.post(
    "/compensation-requests/{request_id}/approval",
    response_model=ApprovedOut,
    summary="Approve a request (its rank or above), with a reason: compensation.approved, then"
    " the grant (compensation.granted). A retry with the same Idempotency-Key replays the"
    " answer; any other second decision is a 409",
    responses=ERRORS,
)
async def approve_request(
    request_id: uuid.UUID,
    body: DecisionIn,
    request: Request,
    runtime: Runtime,
    principal: Granter,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            approved, granted = await _guarded(
                compensations.approve(
                    PostgresUnitOfWork(tx),
                    request_id,
                    reason=body.reason,
                    actor=_actor(principal),
                    now=_now(),
                )
            )
            out = ApprovedOut(request=RequestOut.of(approved), grant=LedgerEntryOut.of(granted))
            return idempotency.Answer(200, out.model_dump(mode="json"))

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


@router.post(
    "/compensation-requests/{request_id}/rejection",
    response_model=RequestOut,
    summary="Reject a request (its rank or above), with a reason: compensation.rejected. A retry"
    " with the same Idempotency-Key replays the answer; any other second decision is a 409",
    responses=ERRORS,
)
async def reject_request(
    request_id: uuid.UUID,
    body: DecisionIn,
    request: Request,
    runtime: Runtime,
    principal: Granter,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            rejected = await _guarded(
                compensations.reject(
                    PostgresUnitOfWork(tx),
                    request_id,
                    reason=body.reason,
                    actor=_actor(principal),
                    now=_now(),
                )
            )
            return idempotency.Answer(200, RequestOut.of(rejected).model_dump(mode="json"))

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


# --- reversals and the ledger ----------------------------------------------------------------


@router.post(
    "/compensations/{grant_id}/reversals",
    status_code=201,
    response_model=ReversalOut,
    summary="Reverse part or all of a grant (never more than remains): a negative ledger entry"
    " and compensation.reversed",
    responses=ERRORS,
)
async def reverse_grant(
    grant_id: uuid.UUID,
    body: ReversalIn,
    request: Request,
    runtime: Runtime,
    principal: Granter,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    async with runtime.unit_of_work() as tx:

        async def produce() -> idempotency.Answer:
            uow = PostgresUnitOfWork(tx)
            entry = await compensations.reverse_grant(
                uow,
                grant_id,
                amount=body.amount,
                reason=body.reason,
                actor=_actor(principal),
                now=_now(),
            )
            view = await compensations.grant_view(uow, grant_id)
            out = ReversalOut(reversal=LedgerEntryOut.of(entry), remaining=view.remaining)
            return idempotency.Answer(
                201, out.model_dump(mode="json"), {"Location": f"/compensations/{grant_id}"}
            )

        return await idempotency.once(
            tx.conn, request, idempotency_key, body.model_dump(mode="json"), produce
        )


@router.get(
    "/compensations/{grant_id}",
    response_model=GrantViewOut,
    summary="A grant with its reversals and what remains of it",
    responses={404: {"description": "Unknown grant"}},
)
async def get_grant(grant_id: uuid.UUID, runtime: Runtime, _: Granter) -> GrantViewOut:
    view = await _in_unit_of_work(runtime, lambda uow: compensations.grant_view(uow, grant_id))
    return GrantViewOut.of(view)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@router.get(
    "/compensations",
    response_model=LedgerPageOut,
    summary="The ledger, newest first, with totals per currency over the whole filter",
    responses={422: ERRORS[422]},
)
async def list_ledger(
    runtime: Runtime,
    _: Granter,
    case_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    kind: CompensationKind | None = None,
    from_: Annotated[
        IsoDate | None, Query(alias="from", description="First day (UTC), included")
    ] = None,
    to: Annotated[IsoDate | None, Query(description="Last day (UTC), included")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> LedgerPageOut:
    if from_ is not None and to is not None and from_ > to:
        raise Invalid([FieldError("query.to", "day_range", f"`to` ({to}) is before `from`")])
    where = LedgerFilter(
        case_id=case_id,
        customer_id=customer_id,
        team=team,
        kind=kind,
        since=_day_start(from_) if from_ else None,
        until=_day_start(to + timedelta(days=1)) if to else None,
    )
    page = await _in_unit_of_work(
        runtime, lambda uow: compensations.ledger(uow, where, cursor, limit)
    )
    return LedgerPageOut(
        items=[LedgerEntryOut.of(e) for e in page.entries],
        totals=[TotalOut.of(t) for t in page.totals],
        next_cursor=page.next_cursor,
    )
