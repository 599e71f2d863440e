"""Intake's use cases: each combines the domain's decisions with the repositories inside one unit
of work (one transaction, events included). HTTP routes, the email channel and the web form all
call these, so a contact is recorded the same way whichever door it came through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from atiende_contracts import CaseType
from atiende_runtime.logs import current_case_id
from atiende_runtime.problems import Problem
from atiende_runtime.uow import UnitOfWork

from .domain.cases import Case, case_number
from .domain.catalogue import classification_errors
from .domain.contacts import (
    OPENS_CASE,
    CaseDecision,
    CaseRef,
    CaseStatus,
    Contact,
    Outcome,
    RecordContact,
    decide_case,
    serialisation_key,
)
from .domain.customers import CustomerRef, IdentityKind, choose_customer
from .repository.cases import CasesRepository
from .repository.catalogue import CatalogueRepository
from .repository.contacts import ContactsRepository, hold_advisory_locks
from .repository.customers import CustomersRepository, profile_of

VALIDATION = "https://atiende.dev/problems/validation"


def invalid(errors: list[dict[str, str]]) -> Problem:
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return Problem(
        422,
        "Request validation failed",
        f"Invalid field(s): {fields}",
        type_=VALIDATION,
        errors=errors,
    )


@dataclass(frozen=True)
class ResolvedCustomer:
    id: uuid.UUID
    row: Any  # the locked customers row
    created: bool
    returning: bool


async def resolve_customer(
    uow: UnitOfWork, ref: CustomerRef, now: datetime, *, field: str = "customer"
) -> ResolvedCustomer:
    """The customer a contact is from: by id, else by any known identity, else a new customer.
    New identities given with the contact are attached. The customer row is locked until commit."""
    repo = CustomersRepository(uow.conn)
    identities = ref.identities()
    # Two first contacts of one new customer may arrive at once (a double-clicked form, an email
    # and a call). Both would find no owner for the identity and create a customer each; the
    # identities' unique constraint only makes the loser's attach a silent no-op, leaving a
    # duplicate customer with its own case. So the whole find-or-create-and-attach is serialised
    # per identity with transaction-level advisory locks: the second contact waits for the first
    # to commit, then finds the customer it created. A lock (rather than catching the unique
    # violation and retrying) keeps record_contact a single straight pass whose effects all
    # commit together, and costs nothing when the identities are not contended.
    await hold_advisory_locks(
        uow.conn, [serialisation_key("identity", i.kind, i.scope, i.value) for i in identities]
    )
    customer_id = ref.id
    if customer_id is None:
        customer_id = choose_customer(await repo.owners(identities))
    created = False
    if customer_id is None:
        customer_id = uuid.uuid4()
        await repo.create(customer_id, ref.name or "", ref.email)
        created = True
    row = await repo.lock(customer_id)
    if row is None:
        raise invalid(
            [
                {
                    "field": f"{field}.id",
                    "rule": "unknown_customer",
                    "message": f"no customer {customer_id}",
                }
            ]
        )
    if row["merged_into"] is not None:  # an old id of a merged customer: use the survivor
        row = await repo.lock(row["merged_into"])
        assert row is not None
        customer_id = row["id"]
    if row["erased_at"] is not None:
        raise Problem(
            409,
            "Customer erased",
            f"Customer {customer_id} was erased; record the contact as a new customer",
        )
    returning = not created and await repo.has_contacts(customer_id)
    await repo.attach(customer_id, identities)
    await repo.fill_in(customer_id, ref.name, ref.email)
    if created:
        await uow.emit(profile_of(row).changed_event(now))
    return ResolvedCustomer(customer_id, row, created, returning)


@dataclass(frozen=True)
class ContactRecorded:
    contact_id: uuid.UUID
    customer_id: uuid.UUID
    outcome: Outcome
    case: CaseRef | None
    replayed: bool = False


async def record_contact(
    uow: UnitOfWork,
    command: RecordContact,
    *,
    join_window: timedelta,
    default_motive: str,
    always_open: bool = False,
) -> ContactRecorded:
    """Record a contact; open a case for it, or join the customer's case for the same problem.
    `always_open` is an agent's explicit "open a new case" (POST /cases): it never joins.

    Bad input raises a 422 Problem before anything is written; the caller's unit of work makes
    everything else one transaction, so nothing is ever half-saved."""
    now = datetime.now(UTC)
    received_at = command.received_at or now
    contacts = ContactsRepository(uow.conn)
    if command.external_ref:
        # the same email delivered twice, even to two replicas at once, is one contact: the lock
        # makes the second delivery wait until the first commits, then find it
        await hold_advisory_locks(
            uow.conn, [serialisation_key("external_ref", command.channel, command.external_ref)]
        )
        seen = await contacts.by_external_ref(command.channel.value, command.external_ref)
        if seen is not None:
            case = await contacts.case_by_id(seen["case_id"]) if seen["case_id"] else None
            return ContactRecorded(
                seen["id"], seen["customer_id"], Outcome(seen["outcome"]), case, replayed=True
            )

    named_case = None
    if command.case_number:
        named_case = await contacts.case_by_number(command.case_number)
        if named_case is None:
            raise invalid(
                [
                    {
                        "field": "case_number",
                        "rule": "unknown_case",
                        "message": f"no case {command.case_number}",
                    }
                ]
            )

    classification = command.classification
    opens = always_open or (named_case is None and command.kind in OPENS_CASE)
    if opens and classification.motive is None:
        classification = replace(classification, motive=default_motive)
    found = await CatalogueRepository(uow.conn).lookup_classification(classification)
    errors = classification_errors(classification, found, now.date(), motive_required=opens)
    if errors:
        raise invalid(errors)

    customer = await resolve_customer(uow, command.customer, now)
    if always_open:
        decision = CaseDecision(Outcome.OPENED)
    else:
        same_problem = []
        if opens and classification.motive:
            same_problem = await contacts.open_cases_with_motive(
                customer.id, classification.motive, received_at - join_window
            )
        decision = decide_case(command.kind, named_case, same_problem, received_at, join_window)

    contact_id = uuid.uuid4()
    case_ref = decision.case
    if decision.outcome is Outcome.OPENED:
        assert classification.motive is not None  # opening required a valid motive above
        case_ref = await _open_case(
            uow, command, customer, classification.motive, contact_id, received_at, now
        )
    motive = classification.motive
    if motive is None and case_ref is not None:
        motive = case_ref.motive  # a contact about a named case is about that case's problem
    contact = Contact(
        id=contact_id,
        customer_id=customer.id,
        case_id=case_ref.id if case_ref else None,
        command=command,
        motive=motive,
        received_at=received_at,
        outcome=decision.outcome,
        link_reason=decision.reason,
    )
    await contacts.add(contact)
    if case_ref is not None:
        current_case_id.set(str(case_ref.id))
    if decision.outcome is Outcome.JOINED and case_ref is not None and decision.reason is not None:
        await uow.emit(contact.linked_event(case_ref, decision.reason, now), subject=case_ref.id)
    await uow.emit(
        contact.received_event(customer.returning), subject=case_ref.id if case_ref else None
    )
    return ContactRecorded(contact_id, customer.id, decision.outcome, case_ref)


async def _open_case(
    uow: UnitOfWork,
    command: RecordContact,
    customer: ResolvedCustomer,
    motive: str,
    contact_id: uuid.UUID,
    opened_at: datetime,
    now: datetime,
) -> CaseRef:
    """Open a case for the contact `contact_id`. It is numbered in the year it is registered
    (`now`), even when the contact was received earlier (`opened_at`)."""
    cases = CasesRepository(uow.conn)
    year = now.year
    emails = [i.value for i in command.customer.identities() if i.kind is IdentityKind.EMAIL]
    reply_email = emails[0] if emails else customer.row["primary_email"]
    case = Case(
        id=uuid.uuid4(),
        number=case_number(year, await cases.next_case_sequence(year)),
        customer_id=customer.id,
        customer_name=command.customer.name or customer.row["name"],
        customer_email=reply_email,
        type=CaseType(command.kind.value),
        channel=command.channel,
        description=command.text,
        opened_at=opened_at,
        motive=motive,
        cause=command.cause,
        touchpoint=command.touchpoint,
        product=command.product,
        severity=command.severity,
        upset=command.upset,
        expectation=command.expectation,
        contact_id=contact_id,
    )
    await cases.add(case)
    profile = profile_of(customer.row)
    current_case_id.set(str(case.id))
    await uow.emit(
        case.opened_event(
            language=profile.language,
            formality=profile.formality,
            tier=profile.tier,
            consent_surveys=profile.consent_surveys,
        ),
        subject=case.id,
    )
    return CaseRef(case.id, case.number, customer.id, motive, CaseStatus.OPEN, case.opened_at)
