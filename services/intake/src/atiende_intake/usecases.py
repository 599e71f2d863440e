"""Intake's use cases: each combines the domain's decisions with the repositories of one unit of
work (one transaction, events included). HTTP routes, the email channel (SMTP listener and
POST /inbound/email), the web form and the consumers all call these, so a contact is recorded the
same way whichever door it came through. They raise domain errors (domain/errors.py), never HTTP
ones; `now` is a parameter so tests need no clock."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from atiende_contracts import (
    CaseType,
    CatalogueKind,
    ContactKind,
    EmailBounced,
    Envelope,
    EventData,
    LinkReason,
)
from atiende_runtime.logs import current_case_id

from .domain.cases import (
    Case,
    Reclassification,
    case_merge_refusal,
    case_number,
    merged_event,
    reclassified_event,
)
from .domain.catalogue import (
    CatalogueEntry,
    Classification,
    changed_entry,
    classification_errors,
    entry_errors,
    retires_default_motive,
)
from .domain.contacts import (
    OPENS_CASE,
    CaseDecision,
    CaseRef,
    CaseStatus,
    Contact,
    Outcome,
    RecordContact,
    decide_case,
)
from .domain.customers import (
    ERASABLE_FIELDS,
    ContactFacts,
    Customer,
    CustomerMerge,
    CustomerRef,
    Erasure,
    HistoryEntry,
    Identity,
    NewCustomer,
    ProfileChanges,
    Refusal,
    choose_customer,
    erase_refusal,
    identity_conflicts,
    merge_refusal,
    unchangeable,
    undo_refusal,
)
from .domain.email import NOTIFICATIONS_MESSAGE_ID, InboundEmail, UnusableEmail, parse_email
from .domain.errors import (
    CaseConflict,
    CaseNotFound,
    CodeExists,
    ContactNotFound,
    CustomerConflict,
    CustomerNotFound,
    EntryNotFound,
    FieldError,
    IdentityTaken,
    Invalid,
    KeptMailNotFound,
    MergeNotFound,
    RetiresDefaultMotive,
    StaleCase,
    TakenIdentity,
)
from .domain.feedback import (
    BouncedRecipient,
    Feedback,
    FeedbackKind,
    KeptMail,
    read_feedback,
    unreadable_message_id,
)
from .domain.history import case_fact
from .domain.webform import FormContact, motive_options
from .repository.cases import CaseFilter
from .repository.contacts import ContactFilter
from .repository.locks import NaturalKey
from .repository.ports import UnitOfWork
from .repository.sql import Position
from .settings import IntakeSettings


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _invalid(errors: list[dict[str, str]]) -> Invalid:
    return Invalid(FieldError(e["field"], e["rule"], e["message"]) for e in errors)


def _identity_keys(identities: list[Identity]) -> list[NaturalKey]:
    return [("identity", i.kind, i.scope, i.value) for i in identities]


# --- recording contacts ---------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedCustomer:
    id: uuid.UUID
    customer: Customer  # locked until commit
    created: bool
    returning: bool


async def resolve_customer(
    uow: UnitOfWork,
    ref: CustomerRef,
    now: datetime,
    *,
    field: str = "customer",
    actor: str | None = None,
) -> ResolvedCustomer:
    """The customer a contact is from: by id, else by any known identity, else a new customer.
    New identities given with the contact are attached. The customer row is locked until commit."""
    identities = ref.identities()
    # Two first contacts of one new customer may arrive at once (a double-clicked form, an email
    # and a call). Both would find no owner for the identity and create a customer each; the
    # identities' unique constraint only makes the loser's attach a silent no-op, leaving a
    # duplicate customer with its own case. So the whole find-or-create-and-attach is serialised
    # per identity with transaction-level advisory locks: the second contact waits for the first
    # to commit, then finds the customer it created. A lock (rather than catching the unique
    # violation and retrying) keeps record_contact a single straight pass whose effects all
    # commit together, and costs nothing when the identities are not contended.
    await uow.locks.hold(_identity_keys(identities))
    customers = uow.customers
    customer_id = ref.id
    if customer_id is None:
        customer_id = choose_customer(await customers.owners(identities))
    created = False
    if customer_id is None:
        customer_id = uuid.uuid4()
        await customers.create(customer_id, ref.name or "", ref.email)
        created = True
    customer = await customers.lock(customer_id)
    if customer is None:
        raise Invalid.field(f"{field}.id", "unknown_customer", f"no customer {customer_id}")
    if customer.merged_into is not None:  # an old id of a merged customer: use the survivor
        survivor = await customers.lock(customer.merged_into)
        assert survivor is not None
        customer, customer_id = survivor, survivor.id
    if customer.erased_at is not None:
        raise CustomerConflict(
            f"Customer {customer_id} was erased; record the contact as a new customer",
            title="Customer erased",
        )
    returning = not created and await customers.has_contacts(customer_id)
    await customers.attach(customer_id, identities)
    await customers.fill_in(customer_id, ref.name, ref.email)
    if created:
        await uow.emit(customer.profile.changed_event(now, actor))
    return ResolvedCustomer(customer_id, customer, created, returning)


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
    actor: str | None = None,
    now: datetime | None = None,
) -> ContactRecorded:
    """Record a contact; open a case for it, or join the customer's case for the same problem.
    `always_open` is an agent's explicit "open a new case" (POST /cases): it never joins.
    `actor` is the staff member recording it (None: the customer wrote in themselves).

    Bad input raises Invalid before anything is written; the caller's unit of work makes
    everything else one transaction, so nothing is ever half-saved."""
    now = _now(now)
    received_at = command.received_at or now
    if command.external_ref:
        # the same email delivered twice, even to two replicas at once, is one contact: the lock
        # makes the second delivery wait until the first commits, then find it
        await uow.locks.hold([("external_ref", command.channel, command.external_ref)])
        seen = await uow.contacts.by_external_ref(command.channel, command.external_ref)
        if seen is not None:
            case = await uow.cases.ref(seen.case_id) if seen.case_id else None
            return ContactRecorded(seen.id, seen.customer_id, seen.outcome, case, replayed=True)

    named_case = None
    if command.case_number:
        named_case = await uow.cases.ref_by_number(command.case_number)
        if named_case is None:
            raise Invalid.field("case_number", "unknown_case", f"no case {command.case_number}")
        named_case = await _survivor(uow, named_case)

    classification = command.classification
    opens = always_open or (named_case is None and command.kind in OPENS_CASE)
    if opens and classification.motive is None:
        classification = replace(classification, motive=default_motive)
    found = await uow.catalogue.lookup_classification(classification)
    errors = classification_errors(classification, found, now.date(), motive_required=opens)
    if errors:
        raise _invalid(errors)

    customer = await resolve_customer(uow, command.customer, now, actor=actor)
    if always_open:
        decision = CaseDecision(Outcome.OPENED)
    else:
        same_problem: list[CaseRef] = []
        # an unclassified contact (the default motive) says nothing about its problem: it joins
        # a case only by its number, a thread header or an agent's choice, never by "same motive"
        if opens and classification.motive and classification.motive != default_motive:
            same_problem = await uow.cases.open_with_motive(
                customer.id, classification.motive, received_at - join_window
            )
        decision = decide_case(
            command.kind,
            named_case,
            same_problem,
            received_at,
            join_window,
            command.case_link_reason,
        )

    contact_id = uuid.uuid4()
    case_ref = decision.case
    if decision.outcome is Outcome.OPENED:
        assert classification.motive is not None  # opening required a valid motive above
        case_ref = await _open_case(
            uow, command, customer, classification.motive, contact_id, received_at, now, actor
        )
    motive = classification.motive
    if motive is None and case_ref is not None:
        motive = case_ref.motive  # a contact about a named case is about that case's problem
    contact = Contact.recorded(
        id=contact_id,
        customer_id=customer.id,
        case=case_ref,
        command=command,
        motive=motive,
        received_at=received_at,
        decision=decision,
    )
    await uow.contacts.add(contact)
    if case_ref is not None:
        current_case_id.set(str(case_ref.id))
    if decision.outcome is Outcome.JOINED and case_ref is not None and decision.reason is not None:
        await uow.emit(contact.linked_event(case_ref, decision.reason, now), subject=case_ref.id)
    await uow.emit(
        contact.received_event(customer.returning), subject=case_ref.id if case_ref else None
    )
    return ContactRecorded(contact_id, customer.id, decision.outcome, case_ref)


async def _survivor(uow: UnitOfWork, case: CaseRef) -> CaseRef:
    """A case merged into another speaks through the one it was merged into."""
    seen = {case.id}
    while case.merged_into is not None and case.merged_into not in seen:
        into = await uow.cases.ref(case.merged_into)
        if into is None:
            break
        seen.add(into.id)
        case = into
    return case


async def _open_case(
    uow: UnitOfWork,
    command: RecordContact,
    customer: ResolvedCustomer,
    motive: str,
    contact_id: uuid.UUID,
    opened_at: datetime,
    now: datetime,
    actor: str | None,
) -> CaseRef:
    """Open a case for the contact `contact_id`. It is numbered in the year it is registered
    (`now`), even when the contact was received earlier (`opened_at`)."""
    year = now.year
    reply_email = command.customer.email or customer.customer.primary_email
    case = Case(
        id=uuid.uuid4(),
        number=case_number(year, await uow.cases.next_case_sequence(year)),
        customer_id=customer.id,
        customer_name=command.customer.name or customer.customer.name,
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
        opened_by=actor,
    )
    await uow.cases.add(case)
    current_case_id.set(str(case.id))
    await _announce_opened(uow, case, customer.customer)
    return case.ref


async def _announce_opened(uow: UnitOfWork, case: Case, customer: Customer) -> None:
    """case.opened, carrying what other services need to treat the customer well: language and
    register, consents, preferred channel, phone."""
    profile = customer.profile
    await uow.emit(
        case.opened_event(
            language=profile.language,
            formality=profile.formality,
            tier=profile.tier,
            consent_surveys=profile.consent_surveys,
            consent_marketing=profile.consent_marketing,
            preferred_channel=profile.preferred_channel,
            customer_phone=await uow.customers.phone_of(customer.id),
        ),
        subject=case.id,
    )


async def open_case(
    uow: UnitOfWork,
    command: RecordContact,
    settings: IntakeSettings,
    now: datetime | None = None,
    *,
    actor: str | None = None,
) -> Case:
    """An agent opens a case directly: the contact it comes from is recorded with it, and it
    never joins another case."""
    recorded = await record_contact(
        uow,
        command,
        join_window=timedelta(days=settings.join_window_days),
        default_motive=settings.default_motive,
        always_open=True,
        actor=actor,
        now=now,
    )
    assert recorded.case is not None  # always_open opens one
    return await get_case(uow, recorded.case.id)


async def record(
    uow: UnitOfWork,
    command: RecordContact,
    settings: IntakeSettings,
    now: datetime | None = None,
    *,
    actor: str | None = None,
) -> ContactRecorded:
    """record_contact with the configured join window and default motive."""
    return await record_contact(
        uow,
        command,
        join_window=timedelta(days=settings.join_window_days),
        default_motive=settings.default_motive,
        actor=actor,
        now=now,
    )


# --- the public channels: email and the web form --------------------------------------------


async def record_email(
    uow: UnitOfWork, email: InboundEmail, settings: IntakeSettings, now: datetime | None = None
) -> ContactRecorded:
    """Record a customer's email; a reply naming one of our cases, or answering a message of
    one (ours or the customer's earlier email), joins it."""
    number, reason = await case_answered(uow, email)
    contact = email.contact(
        kind=settings.inbound_email_kind, case_number=number, link_reason=reason
    )
    return await record(uow, contact, settings, now)


async def case_answered(uow: UnitOfWork, email: InboundEmail) -> tuple[str | None, LinkReason]:
    """The case the email is about, and how it says so: the first case number it names that
    exists, else the case of the message its thread headers answer — a notification we sent, or
    the customer's own earlier email. A number we never issued (a typo, another company's
    reference) does not make the email fail: it is then recorded as a new contact."""
    for named in email.case_numbers:
        if await uow.cases.ref_by_number(named) is not None:
            return named, LinkReason.CASE_NUMBER
    number = await uow.sent_emails.case_number_of(email.replied_deliveries)
    if number is None:
        case_id = await uow.contacts.case_of_messages(email.thread)
        case = await uow.cases.ref(case_id) if case_id else None
        number = case.number if case else None
    return number, LinkReason.THREAD_HEADER


@dataclass(frozen=True)
class MailKept:
    """A message kept for an operator instead of becoming a contact."""

    kind: FeedbackKind
    reason: str
    id: uuid.UUID
    first_time: bool
    """False when the same message was kept before (a retry): nothing was done again."""
    case_id: uuid.UUID | None
    bounced: tuple[BouncedRecipient, ...] = ()


async def receive_mail(
    uow: UnitOfWork,
    raw: bytes,
    settings: IntakeSettings,
    *,
    null_sender: bool = False,
    now: datetime | None = None,
) -> ContactRecorded | MailKept:
    """Whatever reaches intake's mailbox: a customer's email becomes a contact; an auto-reply or
    a bounce is kept as feedback on the email it answers (a bounce also tells notifications:
    email.bounced); a message we cannot read at all is kept for an operator. Raises
    UnusableEmail for a message with nobody to answer (the caller refuses it)."""
    now = _now(now)
    try:
        feedback = read_feedback(raw, null_sender=null_sender)
    except Exception as exc:
        return await keep_unreadable(uow, raw, f"unreadable: {type(exc).__name__}", now)
    if feedback is not None:
        return await keep_feedback(uow, feedback, raw, now)
    try:
        email = parse_email(raw)
    except UnusableEmail:
        raise
    except Exception as exc:
        return await keep_unreadable(uow, raw, f"unreadable: {type(exc).__name__}", now)
    return await record_email(uow, email, settings, now)


async def keep_unreadable(uow: UnitOfWork, raw: bytes, reason: str, now: datetime) -> MailKept:
    mail = KeptMail(
        id=uuid.uuid4(),
        kind=FeedbackKind.UNREADABLE,
        reason=reason,
        message_id=unreadable_message_id(raw),
        raw=raw,
        received_at=now,
    )
    first = await uow.email_feedback.keep(mail)
    return MailKept(mail.kind, reason, mail.id, first, None)


async def keep_feedback(uow: UnitOfWork, feedback: Feedback, raw: bytes, now: datetime) -> MailKept:
    """Keep an auto-reply or bounce, on the email of ours it answers when we know it; a bounce
    seen for the first time publishes email.bounced per recipient."""
    deliveries = [
        uuid.UUID(found.group(1))
        for answered in feedback.answers
        if (found := NOTIFICATIONS_MESSAGE_ID.fullmatch(answered))
    ]
    known = await uow.sent_emails.delivery_of(deliveries)
    delivery_id, case_id = known if known else (deliveries[0] if deliveries else None, None)
    bounced = feedback.bounce.recipients if feedback.bounce else ()
    details: dict[str, object] = {"answers": list(feedback.answers)}
    if bounced:
        details["recipients"] = [
            {"recipient": b.recipient, "kind": b.kind.value, "status_code": b.status_code,
             "diagnostic": b.diagnostic}
            for b in bounced
        ]  # fmt: skip
    mail = KeptMail(
        id=uuid.uuid4(),
        kind=feedback.kind,
        reason=feedback.reason,
        message_id=feedback.message_id,
        raw=raw,
        received_at=now,
        sender=feedback.sender,
        subject=feedback.subject[:500],
        delivery_id=delivery_id,
        case_id=case_id,
        details=details,
    )
    first = await uow.email_feedback.keep(mail)
    if first and feedback.bounce is not None:
        original = feedback.bounce.original_message_id or (
            feedback.answers[0] if feedback.answers else ""
        )
        for recipient in bounced:
            event = EmailBounced(
                message_id=original,
                recipient=recipient.recipient,
                kind=recipient.kind,
                status_code=recipient.status_code,
                diagnostic=recipient.diagnostic,
                case_id=case_id,
                bounced_at=now,
            )
            await uow.emit(event, subject=case_id or recipient.recipient)
    return MailKept(feedback.kind, feedback.reason, mail.id, first, case_id, bounced)


async def record_form(
    uow: UnitOfWork, form: FormContact, settings: IntakeSettings, now: datetime | None = None
) -> ContactRecorded:
    """Record a web-form submission. What the customer chose on the form becomes their profile
    first, so the case.opened it causes already carries it: the survey consent always (the form
    asks it explicitly every time), the page's language only for a new customer (a returning one
    may have told us their preference before)."""
    now = _now(now)
    customer = await resolve_customer(uow, form.contact.customer, now)
    before = customer.customer.profile
    after = replace(before, consent_surveys=form.survey_consent)
    if customer.created:
        after = replace(after, language=str(form.language))
    if after != before:
        current = await uow.customers.get(customer.id)
        assert current is not None  # locked by resolve_customer
        # the customer changed it themselves: no staff actor
        await uow.customers.update_profile(customer.id, current.name, after, None)
        await uow.emit(after.changed_event(now))
    return await record(uow, form.contact, settings, now)


def form_bucket(address: str) -> str:
    """The rate-limit bucket of a client address: the address is personal data, so the table
    only ever holds a digest of it."""
    return "form:" + hashlib.sha256(address.encode()).hexdigest()[:32]


async def count_form_submission(
    uow: UnitOfWork, address: str, settings: IntakeSettings, now: datetime | None = None
) -> int | None:
    """Count one web-form submission from `address` in its fixed window; seconds until the window
    ends when the address is over the limit, else None."""
    now = _now(now)
    window = settings.form_rate_window_seconds
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, UTC)
    hits = await uow.rate_limits.hit(form_bucket(address), start)
    if hits <= settings.form_rate_limit:
        return None
    return max(1, math.ceil((start + timedelta(seconds=window) - now).total_seconds()))


