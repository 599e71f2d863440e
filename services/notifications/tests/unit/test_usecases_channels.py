"""Issue 13's use cases on fakes: channel choice and suppression, quiet hours, staff messages,
bounces, erasure, template administration, webhook fan-out and dispatch."""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from atiende_contracts import (
    AgentChanged,
    Availability,
    BounceKind,
    CaseAssigned,
    CaseOpened,
    CaseStatus,
    CaseStatusChanged,
    CommitmentMade,
    CustomerErased,
    EmailBounced,
    Envelope,
    Formality,
    NotificationChannel,
    NotificationDeferred,
    NotificationFailed,
    NotificationSuppressed,
    Rank,
    WebhookEndpointDisabled,
    WebhookEndpointEnabled,
)
from atiende_notifications import usecases
from atiende_notifications.domain import DeliveryStatus, RetryPolicy, Template
from atiende_notifications.domain.deliveries import RetrySchedule
from atiende_notifications.domain.errors import TemplateInvalid, UnsafeUrl
from atiende_notifications.domain.preferences import CustomerPreferences, QuietHours
from atiende_notifications.domain.templating import TemplateKey, TemplateText
from atiende_notifications.usecases import Outcome, Senders, SendFailure
from atiende_runtime.languages import Language

from ..fakes import FakeClock, FakeMailer, FakeUnitOfWork

EMAIL, SMS, WEBHOOK = (
    NotificationChannel.EMAIL,
    NotificationChannel.SMS,
    NotificationChannel.WEBHOOK,
)
POLICY = RetryPolicy(3, timedelta(seconds=30), timedelta(hours=1))
URLS = usecases.UrlPolicy(allow_http=True, allow_private=True)


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 12, 11, 0, tzinfo=UTC))  # 12:00 in Madrid


def opened(**overrides):
    data = {
        "case_id": uuid.uuid4(),
        "case_number": "AT-2026-000321",
        "customer_id": uuid.uuid4(),
        "customer_name": "Ana Pérez",
        "customer_email": "ana@example.com",
        "type": "complaint",
        "channel": "email",
        "description": "x",
        "opened_at": datetime(2026, 3, 12, tzinfo=UTC),
        "language": "es",
        "formality": "informal",
    }
    return CaseOpened(**{**data, **overrides})


def types(uow):
    return [type(e).__name__ for e in uow.emitted]


async def test_the_acknowledgement_speaks_the_customers_register(uow, clock):
    delivery = await usecases.acknowledge_case(uow, opened(), clock=clock)
    assert delivery.subject == "[AT-2026-000321] Hemos recibido tu caso"
    assert "contigo" in delivery.body_text
    assert "<strong>AT-2026-000321</strong>" in delivery.body_html
    formal = await usecases.acknowledge_case(uow, opened(formality="formal"), clock=clock)
    assert "usted" in formal.body_text


async def test_an_admins_template_is_used_and_a_broken_one_refused(uow, clock):
    key = TemplateKey(Template.CASE_ACKNOWLEDGEMENT, EMAIL, Language.ES, None)
    with pytest.raises(TemplateInvalid):
        await usecases.save_template(uow, key, TemplateText("S", "{{ nope }}"), actor="a")
    await usecases.save_template(
        uow, key, TemplateText("Caso {{ case_number }}", "Hola {{ customer_name }}"), actor="a"
    )
    # (es, informal) ships its own text: it still wins over the saved Spanish default...
    informal = await usecases.acknowledge_case(uow, opened(), clock=clock)
    assert "contigo" in informal.body_text
    # ...until an admin saves that exact key
    exact = TemplateKey(Template.CASE_ACKNOWLEDGEMENT, EMAIL, Language.ES, Formality.INFORMAL)
    await usecases.save_template(
        uow, exact, TemplateText("Tu caso", "Ey {{ customer_name }}"), actor="a"
    )
    mine = await usecases.acknowledge_case(uow, opened(), clock=clock)
    assert (mine.subject, mine.body_text) == ("Tu caso", "Ey Ana Pérez")


