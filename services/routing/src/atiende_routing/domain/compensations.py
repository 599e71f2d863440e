"""Compensations: courtesies from a managed catalogue, granted on a case within the granter's
approval limit and the customer's caps, or asked of a higher rank; every grant and reversal is
an append-only ledger entry. Pure: decisions only, no I/O.

- `CatalogueEntry`: one version of a catalogue entry and its value rule (fixed amount, a
  percentage of an order value, or any amount up to a maximum);
- `ApprovalLimits`: what each rank may grant at once, per currency; who approves the rest;
- `CustomerCap`: at most N grants and/or an amount per customer over a rolling period;
- `Proposal`: a compensation checked against the catalogue, about to be granted or asked for;
- `ApprovalRequest`: pending -> approved | rejected (TRANSITIONS), by someone of the rank asked;
- `LedgerEntry`: a grant (positive) or a reversal (negative, pointing at its grant).
"""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from atiende_contracts import (
    CaseType,
    CompensationApproved,
    CompensationGranted,
    CompensationKind,
    CompensationRejected,
    CompensationRequested,
    CompensationReversed,
    Rank,
)
from atiende_runtime.errors import Conflict, FieldError, Invalid
from atiende_runtime.languages import LANGUAGE_CODES

from .errors import NotPermitted

LADDER: tuple[Rank, ...] = (Rank.AGENT, Rank.SENIOR, Rank.SUPERVISOR, Rank.MANAGER)
"""The ranks, lowest first: a request goes to the lowest rank above the asker that may grant it."""

CENT = Decimal("0.01")
MAX_MONEY = Decimal("999999999999.99")
"""The ledger's numeric(14, 2)."""
MAX_TEXT = 2000
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def rank_order(rank: Rank) -> int:
    return LADDER.index(rank)


def money_problems(name: str, value: Decimal | None, *, positive: bool = True) -> list[FieldError]:
    """An amount of money: finite, at most two decimal places, within the ledger's range."""
    if value is None:
        return []
    if not value.is_finite():
        return [FieldError(name, "number", "an amount is a finite number")]
    if abs(value) > MAX_MONEY:
        return [FieldError(name, "maximum", f"an amount is at most {MAX_MONEY}")]
    if value != value.quantize(CENT):
        return [FieldError(name, "decimal_places", "an amount has at most two decimal places")]
    if positive and value <= 0:
        return [FieldError(name, "positive", "an amount is greater than zero")]
    if value < 0:
        return [FieldError(name, "non_negative", "an amount is zero or more")]
    return []


def currency_problems(name: str, currency: str | None) -> list[FieldError]:
    if currency is not None and not CURRENCY.match(currency):
        return [
            FieldError(name, "currency", f"{currency!r} is not an ISO 4217 code (e.g. EUR, USD)")
        ]
    return []