MAX_FORM_MOTIVES = 200


async def form_motives(
    uow: UnitOfWork, language: str, settings: IntakeSettings, today: date | None = None
) -> list[tuple[str, str]]:
    """The motives the web form offers today, (code, name) in the page's language."""
    entries = await uow.catalogue.entries(
        CatalogueKind.MOTIVE,
        active=True,
        on=today or datetime.now(UTC).date(),
        parent=None,
        after_code=None,
        limit=MAX_FORM_MOTIVES,
    )
    return motive_options(entries, language, last=settings.default_motive)


# --- reading cases and contacts -------------------------------------------------------------


async def get_case(uow: UnitOfWork, case_id: uuid.UUID) -> Case:
    case = await uow.cases.get(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case


async def search_cases(
    uow: UnitOfWork, where: CaseFilter, after: Position | None, limit: int
) -> list[Case]:
    return await uow.cases.search(where, after, limit)


async def case_contacts(
    uow: UnitOfWork, case_id: uuid.UUID, after: Position | None, limit: int
) -> list[Contact]:
    """A case's contacts, oldest first."""
    if not await uow.cases.exists(case_id):
        raise CaseNotFound(case_id)
    return await uow.contacts.of_case(case_id, after, limit)


async def get_contact(uow: UnitOfWork, contact_id: uuid.UUID) -> Contact:
    contact = await uow.contacts.get(contact_id)
    if contact is None:
        raise ContactNotFound(contact_id)
    return contact


async def search_contacts(
    uow: UnitOfWork, where: ContactFilter, after: Position | None, limit: int
) -> list[Contact]:
    return await uow.contacts.search(where, after, limit)


async def motive_exists(uow: UnitOfWork, motive: str) -> bool:
    """Whether the catalogue ever had this motive (active or not)."""
    return bool(await uow.catalogue.lookup([(CatalogueKind.MOTIVE, motive)]))


# --- managing customers ---------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerRecord:
    customer: Customer
    identities: list[Identity]


def _conflict(refusal: Refusal) -> CustomerConflict:
    return CustomerConflict(refusal.detail, title=refusal.title)


async def _read_customer(uow: UnitOfWork, customer_id: uuid.UUID) -> CustomerRecord:
    customer = await uow.customers.get(customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    return CustomerRecord(customer, await uow.customers.identities(customer_id))


async def get_customer(uow: UnitOfWork, customer_id: uuid.UUID) -> CustomerRecord:
    return await _read_customer(uow, customer_id)


async def find_customer(uow: UnitOfWork, identity: Identity, described: str) -> CustomerRecord:
    """The customer who owns `identity` (a merged customer's identities find the survivor);
    `described` names what was looked up, for the not-found message."""
    owner = (await uow.customers.owners([identity])).get(identity)
    if owner is None:
        raise CustomerNotFound(detail=f"No customer has this {described}")
    return await _read_customer(uow, owner)


async def _attach_or_refuse(
    uow: UnitOfWork, customer_id: uuid.UUID, fields: tuple[tuple[str, Identity], ...]
) -> None:
    """Attach the given identities; one another customer owns is an IdentityTaken naming the
    field and the owner (the client may then merge the two). Attaching first and checking what
    did not attach also catches an identity taken by a concurrent request."""
    attached = set(await uow.customers.attach(customer_id, [identity for _, identity in fields]))
    not_attached = [identity for _, identity in fields if identity not in attached]
    conflicts = identity_conflicts(
        list(fields), await uow.customers.owners(not_attached), customer_id
    )
    if conflicts:
        taken = ", ".join(f"{c['field']} (customer {c['owner_id']})" for c in conflicts)
        raise IdentityTaken(
            f"Already another customer's: {taken}; merge the two customers if they are one",
            errors=[TakenIdentity(**c) for c in conflicts],
        )


async def _announce_profile(
    uow: UnitOfWork, customer: Customer, now: datetime, actor: str | None
) -> None:
    await uow.emit(customer.profile.changed_event(now, actor), subject=customer.id)


async def create_customer(
    uow: UnitOfWork, new: NewCustomer, now: datetime | None = None, *, actor: str | None = None
) -> CustomerRecord:
    """Create a customer with a profile and any identities known; emits customer.profile_changed.
    The per-identity locks record_contact takes are taken first (in the same order), so a contact
    arriving meanwhile with one of these identities waits and then finds this customer."""
    await uow.locks.hold(_identity_keys(new.identities()))
    customer_id = uuid.uuid4()
    await uow.customers.create_with_profile(customer_id, new, actor)
    await _attach_or_refuse(uow, customer_id, new.identity_fields)
    record = await _read_customer(uow, customer_id)
    await _announce_profile(uow, record.customer, _now(now), actor)
    return record


async def _changeable(uow: UnitOfWork, customer_id: uuid.UUID) -> Customer:
    customer = await uow.customers.lock(customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    if refusal := unchangeable(customer.state):
        raise _conflict(refusal)
    return customer


async def change_customer(
    uow: UnitOfWork,
    customer_id: uuid.UUID,
    changes: ProfileChanges,
    now: datetime | None = None,
    *,
    actor: str | None = None,
) -> CustomerRecord:
    """Change name and profile; emits customer.profile_changed only when the profile changed
    (the event carries the profile, not the name)."""
    customer = await _changeable(uow, customer_id)
    before = customer.profile
    after = changes.applied_to(before)
    name = changes.name or customer.name
    if after != before or name != customer.name:
        await uow.customers.update_profile(customer_id, name, after, actor)
    record = await _read_customer(uow, customer_id)
    if after != before:
        await _announce_profile(uow, record.customer, _now(now), actor)
    return record


async def attach_identities(
    uow: UnitOfWork,
    customer_id: uuid.UUID,
    fields: tuple[tuple[str, Identity], ...],
    email: str | None,
) -> CustomerRecord:
    """Attach identities to a customer (attaching one it already has is a no-op)."""
    if not fields:
        raise Invalid.field(
            "body",
            "missing",
            "give at least one identity (email, phone, document_id, external_ids, chat_handles)",
        )
    await uow.locks.hold(_identity_keys([identity for _, identity in fields]))
    await _changeable(uow, customer_id)
    await _attach_or_refuse(uow, customer_id, fields)
    await uow.customers.fill_in(customer_id, None, email)
    return await _read_customer(uow, customer_id)


async def merge_customers(
    uow: UnitOfWork, target_id: uuid.UUID, source_id: uuid.UUID, *, actor: str | None = None
) -> CustomerMerge:
    """Merge the source record of a person into the target: its identities, contacts and cases
    move; emits customer.merged."""
    customers = await uow.customers.lock_in_order(target_id, source_id)
    if target_id not in customers:
        raise CustomerNotFound(target_id)
    if source_id not in customers:
        raise Invalid.field("source_customer_id", "unknown_customer", f"no customer {source_id}")
    if refusal := merge_refusal(customers[target_id].state, customers[source_id].state):
        raise _conflict(refusal)
    merge = await uow.customers.merge(uuid.uuid4(), source_id, target_id, actor)
    await uow.emit(merge.merged_event(), subject=target_id)
    return merge


async def get_merge(uow: UnitOfWork, merge_id: uuid.UUID) -> CustomerMerge:
    merge = await uow.customers.get_merge(merge_id)
    if merge is None:
        raise MergeNotFound(merge_id)
    return merge


async def undo_merge(
    uow: UnitOfWork, merge_id: uuid.UUID, *, actor: str | None = None
) -> CustomerMerge:
    """Undo a merge: exactly what moved moves back; emits customer.merge_undone."""
    merge = await uow.customers.lock_merge(merge_id)
    if merge is None:
        raise MergeNotFound(merge_id)
    customers = await uow.customers.lock_in_order(merge.source_id, merge.target_id)
    target = customers[merge.target_id].state
    later = await uow.customers.active_merge_of(merge.target_id) if target.merged_into else None
    refusal = undo_refusal(merge.undone_at, target, customers[merge.source_id].state, later)
    if refusal:
        raise _conflict(refusal)
    undone = await uow.customers.undo_merge(merge, actor)
    await uow.emit(undone.undone_event(), subject=merge.target_id)
    return undone


@dataclass(frozen=True)
class CustomerHistory:
    customer: Customer
    facts: ContactFacts
    items: list[HistoryEntry]


async def customer_history(
    uow: UnitOfWork, customer_id: uuid.UUID, after: Position | None, limit: int
) -> CustomerHistory:
    customer = await uow.customers.get(customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    items = await uow.customers.history(customer_id, after, limit)
    return CustomerHistory(customer, await uow.customers.contact_facts(customer_id), items)


@dataclass(frozen=True)
class Erased:
    customer_id: uuid.UUID
    erased_at: datetime
    case_ids: list[uuid.UUID]
    facts: ContactFacts


async def erase_customer(
    uow: UnitOfWork, customer_id: uuid.UUID, *, actor: str | None = None
) -> Erased:
    """Erase a customer's personal data (pseudonymised, not deleted); emits customer.erased.
    Erasing again answers the same and emits nothing."""
    customer = await uow.customers.lock(customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    if customer.erased_at is None:
        if refusal := erase_refusal(customer.state):
            raise _conflict(refusal)
        values = await uow.customers.personal_values(customer_id)
        erased_at = await uow.customers.erase(customer_id, actor)
        case_ids = await uow.customers.case_ids(customer_id)
        await uow.email_feedback.erase(values, case_ids)
        # the outbox's kept events and the stored responses hold the same data as the tables
        await uow.scrub_copies(
            subjects=[customer_id, *case_ids], values=values, free_text=ERASABLE_FIELDS
        )
        erasure = Erasure(customer_id, erased_at, case_ids, actor)
        await uow.emit(erasure.erased_event(), subject=customer_id)
    else:
        erased_at = customer.erased_at
    return Erased(
        customer_id,
        erased_at,
        await uow.customers.case_ids(customer_id),
        await uow.customers.contact_facts(customer_id),
    )


# --- managing the catalogue -----------------------------------------------------------------


async def _check_entry(uow: UnitOfWork, entry: CatalogueEntry) -> None:
    parent = None
    if entry.kind is CatalogueKind.CAUSE and entry.parent_code is not None:
        parent = await uow.catalogue.get(CatalogueKind.MOTIVE, entry.parent_code)
    errors = entry_errors(entry, parent)
    if errors:
        raise _invalid(errors)


async def _announce_entry(
    uow: UnitOfWork, entry: CatalogueEntry, now: datetime, actor: str | None
) -> None:
    # one subject per entry, so consumers see an entry's changes in order
    subject = f"catalogue:{entry.kind.value}:{entry.code}"
    await uow.emit(entry.changed_event(now, actor), subject=subject)


def entry_location(entry: CatalogueEntry) -> str:
    return f"/catalogue/{entry.kind.value}/{entry.code}"


async def create_entry(
    uow: UnitOfWork, entry: CatalogueEntry, now: datetime | None = None, *, actor: str | None = None
) -> CatalogueEntry:
    """Create a catalogue entry; emits catalogue.entry_changed."""
    await _check_entry(uow, entry)
    if not await uow.catalogue.add(entry, actor):
        raise CodeExists(
            f"A {entry.kind.value} with code {entry.code!r} exists; change it with PATCH "
            f"{entry_location(entry)}"
        )
    await _announce_entry(uow, entry, _now(now), actor)
    return entry


async def change_entry(
    uow: UnitOfWork,
    kind: CatalogueKind,
    code: str,
    changes: Mapping[str, Any],
    *,
    default_motive: str,
    actor: str | None = None,
    now: datetime | None = None,
) -> CatalogueEntry:
    """Change an entry's names, active flag or validity dates; emits catalogue.entry_changed
    when something changed. Retiring the configured default motive is refused."""
    now = _now(now)
    before = await uow.catalogue.lock(kind, code)
    if before is None:
        raise EntryNotFound(f"No {kind.value} with code {code!r}")
    after = changed_entry(before, changes)
    await _check_entry(uow, after)
    if retires_default_motive(before, after, default_motive, now.date()):
        raise RetiresDefaultMotive(
            f"{code} is the default motive of contacts that arrive without one; "
            "configure another default motive before retiring it"
        )
    if after != before:
        await uow.catalogue.update(after, actor)
        await _announce_entry(uow, after, now, actor)
    return after


async def get_entry(uow: UnitOfWork, kind: CatalogueKind, code: str) -> CatalogueEntry:
    entry = await uow.catalogue.get(kind, code)
    if entry is None:
        raise EntryNotFound(f"No {kind.value} with code {code!r}")
    return entry


async def list_entries(
    uow: UnitOfWork,
    kind: CatalogueKind,
    *,
    active: bool | None,
    on: date | None,
    parent: str | None,
    after_code: str | None,
    limit: int,
) -> list[CatalogueEntry]:
    return await uow.catalogue.entries(
        kind, active=active, on=on, parent=parent, after_code=after_code, limit=limit
    )


# --- what other services tell intake -------------------------------------------------------


async def case_resolved(uow: UnitOfWork, case_id: uuid.UUID, at: datetime) -> None:
    """Intake keeps a copy of each case's status, so a repeat contact only joins an open case."""
    await uow.cases.set_status(case_id, CaseStatus.RESOLVED, at)


async def email_sent(
    uow: UnitOfWork, delivery_id: uuid.UUID, case_id: uuid.UUID, sent_at: datetime
) -> None:
    """Remember which case an email notifications sent was about, so a reply to it finds it."""
    await uow.sent_emails.remember(delivery_id, case_id, sent_at)


async def case_closed(uow: UnitOfWork, case_id: uuid.UUID, at: datetime) -> None:
    await uow.cases.set_status(case_id, CaseStatus.CLOSED, at)


async def case_reopened(uow: UnitOfWork, case_id: uuid.UUID, at: datetime) -> None:
    """Routing reopened the case: repeat contacts about its problem join it again."""
    await uow.cases.set_status(case_id, CaseStatus.OPEN, at)


async def keep_case_fact(uow: UnitOfWork, envelope: Envelope, event: EventData) -> None:
    """Keep what another service said about a case, for its customer's history."""
    fact = case_fact(envelope.id, event)
    if fact is not None:
        await uow.case_facts.keep(fact)


# --- triage ---------------------------------------------------------------------------------


async def _case_for_change(
    uow: UnitOfWork, case_id: uuid.UUID, expected_version: int | None
) -> Case:
    """The case, locked until commit; StaleCase when the agent's If-Match is not its version."""
    case = await uow.cases.lock(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    if expected_version is not None and expected_version != case.version:
        raise StaleCase(case.number, expected_version, case.version)
    return case


async def reclassify_case(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    change: Reclassification,
    *,
    reason: str,
    actor: str | None,
    expected_version: int | None,
    now: datetime | None = None,
) -> Case:
    """Triage changes how a case is classified; emits case.reclassified with before and after
    (routing re-routes when its rules' outcome changes). No change, no event."""
    now = _now(now)
    before = await _case_for_change(uow, case_id, expected_version)
    if before.merged_into is not None:
        raise CaseConflict(
            f"Case {before.number} was merged into another; reclassify that one",
            title="Case merged",
        )
    after = change.applied_to(before)
    wanted = Classification(after.motive, after.cause, after.touchpoint, after.product)
    found = await uow.catalogue.lookup_classification(wanted)
    changed_codes = Classification(
        *(
            code if code != getattr(before, name) else None
            for name, code in (
                ("motive", after.motive),
                ("cause", after.cause),
                ("touchpoint", after.touchpoint),
                ("product", after.product),
            )
        )
    )
    # only codes the agent changes must be usable today; a kept one may have been retired since
    errors = [
        e
        for e in classification_errors(changed_codes, found, now.date(), motive_required=False)
        if e["rule"] != "cause_not_of_motive"
    ]
    errors += [
        e
        for e in classification_errors(wanted, found, now.date(), motive_required=True)
        if e["rule"] == "cause_not_of_motive"
    ]
    if errors:
        raise _invalid(errors)
    if after.classification == before.classification:
        return before
    await uow.cases.reclassify(after)
    current_case_id.set(str(case_id))
    await uow.emit(reclassified_event(before, after, reason, actor, now), subject=case_id)
    return await get_case(uow, case_id)


@dataclass(frozen=True)
class CaseSplit:
    case: Case
    """The new case."""
    from_case: Case


async def split_contact(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    contact_id: uuid.UUID,
    *,
    reason: str,
    motive: str | None,
    actor: str | None,
    expected_version: int | None = None,
    default_motive: str,
    now: datetime | None = None,
) -> CaseSplit:
    """An agent sees a contact is about another problem: it opens a new case of its own,
    related to the case it leaves (case.opened with related_case_id)."""
    now = _now(now)
    case = await _case_for_change(uow, case_id, expected_version)
    contact = await uow.contacts.get(contact_id)
    if contact is None or contact.case_id != case_id:
        raise ContactNotFound(contact_id)
    if await uow.contacts.count_of_case(case_id) < 2:
        raise CaseConflict(
            f"Contact {contact_id} is the only contact of case {case.number}: reclassify the "
            "case instead",
            title="Only contact",
        )
    motive = motive or contact.motive or default_motive
    found = await uow.catalogue.lookup_classification(Classification(motive, None, None, None))
    errors = classification_errors(
        Classification(motive, None, None, None), found, now.date(), motive_required=True
    )
    if errors:
        raise _invalid(errors)
    customer = await uow.customers.get(case.customer_id)
    assert customer is not None  # a case's customer is never deleted
    year = now.year
    kind = contact.kind if contact.kind in OPENS_CASE else ContactKind.CLAIM
    new = Case(
        id=uuid.uuid4(),
        number=case_number(year, await uow.cases.next_case_sequence(year)),
        customer_id=case.customer_id,
        customer_name=case.customer_name,
        customer_email=case.customer_email,
        type=CaseType(kind.value),
        channel=contact.channel,
        description=contact.text,
        opened_at=now,
        motive=motive,
        touchpoint=contact.touchpoint,
        severity=contact.severity,
        upset=contact.upset,
        expectation=contact.expectation,
        contact_id=contact.id,
        related_case_id=case.id,
        opened_by=actor,
    )
    await uow.cases.add(new)
    await uow.contacts.split_off(contact.id, new.id)
    await uow.cases.touch(case.id)
    current_case_id.set(str(new.id))
    await _announce_opened(uow, new, customer)
    del reason  # kept by the caller's log; case.opened has no field for it
    return CaseSplit(await get_case(uow, new.id), await get_case(uow, case.id))


@dataclass(frozen=True)
class CasesMerged:
    absorbed: Case
    into: Case
    moved_contact_ids: list[uuid.UUID]


async def merge_cases(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    into_case_id: uuid.UUID,
    *,
    reason: str,
    actor: str | None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> CasesMerged:
    """Two cases of one customer were one problem: the absorbed case's contacts move to the
    other, and it is closed as merged (case.merged; routing closes its copy)."""
    now = _now(now)
    if case_id == into_case_id:
        raise CaseConflict("A case cannot be merged into itself", title="Same case")
    # lock both in id order so two opposite merges wait instead of deadlocking
    locked: dict[uuid.UUID, Case] = {}
    for cid in sorted((case_id, into_case_id)):
        found = await uow.cases.lock(cid)
        if found is not None:
            locked[cid] = found
    if case_id not in locked:
        raise CaseNotFound(case_id)
    if into_case_id not in locked:
        raise Invalid.field("into_case_id", "unknown_case", f"no case {into_case_id}")
    absorbed, into = locked[case_id], locked[into_case_id]
    if expected_version is not None and expected_version != absorbed.version:
        raise StaleCase(absorbed.number, expected_version, absorbed.version)
    if refusal := case_merge_refusal(absorbed, into):
        raise CaseConflict(refusal, title="Cases cannot be merged")
    moved = await uow.contacts.move_all(absorbed.id, into.id)
    await uow.cases.mark_merged(absorbed.id, into.id, now)
    await uow.cases.touch(into.id)
    current_case_id.set(str(into.id))
    await uow.emit(merged_event(absorbed, into, reason, actor, now), subject=absorbed.id)
    return CasesMerged(await get_case(uow, absorbed.id), await get_case(uow, into.id), moved)


@dataclass(frozen=True)
class KeptMailList:
    counts: dict[FeedbackKind, int]
    items: list[KeptMail]


async def kept_mail(uow: UnitOfWork, kind: FeedbackKind | None, limit: int) -> KeptMailList:
    return KeptMailList(
        await uow.email_feedback.counts(), await uow.email_feedback.recent(kind, limit)
    )


async def kept_mail_by_id(uow: UnitOfWork, kept_id: uuid.UUID) -> KeptMail:
    mail = await uow.email_feedback.get(kept_id)
    if mail is None:
        raise KeptMailNotFound(kept_id)
    return mail