async def test_saving_a_default_marks_its_variants_outdated_and_versions_count_up(uow):
    variant = TemplateKey(Template.CASE_RESOLVED, EMAIL, Language.EN, Formality.FORMAL)
    default = TemplateKey(Template.CASE_RESOLVED, EMAIL, Language.ES, None)
    text = TemplateText("S {{ case_number }}", "{{ resolution }}")
    first = await usecases.save_template(uow, variant, text, actor="a")
    second = await usecases.save_template(uow, variant, text, actor="a")
    assert (first.version, second.version) == (1, 2)
    await usecases.save_template(uow, default, text, actor="a")
    found = await usecases.effective_template(uow, variant)
    assert found.stored.outdated is True
    again = await usecases.save_template(uow, variant, text, actor="a")
    assert again.outdated is False
    await usecases.remove_template(uow, variant, actor="a")
    assert (await usecases.effective_template(uow, variant)).stored is None


async def test_preview_renders_a_draft_or_a_real_case(uow, clock):
    event = opened()
    await usecases.acknowledge_case(uow, event, clock=clock)
    key = TemplateKey(Template.CASE_RESOLVED, EMAIL, Language.ES, Formality.FORMAL)
    served_by, body = await usecases.preview(uow, key, None, case_id=event.case_id)
    assert served_by == key
    assert "Ana Pérez" in body.text
    assert "AT-2026-000321" in body.subject


async def test_a_customer_with_only_a_phone_gets_an_sms(uow, clock):
    event = opened(customer_email=None, customer_phone="+34600000000")
    delivery = await usecases.acknowledge_case(uow, event, clock=clock)
    assert (delivery.channel, delivery.recipient) == (SMS, "+34600000000")
    assert len(delivery.body_text) <= 320
    assert delivery.body_html is None


async def test_the_preferred_channel_goes_first_and_opt_outs_are_respected(uow, clock):
    event = opened(customer_phone="+34600000000", preferred_channel="sms")
    assert (await usecases.acknowledge_case(uow, event, clock=clock)).channel is SMS
    prefs = await uow.preferences.get(event.customer_id)
    await uow.preferences.save(
        CustomerPreferences(event.customer_id, opted_out=frozenset({EMAIL, SMS}))
    )
    resolved = await usecases.status_changed(
        uow,
        CaseStatusChanged(
            case_id=event.case_id,
            case_number=event.case_number,
            from_status=CaseStatus.IN_PROGRESS,
            to_status=CaseStatus.WAITING_ON_CUSTOMER,
            note="¿Nos envías la factura?",
            changed_at=clock.now,
        ),
        clock=clock,
    )
    assert prefs.preferred_channel is SMS
    assert (resolved.status, resolved.reason) == (DeliveryStatus.SUPPRESSED, "opted_out")
    assert isinstance(uow.emitted[-1], NotificationSuppressed)


async def test_survey_messages_need_the_consent(uow, clock):
    from atiende_contracts import SurveyInvited

    event = opened(consent_surveys=False)
    await usecases.acknowledge_case(uow, event, clock=clock)
    invited = SurveyInvited(
        invitation_id=uuid.uuid4(),
        case_id=event.case_id,
        case_number=event.case_number,
        survey_url="https://s.example/x",
        expires_at=clock.now + timedelta(days=14),
    )
    delivery = await usecases.invite_to_survey(uow, invited, clock=clock)
    assert delivery.reason == "no_consent"