def months_before(at: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier (the 31st becomes the month's last day)."""
    index = at.year * 12 + at.month - 1 - months
    year, month = divmod(index, 12)
    day = min(at.day, calendar.monthrange(year, month + 1)[1])
    return at.replace(year=year, month=month + 1, day=day)


# --- the catalogue -------------------------------------------------------------------------------


class ValueRule(StrEnum):
    FIXED = "fixed"
    """Always `amount`."""
    PERCENTAGE = "percentage"
    """`percent` of the order value the grant names, capped at `maximum` if one is set."""
    UP_TO = "up_to"
    """Any amount the granter chooses, up to `maximum`."""


@dataclass(frozen=True)
class CatalogueEntry:
    """One version of a catalogue entry. A change is a new version; an entry is deactivated,
    never deleted, so every grant keeps pointing at the terms it was granted under."""

    code: str
    kind: CompensationKind
    descriptions: Mapping[str, str]
    """What the customer gets, per language (es, en)."""
    value_rule: ValueRule
    currency: str
    amount: Decimal | None = None
    percent: Decimal | None = None
    maximum: Decimal | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    case_types: frozenset[str] = frozenset()
    """Empty: every case type."""
    motives: frozenset[str] = frozenset()
    """Empty: every motive."""
    cost_centre: str | None = None
    active: bool = True
    version: int = 1
    changed_at: datetime | None = None
    actor: str | None = None

    def problems(self) -> list[FieldError]:
        errors: list[FieldError] = []
        if not CODE.match(self.code):
            errors.append(
                FieldError("code", "pattern", "letters, digits, '.', '_' and '-' (at most 64)")
            )
        if not self.descriptions:
            errors.append(
                FieldError("descriptions", "required", "say what the customer gets, per language")
            )
        for language, text in self.descriptions.items():
            if language not in LANGUAGE_CODES:
                errors.append(
                    FieldError(
                        f"descriptions.{language}",
                        "language",
                        f"languages are {', '.join(LANGUAGE_CODES)}",
                    )
                )
            elif not text.strip() or len(text) > 500:
                errors.append(
                    FieldError(f"descriptions.{language}", "length", "1 to 500 characters")
                )
        errors += currency_problems("currency", self.currency)
        errors += money_problems("amount", self.amount)
        errors += money_problems("maximum", self.maximum)
        needs = {
            ValueRule.FIXED: ("amount",),
            ValueRule.PERCENTAGE: ("percent",),
            ValueRule.UP_TO: ("maximum",),
        }[self.value_rule]
        allowed = {
            ValueRule.FIXED: {"amount"},
            ValueRule.PERCENTAGE: {"percent", "maximum"},
            ValueRule.UP_TO: {"maximum"},
        }[self.value_rule]
        for name in ("amount", "percent", "maximum"):
            value = getattr(self, name)
            if name in needs and value is None:
                errors.append(
                    FieldError(name, "required", f"a {self.value_rule} value rule needs {name}")
                )
            elif name not in allowed and value is not None:
                errors.append(
                    FieldError(name, "value_rule", f"a {self.value_rule} value rule has no {name}")
                )
        if self.percent is not None and not (0 < self.percent <= 100):
            errors.append(FieldError("percent", "range", "a percentage is above 0 and at most 100"))
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            errors.append(
                FieldError("valid_until", "after_valid_from", "validity ends after it starts")
            )
        known = {t.value for t in CaseType}
        for case_type in sorted(self.case_types - known):
            errors.append(
                FieldError("case_types", "case_type", f"{case_type!r} is not a case type")
            )
        return errors

    def validate(self) -> None:
        if errors := self.problems():
            raise Invalid(errors)

    def next_version(
        self, previous: CatalogueEntry | None, now: datetime, actor: str | None
    ) -> CatalogueEntry:
        """This entry stored as the version after `previous` (1 when there is none)."""
        version = previous.version + 1 if previous else 1
        return replace(self, version=version, changed_at=now, actor=actor)

    def applicability(self, case_type: str, motive: str | None, at: datetime) -> list[FieldError]:
        """Why this entry cannot settle a case of this type and motive now (empty: it can)."""
        errors: list[FieldError] = []
        field_ = "catalogue_code"
        if not self.active:
            errors.append(FieldError(field_, "inactive", f"{self.code} is deactivated"))
        if self.valid_from is not None and at < self.valid_from:
            errors.append(
                FieldError(
                    field_, "validity", f"{self.code} is valid from {self.valid_from.isoformat()}"
                )
            )
        if self.valid_until is not None and at >= self.valid_until:
            errors.append(
                FieldError(
                    field_,
                    "validity",
                    f"{self.code} was valid until {self.valid_until.isoformat()}",
                )
            )
        if self.case_types and case_type not in self.case_types:
            errors.append(
                FieldError(
                    field_,
                    "case_type",
                    f"{self.code} applies to {', '.join(sorted(self.case_types))}, not {case_type}",
                )
            )
        if self.motives and motive not in self.motives:
            errors.append(
                FieldError(
                    field_,
                    "motive",
                    f"{self.code} applies to the motives {', '.join(sorted(self.motives))},"
                    f" not {motive or 'a case without one'}",
                )
            )
        return errors

    def ceiling(self, order_value: Decimal | None) -> Decimal | None:
        """The most this entry grants (None when the order value it needs is missing)."""
        if self.value_rule is ValueRule.FIXED:
            return self.amount
        if self.value_rule is ValueRule.UP_TO:
            return self.maximum
        if order_value is None or self.percent is None:
            return None
        share = (order_value * self.percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return min(share, self.maximum) if self.maximum is not None else share

    def amount_for(
        self, currency: str, amount: Decimal | None, order_value: Decimal | None
    ) -> Decimal:
        """The amount a grant of this entry gives, from what the granter asked; Invalid naming
        the field and the rule otherwise (wrong currency, above the catalogue's maximum…)."""
        errors = currency_problems("currency", currency)
        errors += money_problems("amount", amount)
        errors += money_problems("order_value", order_value)
        if not errors and currency != self.currency:
            errors.append(
                FieldError(
                    "currency",
                    "catalogue_currency",
                    f"{self.code} is granted in {self.currency}, not {currency}",
                )
            )
        if errors:
            raise Invalid(errors)
        if self.value_rule is ValueRule.PERCENTAGE and order_value is None:
            raise Invalid.field(
                "order_value", "required", f"{self.code} is {self.percent}% of the order value"
            )
        if self.value_rule is ValueRule.UP_TO and amount is None:
            raise Invalid.field("amount", "required", f"say how much (up to {self.maximum})")
        ceiling = self.ceiling(order_value)
        assert ceiling is not None
        if amount is None:
            return ceiling
        if self.value_rule is ValueRule.FIXED and amount != ceiling:
            raise Invalid.field(
                "amount", "fixed_amount", f"{self.code} is always {ceiling} {self.currency}"
            )
        if amount > ceiling:
            raise Invalid.field(
                "amount",
                "catalogue_maximum",
                f"{self.code} grants at most {ceiling} {self.currency}, not {amount}",
            )
        return amount


# --- approval limits -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalLimit:
    rank: Rank
    currency: str
    max_amount: Decimal
    changed_at: datetime | None = None
    actor: str | None = None

    def problems(self) -> list[FieldError]:
        return currency_problems("currency", self.currency) + money_problems(
            "max_amount", self.max_amount, positive=False
        )


@dataclass(frozen=True)
class ApprovalLimits:
    """What each rank may grant at once, per currency. A rank with no limit in a currency may
    grant nothing at once in it, except a manager: no limit unless one is configured."""

    limits: Mapping[tuple[Rank, str], Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, limits: Iterable[ApprovalLimit]) -> ApprovalLimits:
        return cls({(limit.rank, limit.currency): limit.max_amount for limit in limits})

    def limit_of(self, rank: Rank, currency: str) -> Decimal | None:
        """The most `rank` grants at once in `currency`; None: no limit."""
        configured = self.limits.get((rank, currency))
        if configured is not None:
            return configured
        return None if rank is Rank.MANAGER else Decimal(0)

    def covers(self, rank: Rank, amount: Decimal, currency: str) -> bool:
        limit = self.limit_of(rank, currency)
        return limit is None or amount <= limit

    def approver_for(self, rank: Rank, amount: Decimal, currency: str) -> Rank | None:
        """Who must approve `amount` asked by `rank`: None when `rank` may grant it at once,
        else the lowest rank above it whose limit covers it. Invalid when no rank's does."""
        if self.covers(rank, amount, currency):
            return None
        for above in LADDER[rank_order(rank) + 1 :]:
            if self.covers(above, amount, currency):
                return above
        raise Invalid.field(
            "amount",
            "approval_limit",
            f"{amount} {currency} is above every rank's approval limit"
            f" (a manager grants at most {self.limit_of(Rank.MANAGER, currency)} {currency})",
        )


# --- per-customer caps ---------------------------------------------------------------------------


class PeriodUnit(StrEnum):
    DAYS = "days"
    MONTHS = "months"


@dataclass(frozen=True)
class CustomerCap:
    """At most `max_count` grants and/or `max_amount` (net of reversals, in `currency`) per
    customer over the last `period_length` days or months."""

    id: str
    period_unit: PeriodUnit
    period_length: int
    max_count: int | None = None
    max_amount: Decimal | None = None
    currency: str | None = None
    """The currency it counts; None: grants in any currency (a count cap only)."""
    active: bool = True
    changed_at: datetime | None = None
    actor: str | None = None

    def problems(self) -> list[FieldError]:
        errors = [] if CODE.match(self.id) else [FieldError("id", "pattern", "a short code")]
        errors += currency_problems("currency", self.currency)
        errors += money_problems("max_amount", self.max_amount)
        if self.max_count is None and self.max_amount is None:
            errors.append(
                FieldError("max_count", "required", "a cap limits the count, the amount or both")
            )
        if self.max_count is not None and self.max_count < 1:
            errors.append(FieldError("max_count", "minimum", "at least 1"))
        if self.max_amount is not None and self.currency is None:
            errors.append(FieldError("currency", "required", "an amount cap names its currency"))
        if self.period_length < 1:
            errors.append(FieldError("period_length", "minimum", "at least 1"))
        return errors

    def since(self, now: datetime) -> datetime:
        if self.period_unit is PeriodUnit.MONTHS:
            return months_before(now, self.period_length)
        return now - timedelta(days=self.period_length)

    def counts(self, currency: str) -> bool:
        return self.currency is None or self.currency == currency

    @property
    def period(self) -> str:
        return f"{self.period_length} {self.period_unit.value}"


@dataclass(frozen=True)
class GrantUsage:
    """One earlier grant to the customer, net of its reversals."""

    grant_id: uuid.UUID
    currency: str
    granted_at: datetime
    net: Decimal


def cap_breaches(
    caps: Iterable[CustomerCap],
    usage: Sequence[GrantUsage],
    amount: Decimal,
    currency: str,
    now: datetime,
) -> list[FieldError]:
    """The caps one more grant of `amount` would break. A grant reversed in full no longer
    counts; a partly reversed one counts once, with what is left of it."""
    errors: list[FieldError] = []
    for cap in caps:
        if not cap.active or not cap.counts(currency):
            continue
        since = cap.since(now)
        window = [
            u for u in usage if u.granted_at >= since and u.net > 0 and cap.counts(u.currency)
        ]
        if cap.max_count is not None and len(window) + 1 > cap.max_count:
            errors.append(
                FieldError(
                    "customer_id",
                    "customer_cap",
                    f"cap {cap.id}: at most {cap.max_count} compensation(s) per customer in"
                    f" {cap.period}; this customer already has {len(window)}",
                )
            )
        if cap.max_amount is not None:
            used = sum((u.net for u in window), Decimal(0))
            if used + amount > cap.max_amount:
                errors.append(
                    FieldError(
                        "amount",
                        "customer_cap",
                        f"cap {cap.id}: at most {cap.max_amount} {cap.currency} per customer in"
                        f" {cap.period}; {used} already granted, so at most"
                        f" {max(cap.max_amount - used, Decimal(0))} more",
                    )
                )
    return errors


def earliest_window(caps: Iterable[CustomerCap], now: datetime) -> datetime | None:
    """From when a customer's grants matter to the caps (None: no active cap)."""
    starts = [cap.since(now) for cap in caps if cap.active]
    return min(starts) if starts else None


# --- a proposal, its approval request, its ledger entries ----------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A compensation checked against the catalogue for one case: what would be granted."""

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
    cost_centre: str | None = None
    reason: str | None = None

    def facts(self) -> dict[str, object]:
        """The fields every compensation event carries."""
        return {
            "case_id": self.case_id,
            "case_number": self.case_number,
            "customer_id": self.customer_id,
            "team": self.team,
            "agent_id": self.agent_id,
            "catalogue_code": self.catalogue_code,
            "catalogue_version": self.catalogue_version,
            "kind": self.kind,
            "amount": self.amount,
            "currency": self.currency,
            "cost_centre": self.cost_centre,
        }


@dataclass(frozen=True)
class CaseFacts:
    """What a proposal needs to know about the case (routing's copy)."""

    id: uuid.UUID
    number: str
    type: str
    motive: str | None
    customer_id: uuid.UUID | None
    team: str | None
    agent_id: str | None


def propose(
    entry: CatalogueEntry,
    case: CaseFacts,
    *,
    currency: str,
    amount: Decimal | None,
    order_value: Decimal | None,
    cost_centre: str | None,
    reason: str | None,
    now: datetime,
) -> Proposal:
    """The compensation `entry` gives on `case`: Invalid (naming the field and rule) when it does
    not apply to the case now, or the amount or currency break its value rule."""
    if errors := entry.applicability(case.type, case.motive, now):
        raise Invalid(errors)
    if reason is not None and len(reason) > MAX_TEXT:
        raise Invalid.field("reason", "length", f"at most {MAX_TEXT} characters")
    granted = entry.amount_for(currency, amount, order_value)
    return Proposal(
        case_id=case.id,
        case_number=case.number,
        customer_id=case.customer_id,
        team=case.team,
        agent_id=case.agent_id,
        catalogue_code=entry.code,
        catalogue_version=entry.version,
        kind=entry.kind,
        amount=granted,
        currency=entry.currency,
        cost_centre=cost_centre or entry.cost_centre,
        reason=reason or None,
    )


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.PENDING: frozenset({RequestStatus.APPROVED, RequestStatus.REJECTED}),
    RequestStatus.APPROVED: frozenset(),
    RequestStatus.REJECTED: frozenset(),
}
"""A request is decided once: a second decision is a Conflict (409)."""


class ApproverRankTooLow(NotPermitted):
    """The decider's rank is below the one the request asks for (the route answers 403)."""

    def __init__(self, rank: Rank, needed: Rank) -> None:
        super().__init__(f"this request needs a {needed} or above to decide it, not a {rank}")
        self.errors = (
            FieldError("actor", "approver_rank", f"needs rank {needed} or above, not {rank}"),
        )


@dataclass(frozen=True)
class ApprovalRequest:
    id: uuid.UUID
    proposal: Proposal
    requested_by: str | None
    requested_rank: Rank
    approver_rank: Rank
    requested_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    decided_by: str | None = None
    decided_rank: Rank | None = None
    decision_reason: str | None = None
    decided_at: datetime | None = None
    grant_id: uuid.UUID | None = None

    @classmethod
    def open(
        cls,
        proposal: Proposal,
        *,
        requested_by: str | None,
        rank: Rank,
        approver_rank: Rank,
        now: datetime,
        request_id: uuid.UUID | None = None,
    ) -> tuple[ApprovalRequest, CompensationRequested]:
        request = cls(
            id=request_id or uuid.uuid4(),
            proposal=proposal,
            requested_by=requested_by,
            requested_rank=rank,
            approver_rank=approver_rank,
            requested_at=now,
        )
        return request, CompensationRequested(
            **proposal.facts(),
            request_id=request.id,
            requested_by=requested_by,
            requested_by_rank=rank,
            approver_rank=approver_rank,
            reason=proposal.reason,
            requested_at=now,
        )

    def _decide(self, to: RequestStatus, rank: Rank, reason: str) -> str:
        if to not in TRANSITIONS[self.status]:
            raise Conflict(
                f"the request is already {self.status} by {self.decided_by or 'someone'},"
                f" so it cannot be {to}",
                title=f"Request cannot be {to}",
                errors=[FieldError("status", "decided_once", f"the request is {self.status}")],
                extensions={"current_status": self.status.value, "allowed_statuses": []},
            )
        if rank_order(rank) < rank_order(self.approver_rank):
            raise ApproverRankTooLow(rank, self.approver_rank)
        reason = reason.strip()
        if not reason:
            raise Invalid.field("reason", "required", "say why")
        if len(reason) > MAX_TEXT:
            raise Invalid.field("reason", "length", f"at most {MAX_TEXT} characters")
        return reason

    def approve(
        self, actor: str | None, rank: Rank, reason: str, now: datetime, grant_id: uuid.UUID
    ) -> tuple[ApprovalRequest, CompensationApproved]:
        reason = self._decide(RequestStatus.APPROVED, rank, reason)
        approved = replace(
            self,
            status=RequestStatus.APPROVED,
            decided_by=actor,
            decided_rank=rank,
            decision_reason=reason,
            decided_at=now,
            grant_id=grant_id,
        )
        return approved, CompensationApproved(
            **self.proposal.facts(),
            request_id=self.id,
            grant_id=grant_id,
            approved_by=actor,
            approver_rank=rank,
            reason=reason,
            approved_at=now,
        )

    def reject(
        self, actor: str | None, rank: Rank, reason: str, now: datetime
    ) -> tuple[ApprovalRequest, CompensationRejected]:
        reason = self._decide(RequestStatus.REJECTED, rank, reason)
        rejected = replace(
            self,
            status=RequestStatus.REJECTED,
            decided_by=actor,
            decided_rank=rank,
            decision_reason=reason,
            decided_at=now,
        )
        return rejected, CompensationRejected(
            **self.proposal.facts(),
            request_id=self.id,
            rejected_by=actor,
            rejecter_rank=rank,
            reason=reason,
            rejected_at=now,
        )


class EntryKind(StrEnum):
    GRANT = "grant"
    REVERSAL = "reversal"


@dataclass(frozen=True)
class LedgerEntry:
    """A row of the append-only ledger: a grant (positive amount, grant_id = its own id) or a
    reversal (negative amount, grant_id = the grant it reverses)."""

    entry_id: uuid.UUID
    entry_kind: EntryKind
    grant_id: uuid.UUID
    case_id: uuid.UUID
    customer_id: uuid.UUID | None
    catalogue_code: str
    catalogue_version: int
    kind: CompensationKind
    amount: Decimal
    currency: str
    recorded_at: datetime
    cost_centre: str | None = None
    team: str | None = None
    agent_id: str | None = None
    actor: str | None = None
    approved_by: str | None = None
    request_id: uuid.UUID | None = None
    reason: str | None = None
    case_number: str | None = None
    """Read from routing's copy of the case (the ledger does not store it)."""


def grant(
    proposal: Proposal,
    *,
    actor: str | None,
    now: datetime,
    descriptions: Mapping[str, str],
    language: str | None,
    approved_by: str | None = None,
    request_id: uuid.UUID | None = None,
    grant_id: uuid.UUID | None = None,
) -> tuple[LedgerEntry, CompensationGranted]:
    entry_id = grant_id or uuid.uuid4()
    entry = LedgerEntry(
        entry_id=entry_id,
        entry_kind=EntryKind.GRANT,
        grant_id=entry_id,
        case_id=proposal.case_id,
        customer_id=proposal.customer_id,
        catalogue_code=proposal.catalogue_code,
        catalogue_version=proposal.catalogue_version,
        kind=proposal.kind,
        amount=proposal.amount,
        currency=proposal.currency,
        recorded_at=now,
        cost_centre=proposal.cost_centre,
        team=proposal.team,
        agent_id=proposal.agent_id,
        actor=actor,
        approved_by=approved_by,
        request_id=request_id,
        reason=proposal.reason,
        case_number=proposal.case_number,
    )
    return entry, CompensationGranted(
        **proposal.facts(),
        grant_id=entry_id,
        request_id=request_id,
        descriptions=dict(descriptions),
        language=language,
        granted_by=actor,
        approved_by=approved_by,
        reason=proposal.reason,
        granted_at=now,
    )


def remaining(grant_entry: LedgerEntry, reversals: Iterable[LedgerEntry]) -> Decimal:
    """What is left of a grant after its reversals (their amounts are negative)."""
    return grant_entry.amount + sum((r.amount for r in reversals), Decimal(0))


def reverse(
    grant_entry: LedgerEntry,
    reversals: Sequence[LedgerEntry],
    *,
    amount: Decimal | None,
    reason: str,
    actor: str | None,
    now: datetime,
    case_number: str,
    reversal_id: uuid.UUID | None = None,
) -> tuple[LedgerEntry, CompensationReversed]:
    """Take back `amount` of a grant (all that remains when None): a new negative entry.
    Never more than what remains (Invalid, field `amount`, rule `remaining`)."""
    left = remaining(grant_entry, reversals)
    errors = money_problems("amount", amount)
    reason = reason.strip()
    if not reason:
        errors.append(FieldError("reason", "required", "say why it is reversed"))
    elif len(reason) > MAX_TEXT:
        errors.append(FieldError("reason", "length", f"at most {MAX_TEXT} characters"))
    if errors:
        raise Invalid(errors)
    taken = left if amount is None else amount
    if taken <= 0 or taken > left:
        raise Invalid.field(
            "amount",
            "remaining",
            f"only {left} {grant_entry.currency} of this grant remains, so {taken} cannot be"
            " reversed",
        )
    entry = replace(
        grant_entry,
        entry_id=reversal_id or uuid.uuid4(),
        entry_kind=EntryKind.REVERSAL,
        amount=-taken,
        recorded_at=now,
        actor=actor,
        approved_by=None,
        request_id=None,
        reason=reason,
        case_number=case_number,
    )
    return entry, CompensationReversed(
        case_id=grant_entry.case_id,
        case_number=case_number,
        customer_id=grant_entry.customer_id,
        team=grant_entry.team,
        agent_id=grant_entry.agent_id,
        catalogue_code=grant_entry.catalogue_code,
        catalogue_version=grant_entry.catalogue_version,
        kind=grant_entry.kind,
        amount=taken,
        currency=grant_entry.currency,
        cost_centre=grant_entry.cost_centre,
        reversal_id=entry.entry_id,
        grant_id=grant_entry.grant_id,
        remaining=left - taken,
        reversed_by=actor,
        reason=reason,
        reversed_at=now,
    )


ROLE_RANKS: dict[str, Rank] = {
    "agent": Rank.AGENT,
    "senior": Rank.SENIOR,
    "supervisor": Rank.SUPERVISOR,
    "manager": Rank.MANAGER,
    "admin": Rank.MANAGER,
    "*": Rank.MANAGER,
}
"""A caller who is no routing agent acts with the highest rank their token's roles give
(`*` is the development principal with authentication off)."""


def rank_of_roles(roles: Iterable[str]) -> Rank | None:
    ranks = [ROLE_RANKS[role] for role in roles if role in ROLE_RANKS]
    return max(ranks, key=rank_order) if ranks else None
