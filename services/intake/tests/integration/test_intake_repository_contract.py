"""One contract for intake's repositories, held against the in-memory fakes and PostgreSQL alike,
so the fakes the use-case tests run on cannot drift from the real thing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from atiende_contracts import CaseType, CatalogueKind, Channel, ContactKind, Tier
from atiende_intake.domain.cases import Case
from atiende_intake.domain.catalogue import CatalogueEntry, Classification
from atiende_intake.domain.contacts import Attachment, CaseStatus, Contact, Outcome
from atiende_intake.domain.customers import (
    ERASED_TEXT,
    Identity,
    IdentityKind,
    NewCustomer,
    Profile,
)
from atiende_intake.repository.cases import CaseFilter
from atiende_intake.repository.contacts import ContactFilter
from atiende_intake.repository.unit_of_work import PostgresUnitOfWork
from atiende_runtime import db
from atiende_runtime.uow import UnitOfWork as RuntimeUnitOfWork

from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
async def postgres_uow(database_url):
    await db.migrate(database_url, "intake", "atiende_intake")
    conn = await db.connect(database_url, "intake")
    try:
        async with conn.transaction():
            yield PostgresUnitOfWork(RuntimeUnitOfWork(conn, "intake"))
    finally:
        await conn.close()


@pytest.fixture(params=["fake", "postgres"])
def uow(request):
    # a plain fixture: only the postgres variant asks for a database
    if request.param == "fake":
        return FakeUnitOfWork()
    return request.getfixturevalue("postgres_uow")


def email(name: str) -> Identity:
    return Identity(IdentityKind.EMAIL, f"{name}-{uuid.uuid4().hex[:8]}@example.com")


async def customer(uow, name="Ana", *identities: Identity) -> uuid.UUID:
    customer_id = uuid.uuid4()
    await uow.customers.create(customer_id, name, None)
    await uow.customers.attach(customer_id, list(identities))
    return customer_id


async def a_case(
    uow, customer_id, *, days_ago=0.0, motive="DELIVERY", expectation=None, opened_by=None
) -> Case:
    number = f"AT-2026-{await uow.cases.next_case_sequence(2026):06d}"
    case = Case(
        id=uuid.uuid4(),
        number=number,
        customer_id=customer_id,
        customer_name="",
        customer_email="ana@example.com",
        type=CaseType.COMPLAINT,
        channel=Channel.PHONE,
        description="Late",
        opened_at=NOW - timedelta(days=days_ago),
        motive=motive,
        expectation=expectation,
        opened_by=opened_by,
    )
    await uow.cases.add(case)
    return case


async def a_contact(uow, customer_id, case: Case | None, *, at=NOW, **changes) -> Contact:
    contact = Contact(
        id=uuid.uuid4(),
        customer_id=customer_id,
        case_id=case.id if case else None,
        kind=ContactKind.COMPLAINT,
        channel=Channel.PHONE,
        text="Late again",
        motive="DELIVERY",
        received_at=at,
        outcome=Outcome.OPENED if case else Outcome.RECORDED,
        **changes,
    )
    await uow.contacts.add(contact)
    return contact


# --- customers -----------------------------------------------------------------------------


async def test_identities_find_their_customer_and_are_attached_once(uow):
    ana_email, ana_phone = email("ana"), Identity(IdentityKind.PHONE, "+3460000" + "1234")
    ana = await customer(uow, "Ana", ana_email)
    luis = await customer(uow, "Luis")

    assert await uow.customers.attach(luis, [ana_email, ana_phone]) == [ana_phone]
    assert await uow.customers.owners([ana_email, ana_phone, email("x")]) == {
        ana_email: ana,
        ana_phone: luis,
    }
    assert await uow.customers.identities(ana) == [ana_email]


async def test_a_customer_is_filled_in_and_its_profile_changed(uow):
    ana = await customer(uow, "")
    await uow.customers.fill_in(ana, "Ana", "ana@example.com")
    await uow.customers.fill_in(ana, "Other", "other@example.com")
    found = await uow.customers.lock(ana)
    assert (found.name, found.primary_email, found.tier, found.language) == (
        "Ana",
        "ana@example.com",
        Tier.STANDARD,
        "es",
    )
    assert await uow.customers.changed_by(ana) == (None, None)
    await uow.customers.update_profile(
        ana, "Ana P.", Profile(ana, Tier.VIP, "en", found.formality, False, True), "sup@example.com"
    )
    assert await uow.customers.changed_by(ana) == ("sup@example.com", None)
    changed = await uow.customers.get(ana)
    assert (changed.name, changed.tier, changed.language, changed.consent_surveys) == (
        "Ana P.",
        Tier.VIP,
        "en",
        False,
    )
    assert await uow.customers.get(uuid.uuid4()) is None


async def test_a_customer_created_with_a_profile_keeps_it(uow):
    customer_id = uuid.uuid4()
    new = NewCustomer(name="Luis", email="luis@example.com", tier=Tier.VIP, language="en")
    await uow.customers.create_with_profile(customer_id, new, "agent@example.com")
    assert await uow.customers.changed_by(customer_id) == ("agent@example.com", None)
    luis = await uow.customers.get(customer_id)
    assert (luis.name, luis.primary_email, luis.tier, luis.language, luis.merged_into) == (
        "Luis",
        "luis@example.com",
        Tier.VIP,
        "en",
        None,
    )
    assert set(await uow.customers.lock_in_order(customer_id, uuid.uuid4())) == {customer_id}


async def test_a_merge_moves_rows_and_its_undo_moves_back_exactly_those(uow):
    dup_email = email("dup")
    ana, dup = await customer(uow, "Ana", email("ana")), await customer(uow, "Dup", dup_email)
    case = await a_case(uow, dup)
    first = await a_contact(uow, dup, case)
    assert await uow.customers.has_contacts(dup)
    assert not await uow.customers.has_contacts(ana)

    merge = await uow.customers.merge(uuid.uuid4(), dup, ana, "sup@example.com")

    assert (merge.source_id, merge.target_id, merge.case_ids, merge.contact_ids) == (
        dup,
        ana,
        [case.id],
        [first.id],
    )
    assert len(merge.identity_ids) == 1
    assert (merge.undone_at, merge.merged_by, merge.undone_by) == (None, "sup@example.com", None)
    assert (await uow.customers.get(dup)).merged_into == ana
    assert (await uow.customers.owners([dup_email]))[dup_email] == ana
    assert await uow.customers.case_ids(ana) == [case.id]
    assert await uow.customers.active_merge_of(dup) == merge.id
    assert await uow.customers.get_merge(merge.id) == merge
    later = await a_contact(uow, ana, case, at=NOW + timedelta(hours=1))

    undone = await uow.customers.undo_merge(await uow.customers.lock_merge(merge.id), None)

    assert undone.undone_at is not None
    assert (undone.merged_by, undone.undone_by) == ("sup@example.com", None)
    assert undone.id == merge.id
    assert (await uow.customers.get(dup)).merged_into is None
    assert await uow.customers.case_ids(dup) == [case.id]
    assert (await uow.contacts.get(first.id)).customer_id == dup
    assert (await uow.contacts.get(later.id)).customer_id == ana
    assert await uow.customers.active_merge_of(dup) is None


async def test_erasure_pseudonymises_the_customer_and_what_they_wrote(uow):
    ana_email = email("ana")
    ana = await customer(uow, "Ana", ana_email)
    case = await a_case(uow, ana, expectation="A refund")
    written = await a_contact(
        uow, ana, case, attachments=(Attachment("invoice.pdf", 10, "application/pdf"),)
    )

    erased_at = await uow.customers.erase(ana, "dpo@example.com")

    erased = await uow.customers.get(ana)
    assert erased.erased_at == erased_at
    assert erased.primary_email is None
    assert erased.name.startswith("erased-")
    assert await uow.customers.changed_by(ana) == (None, "dpo@example.com")
    assert await uow.customers.owners([ana_email]) == {}
    contact = await uow.contacts.get(written.id)
    assert contact.text == ERASED_TEXT
    assert [a.name for a in contact.attachments] == [ERASED_TEXT]
    read = await uow.cases.get(case.id)
    assert (read.description, read.expectation, read.customer_email) == (
        ERASED_TEXT,
        ERASED_TEXT,
        None,
    )


async def test_history_and_facts(uow):
    ana = await customer(uow, "Ana")
    case = await a_case(uow, ana, days_ago=1)
    first = await a_contact(uow, ana, case, at=NOW - timedelta(days=1))
    second = await a_contact(uow, ana, None, at=NOW)

    items = await uow.customers.history(ana, None, 10)

    assert [(i.type, i.id) for i in items] == [
        ("contact", second.id),
        *sorted([("contact", first.id), ("case", case.id)], key=lambda t: t[1], reverse=True),
    ]
    assert items[-1].at == NOW - timedelta(days=1)
    page_two = await uow.customers.history(ana, (items[0].at, items[0].id), 10)
    assert [i.id for i in page_two] == [i.id for i in items[1:]]
    facts = await uow.customers.contact_facts(ana)
    assert (facts.first_contact_at, facts.contact_count, facts.case_count) == (
        NOW - timedelta(days=1),
        2,
        1,
    )


# --- cases and contacts --------------------------------------------------------------------


async def test_cases_are_numbered_read_and_found_by_number(uow):
    ana = await customer(uow, "Ana")
    case = await a_case(uow, ana, opened_by="agent@example.com")

    read = await uow.cases.get(case.id)
    assert (read.number, read.customer_name, read.status, read.contact_id, read.opened_by) == (
        case.number,
        "Ana",
        CaseStatus.OPEN,
        None,
        "agent@example.com",
    )
    assert await uow.cases.exists(case.id)
    assert not await uow.cases.exists(uuid.uuid4())
    ref = await uow.cases.ref_by_number(case.number)
    assert ref == await uow.cases.ref(case.id)
    assert (ref.id, ref.customer_id, ref.motive) == (case.id, ana, "DELIVERY")
    assert await uow.cases.ref_by_number("AT-1999-000001") is None


async def test_open_cases_with_a_motive_newest_first_and_status_changes_in_order(uow):
    ana = await customer(uow, "Ana")
    old = await a_case(uow, ana, days_ago=40)
    older = await a_case(uow, ana, days_ago=10)
    newer = await a_case(uow, ana, days_ago=2)
    await a_case(uow, ana, motive="BILLING")

    found = await uow.cases.open_with_motive(ana, "DELIVERY", NOW - timedelta(days=30))
    assert [c.id for c in found] == [newer.id, older.id]
    assert old.id not in [c.id for c in found]

    await uow.cases.set_status(newer.id, CaseStatus.RESOLVED, NOW)
    await uow.cases.set_status(newer.id, CaseStatus.OPEN, NOW - timedelta(hours=1))  # older
    assert (await uow.cases.get(newer.id)).status is CaseStatus.RESOLVED
    found = await uow.cases.open_with_motive(ana, "DELIVERY", NOW - timedelta(days=30))
    assert [c.id for c in found] == [older.id]


async def test_cases_are_searched_newest_first_and_paged(uow):
    ana = await customer(uow, "Ana")
    cases = [await a_case(uow, ana, days_ago=d) for d in (3, 2, 1)]
    where = CaseFilter(customer_id=ana, status=CaseStatus.OPEN)

    first = await uow.cases.search(where, None, 2)
    rest = await uow.cases.search(where, (first[-1].opened_at, first[-1].id), 2)

    assert [c.id for c in first + rest] == [c.id for c in reversed(cases)]
    assert await uow.cases.search(CaseFilter(customer_id=ana, motive="BILLING"), None, 5) == []


async def test_contacts_are_read_with_their_case_number_and_by_external_ref(uow):
    ana = await customer(uow, "Ana")
    case = await a_case(uow, ana)
    joined = await a_contact(uow, ana, case, external_ref="<m1@example.com>")
    alone = await a_contact(uow, ana, None, at=NOW + timedelta(minutes=1))

    read = await uow.contacts.get(joined.id)
    assert (read.case_number, read.text, read.created_at is not None) == (
        case.number,
        "Late again",
        True,
    )
    assert (await uow.contacts.by_external_ref(Channel.PHONE, "<m1@example.com>")).id == joined.id
    assert await uow.contacts.by_external_ref(Channel.EMAIL, "<m1@example.com>") is None
    assert [c.id for c in await uow.contacts.of_case(case.id, None, 10)] == [joined.id]
    found = await uow.contacts.search(ContactFilter(customer_id=ana), None, 10)
    assert [c.id for c in found] == [alone.id, joined.id]
    assert await uow.contacts.get(uuid.uuid4()) is None


# --- the catalogue -------------------------------------------------------------------------


def entry(kind, code, **changes) -> CatalogueEntry:
    return CatalogueEntry(kind, code, f"{code} es", f"{code} en", **changes)


async def test_catalogue_entries_are_added_once_changed_and_looked_up(uow):
    suffix = uuid.uuid4().hex[:6].upper()
    motive = entry(CatalogueKind.MOTIVE, f"M{suffix}")
    cause = entry(CatalogueKind.CAUSE, f"C{suffix}", parent_code=motive.code)

    assert await uow.catalogue.add(motive, "admin@example.com")
    assert await uow.catalogue.add(cause, None)
    assert not await uow.catalogue.add(motive, "other@example.com")
    assert await uow.catalogue.changed_by(CatalogueKind.MOTIVE, motive.code) == "admin@example.com"
    assert await uow.catalogue.get(CatalogueKind.MOTIVE, motive.code) == motive
    retired = entry(CatalogueKind.MOTIVE, motive.code, active=False, valid_to=date(2026, 1, 1))
    await uow.catalogue.update(retired, "boss@example.com")
    assert await uow.catalogue.changed_by(CatalogueKind.MOTIVE, motive.code) == "boss@example.com"
    assert await uow.catalogue.lock(CatalogueKind.MOTIVE, motive.code) == retired
    found = await uow.catalogue.lookup_classification(Classification(motive.code, cause.code))
    assert found == {
        (CatalogueKind.MOTIVE, motive.code): retired,
        (CatalogueKind.CAUSE, cause.code): cause,
    }


async def test_catalogue_entries_are_listed_in_code_order_filtered_and_paged(uow):
    suffix = uuid.uuid4().hex[:6].upper()
    parent = f"P{suffix}"
    codes = [f"Z{suffix}-{n}" for n in ("A", "B", "C")]
    for n, code in enumerate(codes):
        await uow.catalogue.add(
            entry(CatalogueKind.CAUSE, code, parent_code=parent, active=n != 1), None
        )

    def listed(**filters):
        query = {"active": None, "on": None, "parent": parent, "after_code": None, "limit": 10}
        return uow.catalogue.entries(CatalogueKind.CAUSE, **(query | filters))

    assert [e.code for e in await listed()] == codes
    assert [e.code for e in await listed(active=True)] == [codes[0], codes[2]]
    assert [e.code for e in await listed(after_code=codes[0], limit=1)] == [codes[1]]
    assert await listed(parent="NOPE") == []


# --- sent emails and rate limits ------------------------------------------------------------


async def test_sent_emails_find_their_case_in_the_order_given(uow):
    ana = await customer(uow, "Ana")
    first, second = await a_case(uow, ana), await a_case(uow, ana)
    one, two = uuid.uuid4(), uuid.uuid4()
    await uow.sent_emails.remember(one, first.id, NOW)
    await uow.sent_emails.remember(two, second.id, NOW)
    await uow.sent_emails.remember(two, first.id, NOW)  # the first remembered wins

    assert await uow.sent_emails.case_number_of([uuid.uuid4(), two, one]) == second.number
    assert await uow.sent_emails.case_number_of([]) is None


async def test_rate_limits_count_per_bucket_and_window(uow):
    window = NOW.replace(minute=0)
    bucket = f"form:{uuid.uuid4().hex}"
    assert [await uow.rate_limits.hit(bucket, window) for _ in range(3)] == [1, 2, 3]
    assert await uow.rate_limits.hit(bucket + "x", window) == 1
    assert await uow.rate_limits.hit(bucket, window + timedelta(minutes=10)) == 1