async def test_quiet_hours_defer_a_non_urgent_message_and_say_so(uow, clock):
    event = opened()
    await usecases.acknowledge_case(uow, event, clock=clock)
    await uow.preferences.save(
        CustomerPreferences(event.customer_id, quiet_hours=QuietHours(time(22), time(8)))
    )
    clock.now = datetime(2026, 3, 12, 22, 30, tzinfo=UTC)  # 23:30 in Madrid
    made = CommitmentMade(
        commitment_id=uuid.uuid4(),
        case_id=event.case_id,
        case_number=event.case_number,
        description="Te llamaremos",
        due_at=datetime(2026, 3, 13, 15, tzinfo=UTC),
        owner_id="luis",
        made_at=clock.now,
    )
    delivery = await usecases.commitment_made(uow, made, clock=clock)
    assert delivery.next_attempt_at == datetime(2026, 3, 13, 7, tzinfo=UTC)
    assert delivery.reason == "quiet_hours"
    assert isinstance(uow.emitted[-1], NotificationDeferred)
    assert "13 de marzo de 2026, 16:00" in delivery.body_text  # in the customer's zone
    # a promise due before the window ends goes now
    urgent = made.model_copy(
        update={"commitment_id": uuid.uuid4(), "due_at": datetime(2026, 3, 13, 6, tzinfo=UTC)}
    )
    assert (await usecases.commitment_made(uow, urgent, clock=clock)).next_attempt_at == clock.now


async def _deferred_commitment(uow, clock, event):
    await usecases.acknowledge_case(uow, event, clock=clock)
    await uow.preferences.save(
        CustomerPreferences(event.customer_id, quiet_hours=QuietHours(time(22), time(8)))
    )
    await usecases.dispatch_due(uow, FakeMailer(), POLICY, batch_size=5, clock=clock)  # the ack
    clock.now = datetime(2026, 3, 12, 22, 30, tzinfo=UTC)  # 23:30 in Madrid
    made = CommitmentMade(
        commitment_id=uuid.uuid4(),
        case_id=event.case_id,
        case_number=event.case_number,
        description="Te llamaremos",
        due_at=datetime(2026, 3, 13, 15, tzinfo=UTC),
        owner_id="luis",
        made_at=clock.now,
    )
    delivery = await usecases.commitment_made(uow, made, clock=clock)
    assert delivery.reason == "quiet_hours"
    return delivery


async def test_a_deferred_message_is_rendered_when_it_goes_out_with_a_fixed_template(uow, clock):
    event = opened()
    deferred = await _deferred_commitment(uow, clock, event)
    assert "Te llamaremos" in deferred.body_text
    # before the window ends, an admin fixes the template
    await usecases.save_template(
        uow,
        TemplateKey(Template.COMMITMENT_MADE, EMAIL, Language.ES, Formality.INFORMAL),
        TemplateText(
            "[{{ case_number }}] Compromiso", "Hola {{ customer_name }}: {{ commitment }}"
        ),
        actor="admin",
    )
    mailer = FakeMailer()
    assert await usecases.dispatch_due(uow, mailer, POLICY, batch_size=5, clock=clock) == []
    clock.now = datetime(2026, 3, 13, 7, tzinfo=UTC)  # 08:00 in Madrid: the window has ended
    (attempt,) = await usecases.dispatch_due(uow, mailer, POLICY, batch_size=5, clock=clock)
    assert attempt.outcome is Outcome.SENT
    (sent,) = mailer.sent
    assert sent.body_text == "Hola Ana Pérez: Te llamaremos"
    assert sent.subject == f"[{event.case_number}] Compromiso"
    stored = await uow.deliveries.get(deferred.id)
    assert stored.body_text == sent.body_text  # the log shows what went
    assert stored.reason == "quiet_hours"  # the recorded reason stays


