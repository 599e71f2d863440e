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
    Contact,
    Outcome,
    RecordContact,
    decide_case,
)
from .domain.customers import CustomerRef, IdentityKind, choose_customer
from .repository.cases import CasesRepository
from .repository.catalogue import CatalogueRepository
from .repository.contacts import ContactsRepository
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
    `always_open` is an agent's explicit "open a new case" (POST /cases): it never joins."""
    now = datetime.now(UTC)
    contacts = ContactsRepository(uow.conn)
    if command.external_ref:
        seen = await contacts.by_external_ref(command.channel.value, command.external_ref)
        if seen is not None:  # the same email delivered twice is one contact
            case = await contacts.case_by_id(seen["case_id"]) if seen["case_id"] else None
            outcome = Outcome.RECORDED if case is None else Outcome.JOINED
            return ContactRecorded(seen["id"], seen["customer_id"], outcome, case, replayed=True)

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
                customer.id, classification.motive, now - join_window
            )
        decision = decide_case(command.kind, named_case, same_problem, now, join_window)

    contact_id = uuid.uuid4()
    case_ref = decision.case
    if decision.outcome is Outcome.OPENED:
        case_ref = await _open_case(
            uow, command, customer, classification.motive or default_motive, contact_id, now
        )
    contact = Contact(
        id=contact_id,
        customer_id=customer.id,
        case_id=case_ref.id if case_ref else None,
        command=command,
        motive=classification.motive,
        received_at=command.received_at or now,
    )
    await contacts.add(contact)
    subject = case_ref.id if case_ref else None
    if case_ref is not None:
        current_case_id.set(str(case_ref.id))
    if decision.outcome is Outcome.JOINED and case_ref is not None and decision.reason is not None:
        await uow.emit(contact.linked_event(case_ref, decision.reason, now), subject=subject)
    await uow.emit(contact.received_event(customer.returning), subject=subject)
    return ContactRecorded(contact_id, customer.id, decision.outcome, case_ref)


async def _open_case(
    uow: UnitOfWork,
    command: RecordContact,
    customer: ResolvedCustomer,
    motive: str,
    contact_id: uuid.UUID | None,
    now: datetime,
) -> CaseRef:
    cases = CasesRepository(uow.conn)
    emails = [i.value for i in command.customer.identities() if i.kind is IdentityKind.EMAIL]
    reply_email = emails[0] if emails else customer.row["primary_email"]
    case = Case(
        id=uuid.uuid4(),
        number=case_number(now.year, await cases.next_case_sequence(now.year)),
        customer_id=customer.id,
        customer_name=command.customer.name or customer.row["name"],
        customer_email=reply_email,
        type=CaseType(command.kind.value),
        channel=command.channel,
        description=command.text,
        opened_at=command.received_at or now,
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
    return CaseRef(case.id, case.number, customer.id, motive, "open", case.opened_at)
