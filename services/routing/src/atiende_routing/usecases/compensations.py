"""Compensations: the catalogue, limits and caps (admin), granting on a case within the
granter's limit and the customer's caps or asking a higher rank, deciding a request, reversing
a grant, and reading the ledger. Each command is one unit of work: the ledger entry, the request
and the events commit together or not at all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from atiende_contracts import CaseStatus, Rank
from atiende_runtime.errors import Conflict, FieldError, Invalid, NotFound

from ..domain.cases import RoutedCase
from ..domain.compensations import (
    LADDER,
    ApprovalLimit,
    ApprovalLimits,
    ApprovalRequest,
    CaseFacts,
    CatalogueEntry,
    CustomerCap,
    LedgerEntry,
    Proposal,
    RequestStatus,
    cap_breaches,
    earliest_window,
    grant,
    propose,
    rank_of_roles,
    rank_order,
    remaining,
    reverse,
)
from ..domain.errors import AlreadyExists, CaseNotFound, NotPermitted
from ..repository import UnitOfWork
from ..repository.cases import TimelineEntry
from ..repository.compensations import CurrencyTotal, LedgerFilter, LedgerPosition


@dataclass(frozen=True)
class Actor:
    """Who gives the command: the token's subject (None with authentication off) and roles."""

    subject: str | None
    roles: frozenset[str]


async def rank_of(uow: UnitOfWork, actor: Actor) -> Rank:
    """The actor's rank: the active routing agent whose id or email is the token's subject, else
    the highest rank the token's roles give (supervisor, admin = manager, agent)."""
    if actor.subject:
        agent = await uow.org.get_agent(actor.subject)
        if agent is None and "@" in actor.subject:
            wanted = actor.subject.casefold()
            agent = next(
                (
                    a
                    for a in await uow.org.list_agents()
                    if a.email and a.email.casefold() == wanted
                ),
                None,
            )
        if agent is not None and agent.active:
            return agent.rank
    rank = rank_of_roles(actor.roles)
    if rank is None:
        raise NotPermitted("the caller has no rank that may grant or decide compensations")
    return rank


# --- catalogue -------------------------------------------------------------------------------


class CatalogueEntryNotFound(NotFound):
    def __init__(self, code: str, version: int | None = None) -> None:
        which = f"{code!r} version {version}" if version else repr(code)
        super().__init__(
            f"the compensation catalogue has no entry {which}", title="Catalogue entry not found"
        )


async def catalogue(uow: UnitOfWork) -> list[CatalogueEntry]:
    return await uow.compensations.entries()


async def catalogue_entry(uow: UnitOfWork, code: str, version: int | None = None) -> CatalogueEntry:
    entry = await uow.compensations.entry(code, version)
    if entry is None:
        raise CatalogueEntryNotFound(code, version)
    return entry


async def catalogue_history(uow: UnitOfWork, code: str) -> list[CatalogueEntry]:
    versions = await uow.compensations.history(code)
    if not versions:
        raise CatalogueEntryNotFound(code)
    return versions


async def save_entry(
    uow: UnitOfWork, entry: CatalogueEntry, now: datetime, actor: str | None, *, create: bool
) -> CatalogueEntry:
    """Create an entry (version 1) or store its next version; deactivating is a version with
    active = false (nothing is ever deleted: grants keep pointing at their terms)."""
    entry.validate()
    current = await uow.compensations.entry(entry.code)
    if create and current is not None:
        raise AlreadyExists("compensation catalogue entry", entry.code)
    if not create and current is None:
        raise CatalogueEntryNotFound(entry.code)
    stored = entry.next_version(current, now, actor)
    if not await uow.compensations.add_entry(stored):
        raise Conflict(
            f"catalogue entry {entry.code!r} changed meanwhile; reload it and retry",
            title="Catalogue entry changed",
        )
    return stored


# --- approval limits and caps ----------------------------------------------------------------