async def test_a_deferred_message_honours_a_profile_change_before_it_goes(uow, clock):
    from atiende_contracts import CustomerProfileChanged, Tier

    event = opened()  # Spanish, informal
    deferred = await _deferred_commitment(uow, clock, event)
    assert deferred.body_text.startswith("Hola, Ana Pérez:")
    await usecases.profile_changed(
        uow,
        CustomerProfileChanged(
            customer_id=event.customer_id,
            tier=Tier.STANDARD,
            language="en",
            formality=Formality.FORMAL,
            consent_surveys=True,
            consent_marketing=False,
            changed_at=clock.now,
        ),
    )
    clock.now = datetime(2026, 3, 13, 7, tzinfo=UTC)
    mailer = FakeMailer()
    (attempt,) = await usecases.dispatch_due(uow, mailer, POLICY, batch_size=5, clock=clock)
    assert attempt.outcome is Outcome.SENT
    (sent,) = mailer.sent
    assert sent.body_text.startswith("Dear Ana Pérez,")
    assert (sent.language, sent.register) == ("en", Formality.FORMAL)
    assert (await uow.deliveries.get(deferred.id)).reason == "quiet_hours"


async def test_staff_messages_use_routings_addresses_and_their_channels(uow, clock):
    event = opened()
    await usecases.acknowledge_case(uow, event, clock=clock)
    assigned = CaseAssigned(
        case_id=event.case_id,
        case_number=event.case_number,
        team="billing",
        agent_id="luis",
        agent_email="luis@atiende.example",
        agent_name="Luis",
        priority="high",
        assigned_at=clock.now,
    )
    delivery = await usecases.case_assigned(uow, assigned, clock=clock)
    assert delivery.recipient == "luis@atiende.example"
    assert delivery.subject == "Caso asignado: AT-2026-000321"
    assert delivery.thread is None  # staff mail does not thread into the customer's case
    await usecases.agent_changed(
        uow,
        AgentChanged(
            agent_id="luis",
            name="Luis",
            email="luis@atiende.example",
            rank=Rank.AGENT,
            teams=["billing"],
            availability=Availability.AVAILABLE,
            active=True,
            changed_at=clock.now,
        ),
    )
    await usecases.set_staff_channels(uow, "luis", [], None)
    again = assigned.model_copy(update={"assigned_at": clock.now + timedelta(minutes=1)})
    muted = await usecases.case_assigned(uow, again, clock=clock)
    assert (muted.status, muted.reason) == (DeliveryStatus.SUPPRESSED, "no_address")


async def test_a_hard_bounce_fails_the_email_flags_the_address_and_tries_sms(uow, clock):
    event = opened(customer_phone="+34600000000")
    ack = await usecases.acknowledge_case(uow, event, clock=clock)
    mailer = FakeMailer()
    await usecases.dispatch_due(uow, mailer, POLICY, batch_size=10, clock=clock)
    bounce = EmailBounced(
        message_id=f"<{ack.id}@atiende>",
        recipient="ana@example.com",
        kind=BounceKind.HARD,
        status_code="5.1.1",
        diagnostic="user unknown",
        bounced_at=clock.now,
    )
    sms = await usecases.email_bounced(uow, bounce, POLICY, clock=clock)
    stored = uow.deliveries.stored(ack.id)
    assert stored.status is DeliveryStatus.FAILED
    assert "5.1.1" in stored.last_error
    assert isinstance(uow.emitted[-1], NotificationFailed) or any(
        isinstance(e, NotificationFailed) for e in uow.emitted
    )
    assert (await uow.preferences.get(event.customer_id)).undeliverable == {EMAIL}
    assert sms.channel is SMS
    assert sms.recipient == "+34600000000"


async def test_a_soft_bounce_is_sent_again_later(uow, clock):
    ack = await usecases.acknowledge_case(uow, opened(), clock=clock)
    await usecases.dispatch_due(uow, FakeMailer(), POLICY, batch_size=10, clock=clock)
    bounce = EmailBounced(
        message_id=f"<{ack.id}@atiende>",
        recipient="ana@example.com",
        kind=BounceKind.SOFT,
        status_code="4.2.2",
        bounced_at=clock.now,
    )
    again = await usecases.email_bounced(uow, bounce, POLICY, clock=clock)
    assert again.status is DeliveryStatus.PENDING
    assert again.next_attempt_at > clock.now


