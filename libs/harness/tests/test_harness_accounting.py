"""The Jepsen-style accounting, on hand-made histories: each anomaly is found, and only it."""

from atiende_harness.accounting import (
    ASSIGNED,
    OPENED,
    Anomaly,
    IndicatorCounts,
    ObservedEmail,
    ObservedEvent,
    Outcome,
    RequestRecord,
    account,
)


def request(i, outcome=Outcome.OK, case_id=None):
    case_id = case_id or (f"case-{i}" if outcome is Outcome.OK else None)
    return RequestRecord(
        i, f"c{i}@example.com", outcome, case_id, f"AT-2026-{i:06d}" if case_id else None
    )


def opened(i, event_id=None, case_id=None, email=None):
    case_id = case_id or f"case-{i}"
    return ObservedEvent(
        event_id or f"opened-{i}",
        OPENED,
        case_id,
        {"case_id": case_id, "customer_email": email or f"c{i}@example.com"},
    )


def assigned(i, event_id=None, case_id=None):
    case_id = case_id or f"case-{i}"
    return ObservedEvent(event_id or f"assigned-{i}", ASSIGNED, case_id, {"case_id": case_id})


def email(i, message_id=None, to=None):
    return ObservedEmail(
        to or f"c{i}@example.com", message_id or f"<d{i}@atiende>", f"AT-2026-{i:06d}"
    )


def complete(*indexes):
    """Every effect of these cases, once."""
    events = [e for i in indexes for e in (opened(i), assigned(i))]
    return events, [email(i) for i in indexes]


def counts(opened_=0, assigned_=0, sent=0):
    return IndicatorCounts(opened_, assigned_, sent)


def kinds(result):
    return sorted((f.anomaly.value, f.effect, f.count) for f in result.findings)


def test_a_clean_history_has_no_finding():
    events, emails = complete(1, 2, 3)
    result = account([request(i) for i in (1, 2, 3)], events, emails, counts(3, 3, 3))
    assert result.valid
    assert result.requests == {"ok": 3, "failed": 0, "indeterminate": 0}
    assert (result.lost, result.duplicated, result.unexpected, result.recovered) == (0, 0, 0, 0)


def test_an_ok_case_never_assigned_nor_acknowledged_is_lost():
    events = [opened(1), assigned(1), opened(2)]
    result = account([request(1), request(2)], events, [email(1)], counts(2, 1, 1))
    assert kinds(result) == [
        ("lost", "acknowledgement email", 1),
        ("lost", "case.assigned", 1),
        ("lost", "indicator cases_assigned", 1),
    ]
    assert result.lost == 3


def test_an_ok_case_whose_event_was_never_published_is_lost():
    result = account([request(1)], [], [], None)
    assert ("lost", "case.opened", 1) in kinds(result)


def test_the_same_event_or_email_seen_again_is_resent_not_duplicated():
    events, emails = complete(1)
    result = account([request(1)], events * 2, emails * 2, counts(1, 1, 1))
    assert result.valid
    assert result.resent == 3  # two events and one email seen twice


def test_a_second_assignment_or_email_with_a_new_id_is_duplicated():
    events, emails = complete(1)
    events.append(assigned(1, event_id="assigned-again"))
    emails.append(email(1, message_id="<another@atiende>"))
    result = account([request(1)], events, emails, counts(1, 1, 2))
    assert kinds(result) == [
        ("duplicated", "acknowledgement email", 1),
        ("duplicated", "case.assigned", 1),
    ]


def test_an_indicator_counting_more_than_there_are_cases_is_duplicated():
    events, emails = complete(1, 2)
    result = account([request(1), request(2)], events, emails, counts(3, 2, 2))
    assert kinds(result) == [("duplicated", "indicator cases_opened", 1)]


def test_one_request_opening_two_cases_is_duplicated():
    events, emails = complete(1)
    events += [
        opened(1, event_id="opened-twice", case_id="case-1b"),
        assigned(1, case_id="case-1b"),
    ]
    result = account([request(1)], events, emails, None)
    assert ("duplicated", "case.opened", 1) in kinds(result)


def test_effects_no_request_explains_are_unexpected():
    events, emails = complete(1)
    events += [opened(9, email="stranger@example.com"), assigned(9, case_id="nobody's")]
    emails.append(email(9, to="stranger@example.com"))
    result = account([request(1)], events, emails, None)
    assert kinds(result) == [
        ("unexpected", "case.assigned", 1),
        ("unexpected", "case.opened", 1),
        ("unexpected", "email", 1),
    ]


def test_the_effect_of_a_request_told_it_failed_is_unexpected():
    events, emails = complete(1)
    result = account([request(1, Outcome.FAILED)], events, emails, None)
    assert [f.anomaly for f in result.findings] == [Anomaly.UNEXPECTED]
    assert "failed" in result.findings[0].detail


def test_an_indeterminate_request_that_took_effect_is_recovered_and_then_held_to_every_effect():
    events = [opened(1), assigned(1), opened(2)]
    result = account(
        [
            request(1, Outcome.INDETERMINATE),
            request(2, Outcome.INDETERMINATE),
            request(3, Outcome.INDETERMINATE),
        ],
        events,
        [email(1)],
        None,
    )
    assert result.recovered == 2
    # case 2 exists (its case.opened was seen) so its missing effects are losses; 3 never existed
    assert kinds(result) == [("lost", "acknowledgement email", 1), ("lost", "case.assigned", 1)]


def test_a_phone_only_case_without_email_maps_to_no_request():
    phone_only = ObservedEvent("e", OPENED, "x", {"case_id": "x", "customer_email": None})
    result = account([request(1, Outcome.FAILED)], [phone_only], [], None)
    assert kinds(result) == [("unexpected", "case.opened", 1)]


def test_the_summary_reports_totals_by_effect():
    events = [opened(1)]
    summary = account([request(1)], events, [], None).summary()
    assert summary["lost"] == 2
    assert summary["by_effect"] == {"lost: acknowledgement email": 1, "lost: case.assigned": 1}
    assert summary["examples"][0]["anomaly"] == "lost"