async def limits(uow: UnitOfWork) -> list[ApprovalLimit]:
    return await uow.compensations.limits()


async def set_limit(uow: UnitOfWork, limit: ApprovalLimit) -> ApprovalLimit:
    if errors := limit.problems():
        raise Invalid(errors)
    await uow.compensations.put_limit(limit)
    return limit


async def remove_limit(uow: UnitOfWork, rank: Rank, currency: str) -> None:
    if not await uow.compensations.delete_limit(rank, currency):
        raise NotFound(f"no approval limit for {rank} in {currency}", title="Limit not found")


async def caps(uow: UnitOfWork) -> list[CustomerCap]:
    return await uow.compensations.caps()


async def set_cap(uow: UnitOfWork, cap: CustomerCap) -> CustomerCap:
    if errors := cap.problems():
        raise Invalid(errors)
    await uow.compensations.put_cap(cap)
    return cap


async def remove_cap(uow: UnitOfWork, cap_id: str) -> None:
    if not await uow.compensations.delete_cap(cap_id):
        raise NotFound(f"no customer cap {cap_id!r}", title="Cap not found")


# --- granting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantOutcome:
    """Granted at once (`grant`) or asked of a higher rank (`request`)."""

    grant: LedgerEntry | None = None
    request: ApprovalRequest | None = None