async def test_erasure_pseudonymises_deliveries_but_keeps_them(uow, clock):
    event = opened()
    await usecases.acknowledge_case(uow, event, clock=clock)
    count = await usecases.customer_erased(
        uow,
        CustomerErased(
            customer_id=event.customer_id, case_ids=[event.case_id], erased_at=clock.now
        ),
    )
    assert count == 1
    (stored,) = [r.delivery for r in uow.deliveries.rows.values()]
    assert (stored.recipient, stored.recipient_name, stored.body_text) == ("[erased]", None, "")
    assert "Ana" not in str(stored.context)
    assert (await uow.recipients.get(event.case_id)).customer_email is None
    assert await uow.preferences.get(event.customer_id) is None
    [(subjects, values, keys)] = uow.scrubbed  # its outbox and stored responses too
    assert subjects == {str(event.customer_id), str(event.case_id)}
    assert {"Ana Pérez", "ana@example.com"} <= values
    assert "recipient" in keys


async def test_a_case_opened_arriving_after_the_erasure_is_kept_without_the_person(uow, clock):
    event = opened()
    await usecases.customer_erased(
        uow, CustomerErased(customer_id=event.customer_id, case_ids=[], erased_at=clock.now)
    )
    assert await usecases.acknowledge_case(uow, event, clock=clock) is None
    kept = await uow.recipients.get(event.case_id)
    assert (kept.customer_name, kept.customer_email, kept.customer_phone) == (
        "[erased]",
        None,
        None,
    )
    assert uow.deliveries.rows == {}
    assert await uow.preferences.get(event.customer_id) is None


class FakeWebhooks:
    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    async def send(self, delivery, secrets):
        self.calls.append((delivery.id, secrets))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, SendFailure):
            raise answer
        return answer


def envelope(case_id):
    return Envelope(
        source="routing",
        type="io.atiende.case.resolved.v1",
        dataschema="x",
        dataversion=1,
        data={"case_id": str(case_id), "case_number": "AT-1"},
    )


async def test_webhooks_fan_out_retry_on_the_schedule_and_disable_on_410(uow, clock):
    with pytest.raises(UnsafeUrl):
        await usecases.create_endpoint(
            uow,
            url="http://127.0.0.1/x",
            event_types=[],
            description=None,
            secret=None,
            actor="a",
            urls=usecases.UrlPolicy(),
        )
    endpoint = await usecases.create_endpoint(
        uow,
        url="http://127.0.0.1:9/hook",
        event_types=["case.*"],
        description=None,
        secret=None,
        actor="a",
        urls=URLS,
        clock=clock,
    )
    assert isinstance(uow.emitted[-1], WebhookEndpointEnabled)
    assert await usecases.fan_out(uow, envelope(uuid.uuid4()), "case.resolved", clock=clock) == 1
    sender = FakeWebhooks(
        [
            SendFailure("503", permanent=False, status_code=503, retry_after=timedelta(minutes=2)),
            SendFailure("gone", permanent=False, status_code=410, gone=True),
        ]
    )
    senders = Senders(webhook=sender)
    schedule = RetrySchedule(jitter=0)
    (first,) = await usecases.dispatch_due(
        uow, senders, POLICY, batch_size=5, clock=clock, schedule=schedule
    )
    assert first.outcome is Outcome.RETRY
    assert first.delivery.next_attempt_at == clock.now + timedelta(minutes=2)
    clock.advance(120)
    (second,) = await usecases.dispatch_due(
        uow, senders, POLICY, batch_size=5, clock=clock, schedule=schedule
    )
    assert second.outcome is Outcome.FAILED
    assert isinstance(uow.emitted[-1], WebhookEndpointDisabled)
    assert uow.emitted[-1].reason == "gone"
    assert [e.status_code for e in uow.deliveries.log] == [503, 410]
    # a disabled endpoint gets nothing new; re-enabled, a replay sends the same webhook-id
    assert await usecases.fan_out(uow, envelope(uuid.uuid4()), "case.resolved", clock=clock) == 0
    await usecases.change_endpoint(
        uow, endpoint.id, enabled=True, event_types=None, url=None, actor="a", urls=URLS
    )
    (replayed,) = await usecases.replay_range(uow, endpoint.id, None, None, clock=clock)
    (third,) = await usecases.dispatch_due(
        uow, senders, POLICY, batch_size=5, clock=clock, schedule=schedule
    )
    assert third.outcome is Outcome.SENT
    assert third.delivery.id == replayed.id == first.delivery.id


