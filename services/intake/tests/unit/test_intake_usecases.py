"""Intake's use cases on the in-memory unit of work: recording contacts (one case per problem),
managing customers (merge, undo, erase) and the catalogue, without PostgreSQL or RabbitMQ."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import (
    CaseContactLinked,
    CaseOpened,
    CatalogueEntryChanged,
    CatalogueKind,
    Channel,
    ContactKind,
    ContactReceived,
    CustomerErased,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerProfileChanged,
    LinkReason,
)
from atiende_intake import usecases
from atiende_intake.domain.catalogue import CatalogueEntry
from atiende_intake.domain.contacts import CaseStatus, Outcome, RecordContact
from atiende_intake.domain.customers import (
    ERASED_TEXT,
    CustomerRef,
    IdentityKind,
    NewCustomer,
    ProfileChanges,
    identity_fields,
)
from atiende_intake.domain.errors import (
    CodeExists,
    CustomerConflict,
    CustomerNotFound,
    IdentityTaken,
    Invalid,
    RetiresDefaultMotive,
)
from atiende_intake.settings import IntakeSettings

from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)
ANA = CustomerRef(identity_fields(email="ana@example.com"), name="Ana")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    for kind, code in [
        (CatalogueKind.MOTIVE, "OTHER"),
        (CatalogueKind.MOTIVE, "DELIVERY"),
        (CatalogueKind.MOTIVE, "BILLING"),
        (CatalogueKind.TOUCHPOINT, "WEB"),
    ]:
        fake.store.catalogue[(kind, code)] = CatalogueEntry(kind, code, code.title(), code.title())
    return fake


def contact(kind=ContactKind.COMPLAINT, customer=ANA, **changes) -> RecordContact:
    fields = {"motive": "DELIVERY", "text": "Late again", **changes}
    return RecordContact(customer=customer, kind=kind, channel=Channel.PHONE, **fields)


async def record(uow, command, *, now=NOW, always_open=False):
    return await usecases.record_contact(
        uow,
        command,
        join_window=WINDOW,
        default_motive="OTHER",
        always_open=always_open,
        now=now,
    )


# --- record_contact ------------------------------------------------------------------------


async def test_a_first_complaint_opens_a_case_for_a_new_customer(uow):
    recorded = await record(uow, contact())

    assert recorded.outcome is Outcome.OPENED
    assert recorded.case is not None
    assert recorded.case.number == "AT-2026-000001"
    case = await uow.cases.get(recorded.case.id)
    assert (case.customer_email, case.motive, case.status) == (
        "ana@example.com",
        "DELIVERY",
        CaseStatus.OPEN,
    )
    assert [type(e) for e in uow.emitted] == [CustomerProfileChanged, CaseOpened, ContactReceived]
    assert uow.events(ContactReceived)[0].returning_customer is False
    assert ("identity", IdentityKind.EMAIL, "", "ana@example.com") in uow.locks.held


async def test_a_repeat_complaint_about_the_same_problem_joins_the_open_case(uow):
    first = await record(uow, contact())
    again = await record(uow, contact(text="Still late"), now=NOW + timedelta(days=3))

    assert (again.outcome, again.case.id) == (Outcome.JOINED, first.case.id)
    assert again.customer_id == first.customer_id
    [linked] = uow.events(CaseContactLinked)
    assert linked.reason is LinkReason.SAME_PROBLEM
    assert uow.events(ContactReceived)[-1].returning_customer is True
    assert len(uow.store.cases) == 1


async def test_the_same_customer_with_another_motive_or_outside_the_window_opens_another(uow):
    first = await record(uow, contact())
    billing = await record(uow, contact(motive="BILLING"))
    later = await record(uow, contact(received_at=NOW + WINDOW + timedelta(days=1)))

    assert billing.outcome is Outcome.OPENED
    assert billing.case.id != first.case.id
    assert later.outcome is Outcome.OPENED
    assert later.case.id != first.case.id


async def test_a_resolved_case_is_not_joined(uow):
    first = await record(uow, contact())
    await usecases.case_resolved(uow, first.case.id, NOW + timedelta(hours=1))

    again = await record(uow, contact(), now=NOW + timedelta(days=1))

    assert again.outcome is Outcome.OPENED


async def test_a_contact_naming_its_case_number_joins_it_whatever_its_kind(uow):
    first = await record(uow, contact())
    thanks = await record(
        uow, contact(ContactKind.COMPLIMENT, motive=None, case_number=first.case.number)
    )

    assert (thanks.outcome, thanks.case.id) == (Outcome.JOINED, first.case.id)
    assert uow.events(CaseContactLinked)[-1].reason is LinkReason.CASE_NUMBER
    assert (await uow.contacts.get(thanks.contact_id)).motive == "DELIVERY"


async def test_an_unknown_case_number_is_invalid_and_nothing_is_written(uow):
    with pytest.raises(Invalid) as refused:
        await record(uow, contact(case_number="AT-2026-999999"))

    assert list(refused.value.by_field()) == ["case_number"]
    assert (uow.store.contacts, uow.store.customers, uow.emitted) == ({}, {}, [])


@pytest.mark.parametrize("kind", [ContactKind.SUGGESTION, ContactKind.COMPLIMENT])
async def test_suggestions_and_compliments_are_only_recorded(uow, kind):
    await record(uow, contact())
    recorded = await record(uow, contact(kind, motive=None))

    assert (recorded.outcome, recorded.case) == (Outcome.RECORDED, None)
    assert len(uow.store.cases) == 1
    assert not uow.events(CaseContactLinked)


async def test_a_contact_without_a_motive_opens_a_case_with_the_default_motive(uow):
    recorded = await record(uow, contact(motive=None))

    assert recorded.case.motive == "OTHER"


async def test_an_unknown_motive_is_refused_on_its_field(uow):
    with pytest.raises(Invalid) as refused:
        await record(uow, contact(motive="NOPE"))

    assert [(e.field, e.rule) for e in refused.value.errors] == [("motive", "unknown_code")]


async def test_an_opened_case_never_joins(uow):
    first = await record(uow, contact())
    opened = await record(uow, contact(), always_open=True)

    assert opened.outcome is Outcome.OPENED
    assert opened.case.id != first.case.id


async def test_the_same_external_ref_is_the_same_contact(uow):
    first = await record(uow, contact(external_ref="<m1@example.com>"))
    again = await record(uow, contact(external_ref="<m1@example.com>"))

    assert (again.contact_id, again.replayed, again.case) == (first.contact_id, True, first.case)
    assert len(uow.store.contacts) == 1


async def test_an_erased_customer_cannot_be_written_to(uow):
    first = await record(uow, contact())
    await usecases.erase_customer(uow, first.customer_id)

    with pytest.raises(CustomerConflict) as refused:
        await record(uow, contact(customer=CustomerRef(id=first.customer_id)))
    assert refused.value.title == "Customer erased"


# --- customers -----------------------------------------------------------------------------


async def new_customer(uow, name, email):
    command = NewCustomer(name=name, email=email, identity_fields=identity_fields(email=email))
    return (await usecases.create_customer(uow, command, NOW)).customer


async def test_creating_a_customer_with_a_taken_identity_names_the_field_and_owner(uow):
    ana = await new_customer(uow, "Ana", "ana@example.com")

    with pytest.raises(IdentityTaken) as taken:
        await new_customer(uow, "Ana P.", "ana@example.com")
    assert [e.as_dict()["owner_id"] for e in taken.value.errors] == [str(ana.id)]


async def test_a_profile_change_is_announced_only_when_the_profile_changed(uow):
    ana = await new_customer(uow, "Ana", "ana@example.com")
    uow.emitted.clear()

    renamed = await usecases.change_customer(uow, ana.id, ProfileChanges(name="Ana P."), NOW)
    assert renamed.customer.name == "Ana P."
    assert uow.emitted == []
    await usecases.change_customer(uow, ana.id, ProfileChanges(language="en"), NOW)
    assert [e.language for e in uow.events(CustomerProfileChanged)] == ["en"]


async def test_a_merge_moves_everything_and_its_undo_moves_exactly_that_back(uow):
    ana = await new_customer(uow, "Ana", "ana@example.com")
    dup = await record(uow, contact(customer=CustomerRef(identity_fields(phone="+34600123456"))))

    merge = await usecases.merge_customers(uow, ana.id, dup.customer_id)

    assert merge.case_ids == [dup.case.id]
    assert merge.contact_ids == [dup.contact_id]
    assert (await uow.cases.get(dup.case.id)).customer_id == ana.id
    assert (await uow.customers.get(dup.customer_id)).merged_into == ana.id
    assert uow.events(CustomerMerged)[0].case_ids == [dup.case.id]
    # a contact by the merged record's phone now finds the survivor's open case
    again = await record(uow, contact(customer=CustomerRef(identity_fields(phone="+34600123456"))))
    assert (again.customer_id, again.case.id) == (ana.id, dup.case.id)

    undone = await usecases.undo_merge(uow, merge.id)

    assert undone.undone_at is not None
    assert (await uow.cases.get(dup.case.id)).customer_id == dup.customer_id
    assert (await uow.contacts.get(again.contact_id)).customer_id == ana.id  # gained since: stays
    assert (await uow.customers.get(dup.customer_id)).merged_into is None
    assert uow.events(CustomerMergeUndone)[0].merge_id == merge.id
    with pytest.raises(CustomerConflict) as twice:
        await usecases.undo_merge(uow, merge.id)
    assert twice.value.title == "Merge already undone"


async def test_merge_refusals(uow):
    ana = await new_customer(uow, "Ana", "ana@example.com")
    with pytest.raises(CustomerConflict) as same:
        await usecases.merge_customers(uow, ana.id, ana.id)
    assert same.value.title == "Same customer"
    with pytest.raises(Invalid) as unknown:
        await usecases.merge_customers(uow, ana.id, uuid.uuid4())
    assert list(unknown.value.by_field()) == ["source_customer_id"]
    with pytest.raises(CustomerNotFound):
        await usecases.merge_customers(uow, uuid.uuid4(), ana.id)


async def test_erasure_pseudonymises_and_a_second_erasure_emits_nothing(uow):
    recorded = await record(uow, contact(expectation="A refund"))
    customer_id = recorded.customer_id

    erased = await usecases.erase_customer(uow, customer_id)

    assert erased.case_ids == [recorded.case.id]
    assert erased.facts.contact_count == 1
    assert (await uow.contacts.get(recorded.contact_id)).text == ERASED_TEXT
    case = await uow.cases.get(recorded.case.id)
    assert (case.description, case.expectation, case.customer_email) == (
        ERASED_TEXT,
        ERASED_TEXT,
        None,
    )
    assert (await uow.customers.get(customer_id)).primary_email is None
    assert len(uow.events(CustomerErased)) == 1
    # the copies in the outbox and the key store: her ids, what identified her, the free text
    [scrub] = uow.scrubbed
    assert scrub.subjects == {str(customer_id), str(recorded.case.id)}
    assert {"ana@example.com"} <= scrub.values
    assert {"description", "customer_name", "customer_email"} <= scrub.free_text
    again = await usecases.erase_customer(uow, customer_id)
    assert again.erased_at == erased.erased_at
    assert len(uow.events(CustomerErased)) == 1


async def test_a_merged_away_record_is_erased_through_its_survivor(uow):
    ana = await new_customer(uow, "Ana", "ana@example.com")
    dup = await new_customer(uow, "A. P.", "ap@example.com")
    await usecases.merge_customers(uow, ana.id, dup.id)

    with pytest.raises(CustomerConflict) as refused:
        await usecases.erase_customer(uow, dup.id)
    assert refused.value.title == "Customer merged"
    await usecases.erase_customer(uow, ana.id)
    assert (await uow.customers.get(dup.id)).erased_at is not None


# --- the catalogue -------------------------------------------------------------------------


async def test_catalogue_entries_are_created_once_and_changes_announced(uow):
    late = CatalogueEntry(CatalogueKind.CAUSE, "LATE", "Tarde", "Late", parent_code="DELIVERY")
    await usecases.create_entry(uow, late, NOW)
    with pytest.raises(CodeExists):
        await usecases.create_entry(uow, late, NOW)

    changed = await usecases.change_entry(
        uow, CatalogueKind.CAUSE, "LATE", {"name_en": "Delayed"}, default_motive="OTHER", now=NOW
    )
    unchanged = await usecases.change_entry(
        uow, CatalogueKind.CAUSE, "LATE", {"name_en": "Delayed"}, default_motive="OTHER", now=NOW
    )

    assert changed == unchanged
    assert changed.name_en == "Delayed"
    assert [e.name_en for e in uow.events(CatalogueEntryChanged)] == ["Late", "Delayed"]
    assert uow.subjects[-1] == "catalogue:cause:LATE"


async def test_a_cause_needs_an_existing_motive(uow):
    orphan = CatalogueEntry(CatalogueKind.CAUSE, "LOST", "Perdido", "Lost", parent_code="NOPE")
    with pytest.raises(Invalid) as refused:
        await usecases.create_entry(uow, orphan, NOW)
    assert list(refused.value.by_field()) == ["parent_code"]


async def test_the_default_motive_cannot_be_retired_but_others_can(uow):
    with pytest.raises(RetiresDefaultMotive):
        await usecases.change_entry(
            uow, CatalogueKind.MOTIVE, "OTHER", {"active": False}, default_motive="OTHER", now=NOW
        )
    retired = await usecases.change_entry(
        uow, CatalogueKind.MOTIVE, "BILLING", {"active": False}, default_motive="OTHER", now=NOW
    )
    assert retired.active is False
    with pytest.raises(Invalid):  # a retired motive no longer classifies a new contact
        await record(uow, contact(motive="BILLING"))


# --- the web form's rate limit -------------------------------------------------------------


async def test_the_form_rate_limit_counts_per_address_and_window(uow):
    settings = IntakeSettings(form_rate_limit=2, form_rate_window_seconds=600)
    start = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    hits = [
        await usecases.count_form_submission(
            uow, "10.0.0.1", settings, start + timedelta(seconds=s)
        )
        for s in (0, 1, 2)
    ]
    assert hits == [None, None, 598]
    assert await usecases.count_form_submission(uow, "10.0.0.2", settings, start) is None
    assert (
        await usecases.count_form_submission(
            uow, "10.0.0.1", settings, start + timedelta(minutes=10)
        )
        is None
    )


# --- who did it ----------------------------------------------------------------------------


async def test_an_agent_opening_a_case_is_its_actor_and_a_customer_writing_in_is_none(uow):
    settings = IntakeSettings(default_motive="OTHER")
    by_phone = await usecases.open_case(uow, contact(), settings, NOW, actor="agent@example.com")
    written = await record(
        uow, contact(customer=CustomerRef(identity_fields(phone="+34600123999")))
    )

    opened = {e.case_id: e for e in uow.events(CaseOpened)}
    assert (opened[by_phone.id].actor, opened[by_phone.id].channel) == (
        "agent@example.com",
        Channel.PHONE,
    )
    assert opened[written.case.id].actor is None
    assert (await uow.cases.get(by_phone.id)).opened_by == "agent@example.com"
    assert (await uow.cases.get(written.case.id)).opened_by is None
    # the customer the agent's contact created is announced as created by the agent
    assert uow.events(CustomerProfileChanged)[0].actor == "agent@example.com"


async def test_customer_changes_merges_and_erasure_record_their_actor(uow):
    ana = await new_customer(uow, "Ana", "ana@example.com")
    dup = await new_customer(uow, "A. P.", "ap@example.com")
    uow.emitted.clear()

    await usecases.change_customer(
        uow, ana.id, ProfileChanges(language="en"), NOW, actor="agent@example.com"
    )
    merge = await usecases.merge_customers(uow, ana.id, dup.id, actor="sup@example.com")
    undone = await usecases.undo_merge(uow, merge.id, actor="boss@example.com")
    await usecases.erase_customer(uow, dup.id, actor="dpo@example.com")

    assert [e.actor for e in uow.events(CustomerProfileChanged)] == ["agent@example.com"]
    assert await uow.customers.changed_by(ana.id) == ("agent@example.com", None)
    assert uow.events(CustomerMerged)[0].actor == "sup@example.com"
    assert uow.events(CustomerMergeUndone)[0].actor == "boss@example.com"
    assert (undone.merged_by, undone.undone_by) == ("sup@example.com", "boss@example.com")
    assert uow.events(CustomerErased)[0].actor == "dpo@example.com"
    assert await uow.customers.changed_by(dup.id) == (None, "dpo@example.com")


async def test_catalogue_changes_record_their_actor(uow):
    late = CatalogueEntry(CatalogueKind.CAUSE, "LATE", "Tarde", "Late", parent_code="DELIVERY")
    await usecases.create_entry(uow, late, NOW, actor="admin@example.com")
    await usecases.change_entry(
        uow,
        CatalogueKind.CAUSE,
        "LATE",
        {"name_en": "Delayed"},
        default_motive="OTHER",
        actor="other-admin@example.com",
        now=NOW,
    )

    assert [e.actor for e in uow.events(CatalogueEntryChanged)] == [
        "admin@example.com",
        "other-admin@example.com",
    ]
    assert await uow.catalogue.changed_by(CatalogueKind.CAUSE, "LATE") == "other-admin@example.com"