async def _open_case(uow: UnitOfWork, case_id: uuid.UUID) -> tuple[RoutedCase, CaseFacts]:
    """The case, locked, if it may take a compensation: it exists and is not closed."""
    case = await uow.cases.get_for_update(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    if case.status is CaseStatus.CLOSED:
        raise Conflict(
            f"case {case.number} is closed, so it takes no compensation (reopen it first)",
            title="Case is closed",
            errors=[FieldError("case_id", "case_closed", "a closed case takes no compensation")],
            extensions={"current_status": case.status.value},
        )
    return case, CaseFacts(
        id=case.id,
        number=case.number,
        type=case.type,
        motive=case.motive,
        customer_id=case.customer_id,
        team=case.team,
        agent_id=case.agent_id,
    )


async def _check_caps(
    uow: UnitOfWork, proposal: Proposal, now: datetime, *, conflict: bool
) -> None:
    """Hold the customer's lock (to the end of the unit of work) and refuse a grant that would
    break a cap: two grants racing for one customer are decided one after the other, so the
    second sees the first. Invalid (422) when asked; Conflict (409) when deciding a request
    that was fine when asked."""
    if proposal.customer_id is None:
        return
    caps = await uow.compensations.caps()
    since = earliest_window(caps, now)
    if since is None:
        return
    await uow.compensations.lock_customer(proposal.customer_id)
    usage = await uow.compensations.usage(proposal.customer_id, since)
    breaches = cap_breaches(caps, usage, proposal.amount, proposal.currency, now)
    if not breaches:
        return
    if conflict:
        raise Conflict(
            "granting it now would break the customer's cap: "
            + "; ".join(e.message for e in breaches),
            title="Customer cap reached",
            errors=breaches,
        )
    raise Invalid(breaches)


async def _note(
    uow: UnitOfWork, case_id: uuid.UUID, at: datetime, summary: str, actor: str | None
) -> None:
    await uow.cases.add_timeline(TimelineEntry(case_id, at, "compensation", summary, actor))


async def _grant(
    uow: UnitOfWork,
    proposal: Proposal,
    *,
    actor: str | None,
    now: datetime,
    language: str | None,
    approved_by: str | None = None,
    request_id: uuid.UUID | None = None,
    grant_id: uuid.UUID | None = None,
) -> LedgerEntry:
    terms = await uow.compensations.entry(proposal.catalogue_code, proposal.catalogue_version)
    entry, granted = grant(
        proposal,
        actor=actor,
        now=now,
        descriptions=terms.descriptions if terms else {},
        language=language,
        approved_by=approved_by,
        request_id=request_id,
        grant_id=grant_id,
    )
    await uow.compensations.record(entry)
    await uow.emit(granted, subject=proposal.case_id)
    await _note(
        uow,
        proposal.case_id,
        now,
        f"compensation granted: {proposal.catalogue_code} {proposal.amount} {proposal.currency}",
        actor,
    )
    return entry


async def grant_on_case(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    *,
    catalogue_code: str,
    currency: str,
    amount: Decimal | None,
    order_value: Decimal | None,
    cost_centre: str | None,
    reason: str | None,
    actor: Actor,
    now: datetime,
) -> GrantOutcome:
    """Within the actor's limit and the customer's caps: granted at once (ledger entry and
    compensation.granted). Above the limit: a request to the next rank that may grant it
    (compensation.requested)."""
    case, facts = await _open_case(uow, case_id)
    entry = await uow.compensations.entry(catalogue_code)
    if entry is None:
        raise Invalid.field(
            "catalogue_code", "unknown", f"the catalogue has no entry {catalogue_code!r}"
        )
    proposal = propose(
        entry,
        facts,
        currency=currency,
        amount=amount,
        order_value=order_value,
        cost_centre=cost_centre,
        reason=reason,
        now=now,
    )
    rank = await rank_of(uow, actor)
    limits_ = ApprovalLimits.of(await uow.compensations.limits())
    approver = limits_.approver_for(rank, proposal.amount, proposal.currency)
    await _check_caps(uow, proposal, now, conflict=False)
    if approver is None:
        granted = await _grant(uow, proposal, actor=actor.subject, now=now, language=case.language)
        return GrantOutcome(grant=granted)
    request, requested = ApprovalRequest.open(
        proposal, requested_by=actor.subject, rank=rank, approver_rank=approver, now=now
    )
    await uow.compensations.add_request(request)
    await uow.emit(requested, subject=case_id)
    await _note(
        uow,
        case_id,
        now,
        f"compensation asked of a {approver}: {proposal.catalogue_code} {proposal.amount}"
        f" {proposal.currency}",
        actor.subject,
    )
    return GrantOutcome(request=request)


async def _pending(uow: UnitOfWork, request_id: uuid.UUID) -> ApprovalRequest:
    request = await uow.compensations.request(request_id, for_update=True)
    if request is None:
        raise NotFound(f"no compensation request {request_id}", title="Request not found")
    return request


async def approve(
    uow: UnitOfWork, request_id: uuid.UUID, *, reason: str, actor: Actor, now: datetime
) -> tuple[ApprovalRequest, LedgerEntry]:
    """Someone of the rank asked (or above) approves: compensation.approved, then the grant
    (compensation.granted), if the case is still open and the customer's caps still allow it."""
    request = await _pending(uow, request_id)
    rank = await rank_of(uow, actor)
    grant_id = uuid.uuid4()
    approved, event = request.approve(actor.subject, rank, reason, now, grant_id)
    case, _ = await _open_case(uow, request.proposal.case_id)
    await _check_caps(uow, request.proposal, now, conflict=True)
    await uow.compensations.save_request(approved)
    await uow.emit(event, subject=request.proposal.case_id)
    granted = await _grant(
        uow,
        request.proposal,
        actor=request.requested_by,
        now=now,
        language=case.language,
        approved_by=actor.subject,
        request_id=request.id,
        grant_id=grant_id,
    )
    return approved, granted


async def reject(
    uow: UnitOfWork, request_id: uuid.UUID, *, reason: str, actor: Actor, now: datetime
) -> ApprovalRequest:
    request = await _pending(uow, request_id)
    rank = await rank_of(uow, actor)
    rejected, event = request.reject(actor.subject, rank, reason, now)
    await uow.compensations.save_request(rejected)
    await uow.emit(event, subject=request.proposal.case_id)
    await _note(
        uow,
        request.proposal.case_id,
        now,
        f"compensation refused: {request.proposal.catalogue_code} ({rejected.decision_reason})",
        actor.subject,
    )
    return rejected


async def get_request(uow: UnitOfWork, request_id: uuid.UUID) -> ApprovalRequest:
    request = await uow.compensations.request(request_id)
    if request is None:
        raise NotFound(f"no compensation request {request_id}", title="Request not found")
    return request


async def requests_for(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: RequestStatus | None,
    case_id: uuid.UUID | None,
    every_rank: bool,
    limit: int,
) -> list[ApprovalRequest]:
    """Requests (pending by default at the route), oldest first: those the actor's rank may
    decide, or every one with `every_rank`."""
    ranks: list[Rank] | None = None
    if not every_rank:
        rank = await rank_of(uow, actor)
        ranks = [r for r in LADDER if rank_order(r) <= rank_order(rank)]
    return await uow.compensations.requests(
        status=status, ranks=ranks, case_id=case_id, limit=limit
    )


# --- reversals and the ledger ------------------------------------------------------------------


@dataclass(frozen=True)
class GrantView:
    grant: LedgerEntry
    reversals: list[LedgerEntry]

    @property
    def remaining(self) -> Decimal:
        return remaining(self.grant, self.reversals)


class GrantNotFound(NotFound):
    def __init__(self, grant_id: uuid.UUID) -> None:
        super().__init__(f"the ledger has no grant {grant_id}", title="Grant not found")


async def reverse_grant(
    uow: UnitOfWork,
    grant_id: uuid.UUID,
    *,
    amount: Decimal | None,
    reason: str,
    actor: Actor,
    now: datetime,
) -> LedgerEntry:
    """Take back part or all of a grant (a negative entry and compensation.reversed); never
    more than what remains. The grant's row is locked, so two reversals are decided in turn."""
    granted = await uow.compensations.grant_entry(grant_id, for_update=True)
    if granted is None:
        raise GrantNotFound(grant_id)
    reversals = await uow.compensations.reversals_of(grant_id)
    case = await uow.cases.get(granted.case_id)
    entry, event = reverse(
        granted,
        reversals,
        amount=amount,
        reason=reason,
        actor=actor.subject,
        now=now,
        case_number=case.number if case else (granted.case_number or ""),
    )
    await uow.compensations.record(entry)
    await uow.emit(event, subject=granted.case_id)
    await _note(
        uow,
        granted.case_id,
        now,
        f"compensation reversed: {event.amount} {event.currency} of {granted.catalogue_code}",
        actor.subject,
    )
    return entry


async def grant_view(uow: UnitOfWork, grant_id: uuid.UUID) -> GrantView:
    granted = await uow.compensations.grant_entry(grant_id)
    if granted is None:
        raise GrantNotFound(grant_id)
    return GrantView(granted, await uow.compensations.reversals_of(grant_id))


@dataclass(frozen=True)
class LedgerPage:
    entries: list[LedgerEntry]
    totals: list[CurrencyTotal]
    next_cursor: str | None


async def ledger(
    uow: UnitOfWork, where: LedgerFilter, cursor: str | None, limit: int
) -> LedgerPage:
    """A page of the ledger (newest first) with the totals per currency of everything the
    filter matches (not only the page)."""
    after = None
    if cursor:
        try:
            after = LedgerPosition.decode(cursor)
        except ValueError:
            raise Invalid.field(
                "cursor", "invalid_cursor", "not a cursor this API gave out"
            ) from None
    entries = await uow.compensations.ledger(where, after, limit + 1)
    more = len(entries) > limit
    entries = entries[:limit]
    next_cursor = (
        LedgerPosition(entries[-1].recorded_at, entries[-1].entry_id).encode()
        if more and entries
        else None
    )
    return LedgerPage(entries, await uow.compensations.totals(where), next_cursor)