async def test_an_endpoint_failing_through_the_whole_schedule_is_disabled(uow, clock):
    await usecases.create_endpoint(
        uow,
        url="http://127.0.0.1:9/hook",
        event_types=[],
        description=None,
        secret=None,
        actor="a",
        urls=URLS,
        clock=clock,
    )
    await usecases.fan_out(uow, envelope(uuid.uuid4()), "case.resolved", clock=clock)
    schedule = RetrySchedule.of_seconds([0, 1, 1], jitter=0)
    sender = FakeWebhooks([SendFailure("500", permanent=False, status_code=500)] * 3)
    outcomes = []
    for _ in range(3):
        attempts = await usecases.dispatch_due(
            uow, Senders(webhook=sender), POLICY, batch_size=5, clock=clock, schedule=schedule
        )
        outcomes += [a.outcome for a in attempts]
        clock.advance(2)
    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.FAILED]
    assert uow.emitted[-1].reason == "failing"
    # no admin configured: only the event tells (nothing else recorded)
    assert [r.delivery.template for r in uow.deliveries.rows.values()] == [Template.WEBHOOK_EVENT]


async def test_a_disabled_endpoint_is_emailed_to_the_admins_once(uow, clock):
    endpoint = await usecases.create_endpoint(
        uow,
        url="http://127.0.0.1:9/hook",
        event_types=[],
        description=None,
        secret=None,
        actor="a",
        urls=URLS,
        clock=clock,
    )
    await usecases.fan_out(uow, envelope(uuid.uuid4()), "case.resolved", clock=clock)
    await usecases.fan_out(uow, envelope(uuid.uuid4()), "case.resolved", clock=clock)
    gone = SendFailure("HTTP 410", permanent=False, status_code=410, gone=True)
    mailer = FakeMailer()
    senders = Senders(email=mailer, webhook=FakeWebhooks([gone, gone]))
    admins = ["ops@example.com", "lead@example.com", "ops@example.com"]
    attempts = await usecases.dispatch_due(
        uow,
        senders,
        POLICY,
        batch_size=5,
        clock=clock,
        schedule=RetrySchedule(),
        admins=admins,
        dispatcher="replica-a",
    )
    assert {e.dispatcher for e in uow.deliveries.log} == {"replica-a"}  # who made each attempt
    # both deliveries answered 410 in the same round: the endpoint is disabled once
    assert sorted(a.outcome for a in attempts) == [Outcome.FAILED, Outcome.FAILED]
    assert [type(e) for e in uow.emitted].count(WebhookEndpointDisabled) == 1
    rows = [r.delivery for r in uow.deliveries.rows.values()]
    told = [d for d in rows if d.template is Template.STAFF_WEBHOOK_DISABLED]
    assert sorted(d.recipient for d in told) == ["lead@example.com", "ops@example.com"]
    assert all(d.status is DeliveryStatus.PENDING and d.case_id is None for d in told)
    mail = told[0]
    assert mail.subject == "Webhook desactivado: http://127.0.0.1:9/hook"
    assert "410 Gone" in mail.body_text
    assert str(endpoint.id) in mail.body_text
    assert mail.body_html
    assert "410 Gone" in mail.body_html
    # recorded like any other delivery: the next round sends them
    sent = await usecases.dispatch_due(uow, senders, POLICY, batch_size=5, clock=clock)
    assert [a.outcome for a in sent] == [Outcome.SENT, Outcome.SENT]
    assert sorted(d.recipient for d in mailer.sent) == ["lead@example.com", "ops@example.com"]
    # the same disable recorded again writes nothing twice
    off = next(e for e in uow.emitted if isinstance(e, WebhookEndpointDisabled))
    assert await usecases.tell_admins_endpoint_disabled(uow, off, None, admins) == []
    # an admin's saved template is used for the next disable
    await usecases.save_template(
        uow,
        TemplateKey(Template.STAFF_WEBHOOK_DISABLED, EMAIL, Language.ES, Formality.INFORMAL),
        TemplateText("Caído: {{ url }}", "{{ reason }} {{ endpoint_id }}"),
        actor="a",
    )
    clock.advance(3600)  # re-enabled and disabled again later: a new email
    later = WebhookEndpointDisabled(
        endpoint_id=endpoint.id, url=endpoint.url, reason="failing", disabled_at=clock.now
    )
    (again,) = await usecases.tell_admins_endpoint_disabled(uow, later, "500", ["ops@example.com"])
    assert (again.subject, again.body_text) == (f"Caído: {endpoint.url}", f"failing {endpoint.id}")


