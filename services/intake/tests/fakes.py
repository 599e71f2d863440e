"""Intake's unit of work and repositories in memory, for use-case tests without infrastructure.
tests/integration/test_intake_repository_contract.py holds them to PostgreSQL's behaviour."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from atiende_contracts import (
    CatalogueKind,
    Channel,
    Envelope,
    EventData,
    Formality,
    LinkReason,
    Tier,
)
from atiende_intake.domain.cases import Case
from atiende_intake.domain.catalogue import CatalogueEntry, Classification
from atiende_intake.domain.contacts import CaseRef, CaseStatus, Contact, Outcome
from atiende_intake.domain.customers import (
    ERASED_TEXT,
    ContactFacts,
    Customer,
    CustomerMerge,
    HistoryEntry,
    Identity,
    IdentityKind,
    NewCustomer,
    Profile,
    identity_pseudonym,
    pseudonym,
)
from atiende_intake.domain.feedback import FeedbackKind, KeptMail
from atiende_intake.domain.history import CaseFact
from atiende_intake.repository.cases import CaseFilter
from atiende_intake.repository.contacts import ContactFilter
from atiende_intake.repository.locks import NaturalKey
from atiende_intake.repository.sql import Position
from atiende_runtime.erasure import Scrubbed

CatalogueKey = tuple[CatalogueKind, str]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StoredIdentity:
    id: uuid.UUID
    customer_id: uuid.UUID
    identity: Identity
    order: int


@dataclass(frozen=True)
class Scrub:
    """What a unit of work was asked to scrub from its outbox and Idempotency-Key store."""

    subjects: frozenset[str]
    values: frozenset[str]
    free_text: frozenset[str]


@dataclass
class Store:
    """Every table, in memory; the repositories share it as PostgreSQL's share one database."""

    customers: dict[uuid.UUID, Customer] = field(default_factory=dict)
    identities: dict[Identity, StoredIdentity] = field(default_factory=dict)
    cases: dict[uuid.UUID, Case] = field(default_factory=dict)
    counters: dict[int, int] = field(default_factory=dict)
    contacts: dict[uuid.UUID, Contact] = field(default_factory=dict)
    merges: dict[uuid.UUID, CustomerMerge] = field(default_factory=dict)
    catalogue: dict[CatalogueKey, CatalogueEntry] = field(default_factory=dict)
    # audit columns: who last changed a customer's profile, who erased them, who changed an entry
    customer_updated_by: dict[uuid.UUID, str | None] = field(default_factory=dict)
    customer_erased_by: dict[uuid.UUID, str | None] = field(default_factory=dict)
    entry_updated_by: dict[CatalogueKey, str | None] = field(default_factory=dict)
    sent_emails: dict[uuid.UUID, tuple[uuid.UUID, datetime]] = field(default_factory=dict)
    rate_limits: dict[tuple[str, datetime], int] = field(default_factory=dict)
    kept_mail: dict[uuid.UUID, KeptMail] = field(default_factory=dict)
    case_facts: dict[uuid.UUID, CaseFact] = field(default_factory=dict)


class FakeLocks:
    def __init__(self) -> None:
        self.held: list[NaturalKey] = []

    async def hold(self, natural_keys: Iterable[NaturalKey]) -> None:
        self.held += list(natural_keys)


class FakeCasesRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def next_case_sequence(self, year: int) -> int:
        self.store.counters[year] = self.store.counters.get(year, 0) + 1
        return self.store.counters[year]

    async def add(self, case: Case) -> None:
        self.store.cases[case.id] = replace(case, contact_id=None)

    def _read(self, case: Case) -> Case:
        return replace(case, customer_name=self.store.customers[case.customer_id].name)

    async def get(self, case_id: uuid.UUID) -> Case | None:
        case = self.store.cases.get(case_id)
        return self._read(case) if case else None

    async def exists(self, case_id: uuid.UUID) -> bool:
        return case_id in self.store.cases

    async def search(self, where: CaseFilter, after: Position | None, limit: int) -> list[Case]:
        def matches(c: Case) -> bool:
            return (
                (where.customer_id is None or c.customer_id == where.customer_id)
                and (where.motive is None or c.motive == where.motive)
                and (where.channel is None or c.channel == where.channel)
                and (where.status is None or c.status == where.status)
                and (where.type is None or c.type == where.type)
                and (where.opened_from is None or c.opened_at >= where.opened_from)
                and (where.opened_to is None or c.opened_at < where.opened_to)
                and (after is None or (c.opened_at, c.id) < after)
            )

        found = sorted(
            (c for c in self.store.cases.values() if matches(c)),
            key=lambda c: (c.opened_at, c.id),
            reverse=True,
        )
        return [self._read(c) for c in found[:limit]]

    async def set_status(self, case_id: uuid.UUID, status: CaseStatus, at: datetime) -> None:
        case = self.store.cases.get(case_id)
        if case is None or (case.status_changed_at is not None and case.status_changed_at > at):
            return
        self.store.cases[case_id] = replace(case, status=status, status_changed_at=at)

    @staticmethod
    def _ref(c: Case) -> CaseRef:
        return c.ref

    async def lock(self, case_id: uuid.UUID) -> Case | None:
        return await self.get(case_id)

    async def reclassify(self, case: Case) -> None:
        stored = self.store.cases[case.id]
        self.store.cases[case.id] = replace(
            stored,
            type=case.type,
            motive=case.motive,
            cause=case.cause,
            touchpoint=case.touchpoint,
            product=case.product,
            severity=case.severity,
            upset=case.upset,
            version=stored.version + 1,
        )

    async def touch(self, case_id: uuid.UUID) -> None:
        stored = self.store.cases[case_id]
        self.store.cases[case_id] = replace(stored, version=stored.version + 1)

    async def mark_merged(self, case_id: uuid.UUID, into_id: uuid.UUID, at: datetime) -> None:
        stored = self.store.cases[case_id]
        self.store.cases[case_id] = replace(
            stored,
            merged_into=into_id,
            status=CaseStatus.CLOSED,
            status_changed_at=at,
            version=stored.version + 1,
        )

    async def ref_by_number(self, number: str) -> CaseRef | None:
        found = [c for c in self.store.cases.values() if c.number == number]
        return self._ref(found[0]) if found else None

    async def ref(self, case_id: uuid.UUID) -> CaseRef | None:
        case = self.store.cases.get(case_id)
        return self._ref(case) if case else None

    async def open_with_motive(
        self, customer_id: uuid.UUID, motive: str, since: datetime
    ) -> list[CaseRef]:
        found = [
            c
            for c in self.store.cases.values()
            if c.customer_id == customer_id
            and c.motive == motive
            and c.status is CaseStatus.OPEN
            and c.opened_at >= since
        ]
        found.sort(key=lambda c: (c.opened_at, c.id), reverse=True)
        return [self._ref(c) for c in found[:5]]


class FakeContactsRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _read(self, contact: Contact) -> Contact:
        case = self.store.cases.get(contact.case_id) if contact.case_id else None
        return replace(contact, case_number=case.number if case else None)

    async def by_external_ref(self, channel: Channel, external_ref: str) -> Contact | None:
        for contact in self.store.contacts.values():
            if contact.channel == channel and contact.external_ref == external_ref:
                return self._read(contact)
        return None

    async def add(self, contact: Contact) -> None:
        self.store.contacts[contact.id] = replace(contact, case_number=None, created_at=_now())

    async def get(self, contact_id: uuid.UUID) -> Contact | None:
        contact = self.store.contacts.get(contact_id)
        return self._read(contact) if contact else None

    async def search(
        self, where: ContactFilter, after: Position | None, limit: int
    ) -> list[Contact]:
        def matches(c: Contact) -> bool:
            return (
                (where.customer_id is None or c.customer_id == where.customer_id)
                and (where.case_id is None or c.case_id == where.case_id)
                and (where.motive is None or c.motive == where.motive)
                and (where.channel is None or c.channel == where.channel)
                and (where.kind is None or c.kind == where.kind)
                and (where.received_from is None or c.received_at >= where.received_from)
                and (where.received_to is None or c.received_at < where.received_to)
                and (after is None or (c.received_at, c.id) < after)
            )

        found = sorted(
            (c for c in self.store.contacts.values() if matches(c)),
            key=lambda c: (c.received_at, c.id),
            reverse=True,
        )
        return [self._read(c) for c in found[:limit]]

    async def of_case(
        self, case_id: uuid.UUID, after: Position | None, limit: int
    ) -> list[Contact]:
        found = sorted(
            (
                c
                for c in self.store.contacts.values()
                if c.case_id == case_id and (after is None or (c.received_at, c.id) > after)
            ),
            key=lambda c: (c.received_at, c.id),
        )
        return [self._read(c) for c in found[:limit]]

    async def case_of_messages(self, message_ids: Sequence[str]) -> uuid.UUID | None:
        for message_id in message_ids:
            for c in self.store.contacts.values():
                if c.channel is Channel.EMAIL and c.external_ref == message_id and c.case_id:
                    return c.case_id
        return None

    async def count_of_case(self, case_id: uuid.UUID) -> int:
        return sum(1 for c in self.store.contacts.values() if c.case_id == case_id)

    async def split_off(self, contact_id: uuid.UUID, new_case_id: uuid.UUID) -> None:
        contact = self.store.contacts[contact_id]
        self.store.contacts[contact_id] = replace(
            contact, case_id=new_case_id, outcome=Outcome.OPENED, link_reason=None
        )

    async def move_all(self, from_case_id: uuid.UUID, to_case_id: uuid.UUID) -> list[uuid.UUID]:
        moved = []
        for c in list(self.store.contacts.values()):
            if c.case_id == from_case_id:
                self.store.contacts[c.id] = replace(
                    c, case_id=to_case_id, outcome=Outcome.JOINED, link_reason=LinkReason.AGENT
                )
                moved.append(c.id)
        return sorted(moved)


class FakeCustomersRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _effective(self, customer_id: uuid.UUID) -> uuid.UUID:
        return self.store.customers[customer_id].merged_into or customer_id

    async def owners(self, identities: Sequence[Identity]) -> dict[Identity, uuid.UUID]:
        return {
            i: self._effective(self.store.identities[i].customer_id)
            for i in identities
            if i in self.store.identities
        }

    async def lock(self, customer_id: uuid.UUID) -> Customer | None:
        return self.store.customers.get(customer_id)

    async def get(self, customer_id: uuid.UUID) -> Customer | None:
        return self.store.customers.get(customer_id)

    def _insert(self, customer: Customer) -> None:
        self.store.customers[customer.id] = customer

    async def create(
        self, customer_id: uuid.UUID, name: str, primary_email: str | None, language: str = "es"
    ) -> None:
        now = _now()
        self._insert(
            Customer(
                customer_id,
                name,
                primary_email,
                Tier.STANDARD,
                language,
                Formality.FORMAL,
                True,
                False,
                None,
                None,
                now,
                now,
            )
        )

    async def create_with_profile(
        self, customer_id: uuid.UUID, new: NewCustomer, actor: str | None
    ) -> None:
        now = _now()
        self.store.customer_updated_by[customer_id] = actor
        self._insert(
            Customer(
                customer_id,
                new.name,
                new.email,
                new.tier,
                str(new.language),
                new.formality,
                new.consent_surveys,
                new.consent_marketing,
                None,
                None,
                now,
                now,
                new.preferred_channel,
            )
        )

    async def attach(
        self, customer_id: uuid.UUID, identities: Sequence[Identity]
    ) -> list[Identity]:
        attached = []
        for identity in identities:
            if identity in self.store.identities:
                continue
            order = len(self.store.identities)
            self.store.identities[identity] = StoredIdentity(
                uuid.uuid4(), customer_id, identity, order
            )
            attached.append(identity)
        return attached

    def _update(self, customer_id: uuid.UUID, **changes: object) -> None:
        customer = self.store.customers[customer_id]
        self.store.customers[customer_id] = replace(customer, **changes, updated_at=_now())  # type: ignore[arg-type]

    async def fill_in(self, customer_id: uuid.UUID, name: str | None, email: str | None) -> None:
        customer = self.store.customers.get(customer_id)
        if customer is None or customer.erased_at is not None:
            return
        self._update(
            customer_id,
            name=name if name is not None and customer.name == "" else customer.name,
            primary_email=customer.primary_email or email,
        )

    async def has_contacts(self, customer_id: uuid.UUID) -> bool:
        return any(c.customer_id == customer_id for c in self.store.contacts.values())

    async def identities(self, customer_id: uuid.UUID) -> list[Identity]:
        mine = [s for s in self.store.identities.values() if s.customer_id == customer_id]
        mine.sort(key=lambda s: (s.order, s.identity.kind.value, s.identity.value))
        return [s.identity for s in mine]

    async def lock_in_order(self, *customer_ids: uuid.UUID) -> dict[uuid.UUID, Customer]:
        return {
            i: self.store.customers[i] for i in sorted(customer_ids) if i in self.store.customers
        }

    async def update_profile(
        self, customer_id: uuid.UUID, name: str, profile: Profile, actor: str | None
    ) -> None:
        self.store.customer_updated_by[customer_id] = actor
        self._update(
            customer_id,
            name=name,
            tier=profile.tier,
            language=str(profile.language),
            formality=profile.formality,
            consent_surveys=profile.consent_surveys,
            consent_marketing=profile.consent_marketing,
            preferred_channel=profile.preferred_channel,
        )

    def _move(
        self, ids: Iterable[uuid.UUID] | None, source: uuid.UUID, target: uuid.UUID
    ) -> tuple[list[uuid.UUID], list[uuid.UUID], list[uuid.UUID]]:
        """Move the source's identities, contacts and cases (only `ids` of them, if given)."""
        only = set(ids) if ids is not None else None

        def moves(row_id: uuid.UUID, owner: uuid.UUID) -> bool:
            return owner == source and (only is None or row_id in only)

        moved_identities = []
        for stored in self.store.identities.values():
            if moves(stored.id, stored.customer_id):
                stored.customer_id = target
                moved_identities.append(stored.id)
        moved_contacts = []
        for contact in list(self.store.contacts.values()):
            if moves(contact.id, contact.customer_id):
                self.store.contacts[contact.id] = replace(contact, customer_id=target)
                moved_contacts.append(contact.id)
        moved_cases = []
        for case in list(self.store.cases.values()):
            if moves(case.id, case.customer_id):
                self.store.cases[case.id] = replace(case, customer_id=target)
                moved_cases.append(case.id)
        return sorted(moved_identities), sorted(moved_contacts), sorted(moved_cases)

    async def changed_by(self, customer_id: uuid.UUID) -> tuple[str | None, str | None]:
        return (
            self.store.customer_updated_by.get(customer_id),
            self.store.customer_erased_by.get(customer_id),
        )

    async def merge(
        self, merge_id: uuid.UUID, source_id: uuid.UUID, target_id: uuid.UUID, actor: str | None
    ) -> CustomerMerge:
        identities, contacts, cases = self._move(None, source_id, target_id)
        repointed = sorted(
            c.id for c in self.store.customers.values() if c.merged_into == source_id
        )
        for customer_id in repointed:
            self._update(customer_id, merged_into=target_id)
        self._update(source_id, merged_into=target_id)
        merge = CustomerMerge(
            merge_id,
            source_id,
            target_id,
            identities,
            contacts,
            cases,
            repointed,
            _now(),
            merged_by=actor,
        )
        self.store.merges[merge_id] = merge
        return merge

    async def get_merge(self, merge_id: uuid.UUID) -> CustomerMerge | None:
        return self.store.merges.get(merge_id)

    async def lock_merge(self, merge_id: uuid.UUID) -> CustomerMerge | None:
        return self.store.merges.get(merge_id)

    async def active_merge_of(self, source_id: uuid.UUID) -> uuid.UUID | None:
        active = [
            m for m in self.store.merges.values() if m.source_id == source_id and not m.undone_at
        ]
        return max(active, key=lambda m: m.merged_at).id if active else None

    async def undo_merge(self, merge: CustomerMerge, actor: str | None) -> CustomerMerge:
        source, target = merge.source_id, merge.target_id
        self._move([*merge.identity_ids, *merge.contact_ids, *merge.case_ids], target, source)
        for customer_id in merge.repointed_ids:
            if self.store.customers[customer_id].merged_into == target:
                self._update(customer_id, merged_into=source)
        self._update(source, merged_into=None)
        undone = replace(merge, undone_at=_now(), undone_by=actor)
        self.store.merges[merge.id] = undone
        return undone

    async def erase(self, customer_id: uuid.UUID, actor: str | None) -> datetime:
        now = _now()
        people = {customer_id} | {
            c.id for c in self.store.customers.values() if c.merged_into == customer_id
        }
        for person in people:
            self.store.customer_erased_by[person] = actor
            self._update(person, name=pseudonym(person, "name"), primary_email=None, erased_at=now)
        for identity, stored in list(self.store.identities.items()):
            if stored.customer_id in people:
                erased = replace(identity, value=identity_pseudonym(stored.customer_id, stored.id))
                del self.store.identities[identity]
                self.store.identities[erased] = replace(stored, identity=erased)
        for contact in list(self.store.contacts.values()):
            if contact.customer_id in people:
                self.store.contacts[contact.id] = replace(
                    contact,
                    text=ERASED_TEXT,
                    expectation=ERASED_TEXT if contact.expectation is not None else None,
                    attachments=tuple(replace(a, name=ERASED_TEXT) for a in contact.attachments),
                )
        for case in list(self.store.cases.values()):
            if case.customer_id in people:
                self.store.cases[case.id] = replace(
                    case,
                    description=ERASED_TEXT,
                    expectation=ERASED_TEXT if case.expectation is not None else None,
                    customer_email=None,
                )
        erased_cases = {c.id for c in self.store.cases.values() if c.customer_id in people}
        for fact in list(self.store.case_facts.values()):
            if fact.case_id in erased_cases and fact.event_type in (
                "commitment.made",
                "case.resolved",
            ):
                self.store.case_facts[fact.event_id] = replace(
                    fact, summary=ERASED_TEXT, details={}
                )
        return now

    async def personal_values(self, customer_id: uuid.UUID) -> list[str]:
        people = {customer_id} | {
            c.id for c in self.store.customers.values() if c.merged_into == customer_id
        }
        found = {c.name for c in self.store.customers.values() if c.id in people}
        found |= {c.primary_email for c in self.store.customers.values() if c.id in people} - {None}
        found |= {i.value for i, s in self.store.identities.items() if s.customer_id in people}
        found |= {
            c.customer_email
            for c in self.store.cases.values()
            if c.customer_id in people and c.customer_email
        }
        return sorted(v for v in found if v)

    async def case_ids(self, customer_id: uuid.UUID) -> list[uuid.UUID]:
        mine = [c for c in self.store.cases.values() if c.customer_id == customer_id]
        return [c.id for c in sorted(mine, key=lambda c: (c.opened_at, c.id))]

    async def history(
        self, customer_id: uuid.UUID, after: Position | None, limit: int
    ) -> list[HistoryEntry]:
        items = (
            [
                HistoryEntry(
                    "contact",
                    c.received_at,
                    c.id,
                    c.kind.value,
                    c.channel.value,
                    c.direction.value,
                    c.motive,
                    c.touchpoint,
                    c.case_id,
                    self.store.cases[c.case_id].number if c.case_id else None,
                    None,
                    c.text,
                    c.severity.value if c.severity else None,
                    c.upset,
                )
                for c in self.store.contacts.values()
                if c.customer_id == customer_id
            ]
            + [
                HistoryEntry(
                    "case",
                    c.opened_at,
                    c.id,
                    c.type.value,
                    c.channel.value,
                    None,
                    c.motive,
                    c.touchpoint,
                    c.id,
                    c.number,
                    c.status.value,
                    c.description,
                    c.severity.value if c.severity else None,
                    c.upset,
                )
                for c in self.store.cases.values()
                if c.customer_id == customer_id
            ]
            + [
                HistoryEntry(
                    "event",
                    f.at,
                    f.event_id,
                    f.event_type,
                    None,
                    None,
                    None,
                    None,
                    f.case_id,
                    self.store.cases[f.case_id].number,
                    None,
                    f.summary,
                    None,
                    False,
                    dict(f.details),
                )
                for f in self.store.case_facts.values()
                if f.case_id in self.store.cases
                and self.store.cases[f.case_id].customer_id == customer_id
            ]
        )
        items = [i for i in items if after is None or (i.at, i.id) < after]
        items.sort(key=lambda i: (i.at, i.id), reverse=True)
        return items[:limit]

    async def contact_facts(self, customer_id: uuid.UUID) -> ContactFacts:
        mine = [c for c in self.store.contacts.values() if c.customer_id == customer_id]
        cases = sum(1 for c in self.store.cases.values() if c.customer_id == customer_id)
        first = min((c.received_at for c in mine), default=None)
        return ContactFacts(first, len(mine), cases)

    async def phone_of(self, customer_id: uuid.UUID) -> str | None:
        phones = sorted(
            (s.order, s.identity.value)
            for s in self.store.identities.values()
            if s.customer_id == customer_id and s.identity.kind is IdentityKind.PHONE
        )
        return phones[0][1] if phones else None


class FakeCatalogueRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def lookup(self, wanted: Iterable[CatalogueKey]) -> dict[CatalogueKey, CatalogueEntry]:
        return {key: self.store.catalogue[key] for key in wanted if key in self.store.catalogue}

    async def lookup_classification(
        self, wanted: Classification
    ) -> dict[CatalogueKey, CatalogueEntry]:
        pairs = [
            (CatalogueKind.MOTIVE, wanted.motive),
            (CatalogueKind.CAUSE, wanted.cause),
            (CatalogueKind.TOUCHPOINT, wanted.touchpoint),
            (CatalogueKind.PRODUCT, wanted.product),
        ]
        return await self.lookup((kind, code) for kind, code in pairs if code is not None)

    async def get(self, kind: CatalogueKind, code: str) -> CatalogueEntry | None:
        return self.store.catalogue.get((kind, code))

    async def lock(self, kind: CatalogueKind, code: str) -> CatalogueEntry | None:
        return self.store.catalogue.get((kind, code))

    async def add(self, entry: CatalogueEntry, actor: str | None) -> bool:
        if (entry.kind, entry.code) in self.store.catalogue:
            return False
        self.store.catalogue[(entry.kind, entry.code)] = entry
        self.store.entry_updated_by[(entry.kind, entry.code)] = actor
        return True

    async def changed_by(self, kind: CatalogueKind, code: str) -> str | None:
        return self.store.entry_updated_by.get((kind, code))

    async def update(self, entry: CatalogueEntry, actor: str | None) -> None:
        key = (entry.kind, entry.code)
        self.store.entry_updated_by[key] = actor
        before = self.store.catalogue[key]
        self.store.catalogue[key] = replace(
            before,
            name_es=entry.name_es,
            name_en=entry.name_en,
            active=entry.active,
            valid_from=entry.valid_from,
            valid_to=entry.valid_to,
        )

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
        def matches(e: CatalogueEntry) -> bool:
            return (
                e.kind is kind
                and (active is None or e.active == active)
                and (
                    on is None
                    or (
                        (e.valid_from is None or e.valid_from <= on)
                        and (e.valid_to is None or on <= e.valid_to)
                    )
                )
                and (parent is None or e.parent_code == parent)
                and (after_code is None or e.code.encode() > after_code.encode())
            )

        found = sorted(
            (e for e in self.store.catalogue.values() if matches(e)), key=lambda e: e.code.encode()
        )
        return found[:limit]


class FakeSentEmailsRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def remember(self, delivery_id: uuid.UUID, case_id: uuid.UUID, sent_at: datetime) -> None:
        self.store.sent_emails.setdefault(delivery_id, (case_id, sent_at))

    async def case_number_of(self, delivery_ids: Sequence[uuid.UUID]) -> str | None:
        for delivery_id in delivery_ids:
            if delivery_id in self.store.sent_emails:
                case_id = self.store.sent_emails[delivery_id][0]
                return self.store.cases[case_id].number
        return None

    async def delivery_of(
        self, delivery_ids: Sequence[uuid.UUID]
    ) -> tuple[uuid.UUID, uuid.UUID] | None:
        for delivery_id in delivery_ids:
            if delivery_id in self.store.sent_emails:
                return delivery_id, self.store.sent_emails[delivery_id][0]
        return None


class FakeEmailFeedbackRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def keep(self, mail: KeptMail) -> bool:
        if any(
            (k.kind, k.message_id) == (mail.kind, mail.message_id)
            for k in self.store.kept_mail.values()
        ):
            return False
        self.store.kept_mail[mail.id] = mail
        return True

    async def get(self, kept_id: uuid.UUID) -> KeptMail | None:
        return self.store.kept_mail.get(kept_id)

    async def recent(self, kind: FeedbackKind | None, limit: int) -> list[KeptMail]:
        found = [m for m in self.store.kept_mail.values() if kind is None or m.kind is kind]
        found.sort(key=lambda m: (m.received_at, m.id), reverse=True)
        return found[:limit]

    async def erase(self, values: Sequence[str], case_ids: Sequence[uuid.UUID]) -> int:
        senders = {v.lower() for v in values}
        erased = [
            m
            for m in self.store.kept_mail.values()
            if (m.sender or "").lower() in senders or m.case_id in case_ids
        ]
        for m in erased:
            self.store.kept_mail[m.id] = replace(
                m, sender=None, subject=ERASED_TEXT, details={}, raw=ERASED_TEXT.encode()
            )
        return len(erased)

    async def counts(self) -> dict[FeedbackKind, int]:
        counts: dict[FeedbackKind, int] = {}
        for m in self.store.kept_mail.values():
            counts[m.kind] = counts.get(m.kind, 0) + 1
        return counts


class FakeCaseFactsRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def keep(self, fact: CaseFact) -> None:
        self.store.case_facts.setdefault(fact.event_id, fact)


class FakeRateLimitsRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def hit(self, bucket: str, window_start: datetime) -> int:
        for key in [k for k in self.store.rate_limits if k[1] < window_start]:
            del self.store.rate_limits[key]
        key = (bucket, window_start)
        self.store.rate_limits[key] = self.store.rate_limits.get(key, 0) + 1
        return self.store.rate_limits[key]


class FakeUnitOfWork:
    """The in-memory unit of work; `emitted` are the events, `subjects` their subjects."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()
        self.cases = FakeCasesRepository(self.store)
        self.contacts = FakeContactsRepository(self.store)
        self.customers = FakeCustomersRepository(self.store)
        self.catalogue = FakeCatalogueRepository(self.store)
        self.sent_emails = FakeSentEmailsRepository(self.store)
        self.rate_limits = FakeRateLimitsRepository(self.store)
        self.locks = FakeLocks()
        self.email_feedback = FakeEmailFeedbackRepository(self.store)
        self.case_facts = FakeCaseFactsRepository(self.store)
        self.emitted: list[EventData] = []
        self.subjects: list[str | uuid.UUID | None] = []
        self.scrubbed: list[Scrub] = []

    async def emit(
        self, data: EventData, *, subject: str | uuid.UUID | None = None
    ) -> Envelope | None:
        self.emitted.append(data)
        self.subjects.append(subject)
        return None

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed:
        """The fake has no outbox or key store: it records what it was asked to scrub."""
        self.scrubbed.append(
            Scrub(
                frozenset(map(str, subjects)),
                frozenset(v for v in values if v),
                frozenset(free_text),
            )
        )
        return Scrubbed(0, 0)

    def events(self, kind: type[EventData]) -> list[EventData]:
        return [e for e in self.emitted if isinstance(e, kind)]
