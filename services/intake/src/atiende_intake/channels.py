"""The public channels' use cases — an email, a web-form submission — each turning what arrived
into a contact recorded by `usecases.record_contact`, inside the caller's unit of work. The SMTP
listener and POST /inbound/email share `record_email`, so an email is recorded the same way
whichever door it came through."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from atiende_runtime.uow import UnitOfWork

from .domain.email import InboundEmail
from .domain.webform import FormContact
from .repository.contacts import ContactsRepository
from .repository.customers import CustomersRepository, profile_of
from .repository.emails import SentEmailsRepository
from .usecases import ContactRecorded, record_contact, resolve_customer

if TYPE_CHECKING:
    from .app import IntakeSettings


async def record_email(
    uow: UnitOfWork, email: InboundEmail, settings: IntakeSettings
) -> ContactRecorded:
    """Record a customer's email; a reply naming one of our cases joins it."""
    case_number = await case_answered(uow, email)
    return await record_contact(
        uow,
        email.contact(kind=settings.inbound_email_kind, case_number=case_number),
        join_window=timedelta(days=settings.join_window_days),
        default_motive=settings.default_motive,
    )


async def case_answered(uow: UnitOfWork, email: InboundEmail) -> str | None:
    """The case the email is about: the first case number it names that exists, else the case of
    the notification it answers. A number we never issued (a typo, another company's reference)
    does not make the email fail: it is then recorded as a new contact, and nothing is lost."""
    contacts = ContactsRepository(uow.conn)
    for number in email.case_numbers:
        if await contacts.case_by_number(number) is not None:
            return number
    return await SentEmailsRepository(uow.conn).case_number_of(email.replied_deliveries)


async def record_form(
    uow: UnitOfWork, form: FormContact, settings: IntakeSettings
) -> ContactRecorded:
    """Record a web-form submission. What the customer chose on the form becomes their profile
    first, so the case.opened it causes already carries it: the survey consent always (the form
    asks it explicitly every time), the page's language only for a new customer (a returning one
    may have told us their preference before)."""
    now = datetime.now(UTC)
    customer = await resolve_customer(uow, form.contact.customer, now)
    before = profile_of(customer.row)
    after = replace(before, consent_surveys=form.survey_consent)
    if customer.created:
        after = replace(after, language=form.language)
    if after != before:
        customers = CustomersRepository(uow.conn)
        row = await customers.get(customer.id)
        assert row is not None  # locked by resolve_customer
        await customers.update_profile(customer.id, row["name"], after)
        await uow.emit(after.changed_event(now))
    return await record_contact(
        uow,
        form.contact,
        join_window=timedelta(days=settings.join_window_days),
        default_motive=settings.default_motive,
    )