async def test_staff_of_an_admin_rank_are_told_of_a_disabled_endpoint(uow, clock):
    def agent(agent_id, rank, active=True, email=None):
        return AgentChanged(
            agent_id=agent_id,
            name=agent_id.capitalize(),
            email=email or f"{agent_id}@atiende.example",
            rank=rank,
            teams=[],
            availability=Availability.AVAILABLE,
            active=active,
            changed_at=clock.now,
        )

    await usecases.agent_changed(uow, agent("marta", Rank.MANAGER))
    await usecases.agent_changed(uow, agent("olga", Rank.MANAGER, active=False))
    await usecases.agent_changed(uow, agent("luis", Rank.AGENT))
    await usecases.agent_changed(uow, agent("ops", Rank.MANAGER, email="ops@example.com"))
    off = WebhookEndpointDisabled(
        endpoint_id=uuid.uuid4(), url="https://h.example/x", reason="failing", disabled_at=clock.now
    )
    told = await usecases.tell_admins_endpoint_disabled(
        uow, off, "HTTP 500", ["ops@example.com"], admin_ranks=["manager"]
    )
    # the configured address once (its staff name added), active managers; not agents, not
    # inactive members
    assert sorted((d.recipient, d.recipient_name) for d in told) == [
        ("marta@atiende.example", "Marta"),
        ("ops@example.com", "Ops"),
    ]
    assert told[0].body_text.startswith("Hola, ")
    assert "lleva días fallando" in told[0].body_text


async def test_a_survey_reminder_goes_and_a_survey_opt_out_stops_it(uow, clock):
    from atiende_contracts import CustomerSurveyOptOut, SurveyReminded

    event = opened()
    await usecases.acknowledge_case(uow, event, clock=clock)

    def reminded():
        return SurveyReminded(
            invitation_id=uuid.uuid4(),
            case_id=event.case_id,
            case_number=event.case_number,
            survey_url="https://s.example/x",
            expires_at=datetime(2026, 3, 26, tzinfo=UTC),
            reminded_at=clock.now,
        )

    sent = await usecases.remind_survey(uow, reminded(), clock=clock)
    assert sent.status is DeliveryStatus.PENDING
    assert "26 de marzo de 2026" in sent.body_text
    await usecases.survey_opt_out(
        uow,
        CustomerSurveyOptOut(customer_id=event.customer_id, scope="all", opted_out_at=clock.now),
    )
    held = await usecases.remind_survey(uow, reminded(), clock=clock)
    assert (held.status, held.reason) == (DeliveryStatus.SUPPRESSED, "no_consent")
