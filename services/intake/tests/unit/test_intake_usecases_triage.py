"""Issue 9's use cases on the in-memory unit of work: an unclassified contact never joins by
"same problem"; a thread header joins; a contact about a resolved case says so; auto-replies and
bounces are kept, never contacts; triage reclassifies, splits and merges; consents travel; the
customer's history keeps what other services said."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import (
    BounceKind,
    CaseAssigned,
    CaseContactLinked,
    CaseMerged,
    CaseOpened,
    CaseReclassified,
    CaseType,
    CatalogueKind,
    Channel,
    ContactKind,
    ContactReceived,
    EmailBounced,
    Envelope,
    LinkReason,
    NotificationChannel,
    Severity,
)
from atiende_intake import usecases
from atiende_intake.domain.cases import Reclassification
from atiende_intake.domain.catalogue import CatalogueEntry
from atiende_intake.domain.contacts import CaseStatus, Outcome, RecordContact
from atiende_intake.domain.customers import (
    CustomerRef,
    NewCustomer,
    ProfileChanges,
    identity_fields,
)
from atiende_intake.domain.email import parse_email
from atiende_intake.domain.errors import CaseConflict, Invalid, StaleCase
from atiende_intake.domain.feedback import FeedbackKind
from atiende_intake.settings import IntakeSettings

from .. import mail_samples as samples
from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SETTINGS = IntakeSettings()
ANA = CustomerRef(identity_fields(email="ana@example.com", phone="+34612345678"), name="Ana")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    for kind, code, parent in [
        (CatalogueKind.MOTIVE, "OTHER", None),
        (CatalogueKind.MOTIVE, "DELIVERY", None),
        (CatalogueKind.MOTIVE, "BILLING", None),
        (CatalogueKind.CAUSE, "DELIVERY_LATE", "DELIVERY"),
        (CatalogueKind.CAUSE, "BILLING_DUPLICATE_CHARGE", "BILLING"),
        (CatalogueKind.TOUCHPOINT, "EMAIL", None),
        (CatalogueKind.PRODUCT, "GENERAL", None),
    ]:
        fake.store.catalogue[(kind, code)] = CatalogueEntry(
            kind, code, code.title(), code.title(), parent_code=parent
        )
    return fake


def contact(**changes) -> RecordContact:
    fields = {"text": "Late again", "kind": ContactKind.CLAIM, "channel": Channel.PHONE}
    return RecordContact(customer=ANA, **{**fields, **changes})


async def record(uow, command, *, now=NOW):
    return await usecases.record(uow, command, SETTINGS, now)


# --- threading precision ---------------------------------------------------------------------


async def test_two_unclassified_contacts_never_join_by_same_problem(uow):
    first = await record(uow, contact())
    second = await record(uow, contact(text="Something else"), now=NOW + timedelta(hours=1))

    assert first.outcome is second.outcome is Outcome.OPENED
    assert first.case.id != second.case.id
    assert uow.events(CaseContactLinked) == []


async def test_a_classified_repeat_still_joins_by_same_problem(uow):
    first = await record(uow, contact(motive="DELIVERY"))
    again = await record(uow, contact(motive="DELIVERY"), now=NOW + timedelta(hours=1))
    assert (again.outcome, again.case.id) == (Outcome.JOINED, first.case.id)


async def test_an_email_answering_the_customers_earlier_email_joins_by_thread_header(uow):
    first_raw = samples.customer_reply("<unrelated@elsewhere.example>")
    first = await usecases.receive_mail(uow, first_raw, SETTINGS, now=NOW)
    earlier_id = parse_email(first_raw).message_id

    answer = samples.customer_reply(earlier_id)
    second = await usecases.receive_mail(uow, answer, SETTINGS, now=NOW + timedelta(hours=1))

    assert isinstance(first, usecases.ContactRecorded)
    assert isinstance(second, usecases.ContactRecorded)
    assert (second.outcome, second.case.id) == (Outcome.JOINED, first.case.id)
    [linked] = uow.events(CaseContactLinked)
    assert linked.reason is LinkReason.THREAD_HEADER


# --- reopen signalling -----------------------------------------------------------------------


async def test_a_contact_about_a_resolved_case_tells_routing_the_case_status(uow):
    first = await record(uow, contact(motive="DELIVERY"))
    await usecases.case_resolved(uow, first.case.id, NOW + timedelta(days=1))

    again = await record(
        uow, contact(case_number=first.case.number, upset=True), now=NOW + timedelta(days=2)
    )

    assert again.outcome is Outcome.JOINED
    [linked] = uow.events(CaseContactLinked)
    assert (linked.case_status, linked.upset) == ("resolved", True)


async def test_closed_then_reopened_cases_are_tracked(uow):
    first = await record(uow, contact(motive="DELIVERY"))
    await usecases.case_closed(uow, first.case.id, NOW + timedelta(days=1))
    assert (await uow.cases.get(first.case.id)).status is CaseStatus.CLOSED
    await usecases.case_reopened(uow, first.case.id, NOW + timedelta(days=2))
    assert (await uow.cases.get(first.case.id)).status is CaseStatus.OPEN
    # an older event arriving late does not undo the reopen
    await usecases.case_closed(uow, first.case.id, NOW + timedelta(days=1, hours=1))
    assert (await uow.cases.get(first.case.id)).status is CaseStatus.OPEN


# --- loop hygiene ----------------------------------------------------------------------------


async def test_an_auto_reply_is_kept_on_the_delivery_it_answers_and_is_no_contact(uow):
    opened = await record(uow, contact())
    delivery = uuid.uuid4()
    await usecases.email_sent(uow, delivery, opened.case.id, NOW)

    kept = await usecases.receive_mail(
        uow, samples.gmail_vacation(f"<{delivery}@atiende>"), SETTINGS, now=NOW
    )

    assert isinstance(kept, usecases.MailKept)
    assert (kept.kind, kept.case_id, kept.first_time) == (
        FeedbackKind.AUTO_REPLY,
        opened.case.id,
        True,
    )
    [mail] = uow.store.kept_mail.values()
    assert mail.delivery_id == delivery
    assert len(uow.store.contacts) == 1
    assert len(uow.events(ContactReceived)) == 1  # only the first contact's


async def test_a_bounce_publishes_email_bounced_once(uow):
    opened = await record(uow, contact())
    delivery = uuid.uuid4()
    await usecases.email_sent(uow, delivery, opened.case.id, NOW)
    raw = samples.postfix_dsn(f"<{delivery}@atiende>", "ana@example.com")

    await usecases.receive_mail(uow, raw, SETTINGS, null_sender=True, now=NOW)
    again = await usecases.receive_mail(uow, raw, SETTINGS, null_sender=True, now=NOW)

    [bounced] = uow.events(EmailBounced)
    assert bounced.message_id == f"<{delivery}@atiende>"
    assert (bounced.recipient, bounced.kind, bounced.status_code) == (
        "ana@example.com",
        BounceKind.HARD,
        "5.1.1",
    )
    assert bounced.case_id == opened.case.id
    assert isinstance(again, usecases.MailKept)
    assert not again.first_time


# --- triage ----------------------------------------------------------------------------------


async def test_reclassifying_emits_before_and_after_and_bumps_the_version(uow):
    opened = await record(uow, contact())
    case = await uow.cases.get(opened.case.id)

    after = await usecases.reclassify_case(
        uow,
        case.id,
        Reclassification(motive="DELIVERY", cause="DELIVERY_LATE", severity=Severity.HIGH),
        reason="It is about a late order",
        actor="agent-7",
        expected_version=case.version,
        now=NOW,
    )

    assert (after.motive, after.cause, after.severity, after.version) == (
        "DELIVERY",
        "DELIVERY_LATE",
        Severity.HIGH,
        case.version + 1,
    )
    [event] = uow.events(CaseReclassified)
    assert (event.before.motive, event.after.motive) == ("OTHER", "DELIVERY")
    assert event.after.cause == "DELIVERY_LATE"
    assert (event.reason, event.actor) == ("It is about a late order", "agent-7")


async def test_reclassifying_with_a_stale_version_or_bad_codes_is_refused(uow):
    opened = await record(uow, contact())
    with pytest.raises(StaleCase):
        await usecases.reclassify_case(
            uow,
            opened.case.id,
            Reclassification(motive="DELIVERY"),
            reason="x",
            actor=None,
            expected_version=99,
        )
    with pytest.raises(Invalid) as refused:
        await usecases.reclassify_case(
            uow,
            opened.case.id,
            Reclassification(motive="DELIVERY", cause="BILLING_DUPLICATE_CHARGE"),
            reason="x",
            actor=None,
            expected_version=None,
        )
    assert [e.rule for e in refused.value.errors] == ["cause_not_of_motive"]
    assert uow.events(CaseReclassified) == []


async def test_a_new_motive_drops_the_old_motives_cause_and_no_change_emits_nothing(uow):
    opened = await record(uow, contact(motive="DELIVERY", cause="DELIVERY_LATE"))
    changed = await usecases.reclassify_case(
        uow, opened.case.id, Reclassification(motive="BILLING"), reason="r", actor=None,
        expected_version=None,
    )  # fmt: skip
    assert (changed.motive, changed.cause) == ("BILLING", None)
    same = await usecases.reclassify_case(
        uow, opened.case.id, Reclassification(motive="BILLING"), reason="r", actor=None,
        expected_version=None,
    )  # fmt: skip
    assert same.version == changed.version
    assert len(uow.events(CaseReclassified)) == 1


async def test_splitting_a_contact_opens_a_related_case(uow):
    first = await record(uow, contact(motive="DELIVERY"))
    second = await record(
        uow, contact(motive="DELIVERY", text="Also charged twice"), now=NOW + timedelta(hours=1)
    )
    assert second.case.id == first.case.id

    split = await usecases.split_contact(
        uow,
        first.case.id,
        second.contact_id,
        reason="Another problem",
        motive="BILLING",
        actor="agent-7",
        default_motive="OTHER",
        now=NOW + timedelta(hours=2),
    )

    assert split.case.related_case_id == first.case.id
    assert split.case.motive == "BILLING"
    assert split.case.description == "Also charged twice"
    moved = await uow.contacts.get(second.contact_id)
    assert (moved.case_id, moved.outcome) == (split.case.id, Outcome.OPENED)
    opened = uow.events(CaseOpened)[-1]
    assert (opened.case_id, opened.related_case_id) == (split.case.id, first.case.id)


async def test_the_only_contact_of_a_case_cannot_be_split_off(uow):
    first = await record(uow, contact())
    with pytest.raises(CaseConflict):
        await usecases.split_contact(
            uow, first.case.id, first.contact_id, reason="r", motive=None, actor=None,
            default_motive="OTHER",
        )  # fmt: skip


async def test_merging_moves_the_contacts_and_closes_the_absorbed_case(uow):
    one = await record(uow, contact())
    two = await record(uow, contact(text="Same thing"), now=NOW + timedelta(hours=1))

    merged = await usecases.merge_cases(
        uow, two.case.id, one.case.id, reason="Same order", actor="agent-7", now=NOW
    )

    assert merged.absorbed.merged_into == one.case.id
    assert merged.absorbed.status is CaseStatus.CLOSED
    assert merged.moved_contact_ids == [two.contact_id]
    moved = await uow.contacts.get(two.contact_id)
    assert (moved.case_id, moved.link_reason) == (one.case.id, LinkReason.AGENT)
    [event] = uow.events(CaseMerged)
    assert (event.case_id, event.into_case_id) == (two.case.id, one.case.id)
    # the absorbed case's number still reaches the problem: through the survivor
    later = await record(uow, contact(case_number=two.case.number), now=NOW + timedelta(days=1))
    assert later.case.id == one.case.id


async def test_only_one_customers_cases_merge(uow):
    one = await record(uow, contact())
    other = CustomerRef(identity_fields(email="luis@example.com"), name="Luis")
    two = await record(uow, RecordContact(customer=other, kind=ContactKind.CLAIM,
                                          channel=Channel.PHONE, text="x"))  # fmt: skip
    with pytest.raises(CaseConflict):
        await usecases.merge_cases(uow, two.case.id, one.case.id, reason="r", actor=None)
    with pytest.raises(CaseConflict):
        await usecases.merge_cases(uow, one.case.id, one.case.id, reason="r", actor=None)


# --- consent and preferences travel ----------------------------------------------------------


async def test_case_opened_carries_consents_preferred_channel_and_phone(uow):
    created = await usecases.create_customer(
        uow,
        NewCustomer(
            name="Ana",
            identity_fields=ANA.identity_fields,
            email="ana@example.com",
            consent_marketing=True,
            consent_surveys=False,
            preferred_channel=NotificationChannel.SMS,
        ),
        now=NOW,
    )
    await record(uow, contact(motive="DELIVERY", product="GENERAL"))

    [opened] = uow.events(CaseOpened)
    assert (opened.consent_surveys, opened.consent_marketing) == (False, True)
    assert opened.preferred_channel is NotificationChannel.SMS
    assert opened.customer_phone == "+34612345678"
    assert opened.product == "GENERAL"
    changed = await usecases.change_customer(
        uow, created.customer.id, ProfileChanges(preferred_channel=NotificationChannel.EMAIL)
    )
    assert changed.customer.preferred_channel is NotificationChannel.EMAIL


# --- history ---------------------------------------------------------------------------------


async def test_the_history_keeps_what_other_services_said_about_the_customers_cases(uow):
    opened = await record(uow, contact())
    event = CaseAssigned(
        case_id=opened.case.id,
        case_number=opened.case.number,
        team="general",
        agent_id="agent-7",
        assigned_at=NOW + timedelta(minutes=5),
    )
    envelope = Envelope.wrap(event, source="routing")
    await usecases.keep_case_fact(uow, envelope, event)
    await usecases.keep_case_fact(uow, envelope, event)  # redelivered: kept once

    history = await usecases.customer_history(uow, opened.customer_id, None, 10)

    assert [item.type for item in history.items] == ["event", "contact", "case"] or [
        item.type for item in history.items
    ] == ["event", "case", "contact"]
    fact = history.items[0]
    assert (fact.kind, fact.case_number) == ("case.assigned", opened.case.number)
    assert "agent agent-7" in fact.text
    assert CaseType.CLAIM.value in {item.kind for item in history.items}
