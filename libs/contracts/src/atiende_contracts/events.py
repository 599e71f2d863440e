"""Every Atiende event's data, as pydantic models. Names are past tense: something happened.

A field is added as optional (with a default) to stay compatible; removing, retyping or adding a
required field is a breaking change that needs a new `version` (see
libs/contract-tools/tests/test_schema_snapshots.py).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .envelope import EventData


class CaseType(StrEnum):
    COMPLAINT = "complaint"
    CLAIM = "claim"
    INFORMATION_REQUEST = "information_request"
    SUGGESTION = "suggestion"
    COMPLIMENT = "compliment"


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WEB_FORM = "web_form"
    CHAT = "chat"
    IN_PERSON = "in_person"
    LETTER = "letter"
    SOCIAL = "social"


class ContactKind(StrEnum):
    """What the customer came for. Complaints, claims and requests open or join a case;
    suggestions and compliments are recorded and counted."""

    COMPLAINT = "complaint"
    CLAIM = "claim"
    INFORMATION_REQUEST = "information_request"
    SUGGESTION = "suggestion"
    COMPLIMENT = "compliment"


class MomentOfTruth(StrEnum):
    """The nine moments of truth of the service literature: the situation the contact was."""

    ARRIVES_OR_ASKS = "arrives_or_asks"
    UPSET_OR_DEFENSIVE = "upset_or_defensive"
    SPECIAL_REQUEST = "special_request"
    UNDECIDED = "undecided"
    OBJECTIONS = "objections"
    BUYING_SIGNALS = "buying_signals"
    PURCHASE = "purchase"
    REFUSES_TO_BUY = "refuses_to_buy"
    COMPLAINT = "complaint"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Tier(StrEnum):
    STANDARD = "standard"
    VIP = "vip"


class Formality(StrEnum):
    """How to address the customer: formal (usted) or informal (tú)."""

    FORMAL = "formal"
    INFORMAL = "informal"


class CatalogueKind(StrEnum):
    MOTIVE = "motive"
    CAUSE = "cause"
    TOUCHPOINT = "touchpoint"
    PRODUCT = "product"


class LinkReason(StrEnum):
    CASE_NUMBER = "case_number"
    """The contact named the case (a number in the form, an email reply's subject)."""
    SAME_PROBLEM = "same_problem"
    """Same customer, same motive, an open case within the joining window."""
    THREAD_HEADER = "thread_header"
    """An email's In-Reply-To/References named a message of the case (ours or the customer's)."""
    AGENT = "agent"
    """An agent put the contact on the case (a case merge moved it)."""


class NotificationChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class Audience(StrEnum):
    """Whom a notification was for."""

    CUSTOMER = "customer"
    STAFF = "staff"
    INTEGRATION = "integration"
    """A webhook to another system."""


class CaseStatus(StrEnum):
    """A case's place in routing's lifecycle (docs/lifecycle.md has the transitions)."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    WAITING_ON_THIRD_PARTY = "waiting_on_third_party"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class Rank(StrEnum):
    """The escalation ladder, lowest first."""

    AGENT = "agent"
    SENIOR = "senior"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"


class CompensationKind(StrEnum):
    """What a courtesy from the compensation catalogue gives the customer."""

    REFUND = "refund"
    REPLACEMENT = "replacement"
    DISCOUNT = "discount"
    FREE_REPAIR = "free_repair"
    COURTESY_GIFT = "courtesy_gift"
    SERVICE_CREDIT = "service_credit"


class SlaClock(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_UPDATE = "next_update"
    RESOLUTION = "resolution"


class EscalationReason(StrEnum):
    CUSTOMER_UPSET = "customer_upset"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    COMMITMENT_MISSED = "commitment_missed"
    REPEAT_CONTACT = "repeat_contact"
    DETRACTOR = "detractor"
    MANUAL = "manual"


class RootCauseCategory(StrEnum):
    """Why a failure happened, decided at resolution (docs/problems.md)."""

    ISOLATED_INCIDENT = "isolated_incident"
    PROCEDURE_DESIGN_FAULT = "procedure_design_fault"
    POLICY_HURTS_CUSTOMERS = "policy_hurts_customers"
    NEEDS_CLEARER_INFORMATION = "needs_clearer_information"


class ProblemLinkReason(StrEnum):
    """How a case came to be linked to a problem."""

    DETECTED = "detected"
    """One of the cases whose count opened the problem."""
    AUTOMATIC = "automatic"
    """Resolved later with the same motive and root cause while the problem was not resolved."""
    MANUAL = "manual"
    """An agent linked it by hand."""


class Availability(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class BounceKind(StrEnum):
    HARD = "hard"
    """Permanent: the address does not exist or refuses us for good."""
    SOFT = "soft"
    """Temporary: a full mailbox, a server down; worth retrying."""


class Classification(BaseModel):
    """How a case is classified; what triage changes and routing's rules read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: CaseType
    motive: str | None = None
    cause: str | None = None
    touchpoint: str | None = None
    product: str | None = None
    severity: Severity | None = None
    upset: bool | None = None


# --- intake ---------------------------------------------------------------------------------

_STAFF_ACTOR = (
    "Who did it: the token subject of the staff member or client that asked for it; null when"
    " authentication is off"
)


class CaseOpened(EventData):
    event_type = "case.opened"
    version = 1

    case_id: uuid.UUID
    case_number: str = Field(description="Human case number, e.g. AT-2026-000123")
    customer_id: uuid.UUID
    customer_name: str
    customer_email: str | None = Field(
        description="Where to write to the customer; null when only a phone or a handle is known"
    )
    type: CaseType
    channel: Channel
    description: str
    opened_at: datetime
    language: str = Field(default="es", description="Customer's preferred language (BCP 47)")
    motive: str | None = Field(default=None, description="Catalogue code of the case's motive")
    cause: str | None = Field(default=None, description="Catalogue code of the cause, if known")
    touchpoint: str | None = Field(default=None, description="Catalogue code of the touchpoint")
    contact_id: uuid.UUID | None = Field(default=None, description="The contact that opened it")
    formality: Formality | None = Field(default=None, description="Formal (usted) or informal (tú)")
    tier: Tier | None = None
    severity: Severity | None = None
    upset: bool | None = None
    expectation: str | None = Field(
        default=None, description="What would solve it for the customer"
    )
    consent_surveys: bool | None = Field(default=None, description="May the customer be surveyed")
    consent_marketing: bool | None = Field(
        default=None, description="May the customer be sent offers"
    )
    preferred_channel: NotificationChannel | None = Field(
        default=None, description="How the customer prefers to be written to"
    )
    customer_phone: str | None = Field(default=None, description="E.164 phone number, if known")
    product: str | None = Field(default=None, description="Catalogue code of the product")
    region: str | None = Field(default=None, description="Where the customer is (e.g. ES-MD)")
    related_case_id: uuid.UUID | None = Field(
        default=None,
        description="The case this one was split from, or follows up after its reopen window",
    )
    actor: str | None = Field(
        default=None,
        description="Who opened it: the staff member (token subject) who opened it for the"
        " customer, e.g. an agent on the phone (channel says which); null when the customer"
        " opened it themselves (the public web form, inbound email) or authentication is off",
    )


class ContactReceived(EventData):
    """Any interaction with a customer, whether or not it opened or joined a case."""

    event_type = "contact.received"
    version = 1

    contact_id: uuid.UUID
    customer_id: uuid.UUID
    case_id: uuid.UUID | None
    kind: ContactKind
    channel: Channel
    direction: Direction
    touchpoint: str | None
    moment_of_truth: MomentOfTruth | None
    motive: str | None
    severity: Severity | None
    upset: bool
    returning_customer: bool = Field(description="The customer had contacted us before")
    received_at: datetime


class CaseContactLinked(EventData):
    """A repeat contact about a problem joined its existing case instead of opening another."""

    event_type = "case.contact_linked"
    version = 1

    case_id: uuid.UUID
    case_number: str
    contact_id: uuid.UUID
    customer_id: uuid.UUID
    channel: Channel
    reason: LinkReason
    linked_at: datetime
    case_status: str | None = Field(
        default=None,
        description="The case's status as intake knows it when the contact joined: open, resolved"
        " or closed (routing reopens a resolved or closed case within its reopen window)",
    )
    upset: bool | None = Field(default=None, description="The customer was upset this time")


class CustomerProfileChanged(EventData):
    """A customer's tier, language, formality or consent changed (or the customer was created)."""

    event_type = "customer.profile_changed"
    version = 1

    customer_id: uuid.UUID
    tier: Tier
    language: str
    formality: Formality
    consent_surveys: bool
    consent_marketing: bool
    changed_at: datetime
    preferred_channel: NotificationChannel | None = Field(
        default=None, description="How the customer prefers to be written to"
    )
    actor: str | None = Field(
        default=None,
        description=_STAFF_ACTOR + "; null also when the customer changed it (the web form)",
    )


class CustomerMerged(EventData):
    """Two records were the same person: the source's identities, contacts and cases moved to
    the target. Copies keyed by the source customer should follow."""

    event_type = "customer.merged"
    version = 1

    merge_id: uuid.UUID
    source_customer_id: uuid.UUID
    target_customer_id: uuid.UUID
    case_ids: list[uuid.UUID]
    merged_at: datetime
    actor: str | None = Field(
        default=None,
        description=_STAFF_ACTOR,
    )


class CustomerMergeUndone(EventData):
    event_type = "customer.merge_undone"
    version = 1

    merge_id: uuid.UUID
    source_customer_id: uuid.UUID
    target_customer_id: uuid.UUID
    case_ids: list[uuid.UUID]
    undone_at: datetime
    actor: str | None = Field(
        default=None,
        description=_STAFF_ACTOR,
    )


class CustomerErased(EventData):
    """The customer's personal data was pseudonymised; every service must scrub its copies.
    Counts and history without personal data survive for the indicators."""

    event_type = "customer.erased"
    version = 1

    customer_id: uuid.UUID
    case_ids: list[uuid.UUID]
    erased_at: datetime
    actor: str | None = Field(
        default=None,
        description=_STAFF_ACTOR,
    )


class CatalogueEntryChanged(EventData):
    """A catalogue entry (motive, cause, touchpoint, product) was created or changed."""

    event_type = "catalogue.entry_changed"
    version = 1

    kind: CatalogueKind
    code: str
    parent_code: str | None
    name_es: str
    name_en: str
    active: bool
    valid_from: date | None
    valid_to: date | None
    changed_at: datetime
    actor: str | None = Field(
        default=None,
        description=_STAFF_ACTOR,
    )


class CaseReclassified(EventData):
    """Triage changed how a case is classified; routing re-routes when its rules say so."""

    event_type = "case.reclassified"
    version = 1

    case_id: uuid.UUID
    case_number: str
    before: Classification
    after: Classification
    reason: str
    actor: str | None = None
    reclassified_at: datetime


class CaseMerged(EventData):
    """Two cases of one customer were one problem: the absorbed case is closed as merged."""

    event_type = "case.merged"
    version = 1

    case_id: uuid.UUID = Field(description="The absorbed case")
    case_number: str
    into_case_id: uuid.UUID
    into_case_number: str
    customer_id: uuid.UUID
    reason: str
    actor: str | None = None
    merged_at: datetime


class EmailBounced(EventData):
    """A delivery-status report told us an email we sent did not arrive."""

    event_type = "email.bounced"
    version = 1

    message_id: str = Field(description="Message-ID of our email that bounced")
    recipient: str
    kind: BounceKind
    status_code: str | None = Field(default=None, description='RFC 3463 status, e.g. "5.1.1"')
    diagnostic: str | None = None
    case_id: uuid.UUID | None = None
    bounced_at: datetime


# --- routing --------------------------------------------------------------------------------


class CaseAssigned(EventData):
    """A case was routed to a team and, when someone could take it, to an agent (agent_id null:
    it waits in the team's queue)."""

    event_type = "case.assigned"
    version = 1

    case_id: uuid.UUID
    case_number: str
    team: str
    agent_id: str | None = None
    assigned_at: datetime
    agent_email: str | None = Field(default=None, description="Where to tell the agent")
    agent_name: str | None = None
    priority: str | None = Field(default=None, description="low, normal, high or urgent")
    rule_id: str | None = Field(default=None, description="The routing rule that matched")
    rule_version: int | None = None
    reason: str | None = Field(
        default=None,
        description="routed, queued, claimed, assigned, transferred, returned (agent away), "
        "substitute, rerouted",
    )
    previous_agent_id: str | None = None
    actor: str | None = Field(default=None, description="Who did it; null when routing decided")


class CaseStatusChanged(EventData):
    """Every move in the case lifecycle, with its reason and who made it."""

    event_type = "case.status_changed"
    version = 1

    case_id: uuid.UUID
    case_number: str
    from_status: CaseStatus
    to_status: CaseStatus
    reason: str | None = None
    note: str | None = None
    actor: str | None = None
    changed_at: datetime


class CaseSlaWarning(EventData):
    """A clock reached a warning threshold before its deadline."""

    event_type = "case.sla_warning"
    version = 1

    case_id: uuid.UUID
    case_number: str
    clock: SlaClock
    threshold: str = Field(description='What was reached, e.g. "75%" or "15m before"')
    due_at: datetime
    fired_at: datetime
    team: str | None = None
    agent_id: str | None = None


class CaseSlaBreached(EventData):
    """A clock passed its deadline without being met."""

    event_type = "case.sla_breached"
    version = 1

    case_id: uuid.UUID
    case_number: str
    clock: SlaClock
    due_at: datetime
    breached_at: datetime
    team: str | None = None
    agent_id: str | None = None


class CaseEscalated(EventData):
    """The case climbed the ladder: someone of higher rank is now responsible."""

    event_type = "case.escalated"
    version = 1

    case_id: uuid.UUID
    case_number: str
    level: Rank
    reason: EscalationReason
    responsible_id: str | None = Field(description="The person now responsible, if one is known")
    responsible_email: str | None = None
    note: str | None = None
    actor: str | None = None
    escalated_at: datetime


class CaseDeescalated(EventData):
    """A supervisor brought the case down the ladder, with a reason."""

    event_type = "case.deescalated"
    version = 1

    case_id: uuid.UUID
    case_number: str
    level: Rank
    reason: str
    actor: str
    deescalated_at: datetime


class CaseResolved(EventData):
    event_type = "case.resolved"
    version = 1

    case_id: uuid.UUID
    case_number: str
    resolution: str
    resolved_at: datetime
    steps: list[str] | None = Field(
        default=None, description="The seven steps recorded before resolving, by name"
    )
    team: str | None = None
    agent_id: str | None = None
    actor: str | None = None
    root_cause: RootCauseCategory | None = Field(
        default=None, description="Why it failed; always set for complaints and claims"
    )
    root_cause_procedure: str | None = Field(
        default=None, description="The procedure concerned (code), if any"
    )
    root_cause_policy: str | None = Field(
        default=None, description="The policy concerned (code), if any"
    )
    root_cause_note: str | None = None


class CaseClosed(EventData):
    event_type = "case.closed"
    version = 1

    case_id: uuid.UUID
    case_number: str
    reason: str = Field(description="verified, waived, merged, or inactivity")
    actor: str | None = None
    closed_at: datetime


class CaseReopened(EventData):
    """The customer came back about a resolved or closed case within the reopen window."""

    event_type = "case.reopened"
    version = 1

    case_id: uuid.UUID
    case_number: str
    reason: str
    contact_id: uuid.UUID | None = None
    actor: str | None = None
    reopened_at: datetime


class CommitmentMade(EventData):
    """A promise to the customer with a due time ("I will call you back before twelve")."""

    event_type = "commitment.made"
    version = 1

    commitment_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    description: str
    due_at: datetime
    owner_id: str
    owner_email: str | None = None
    channel: Channel | None = Field(default=None, description="How the promise will be kept")
    made_at: datetime


class CommitmentDueSoon(EventData):
    event_type = "commitment.due_soon"
    version = 1

    commitment_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    description: str
    due_at: datetime
    owner_id: str
    owner_email: str | None = None


class CommitmentKept(EventData):
    event_type = "commitment.kept"
    version = 1

    commitment_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    kept_at: datetime
    actor: str | None = None


class CommitmentMissed(EventData):
    event_type = "commitment.missed"
    version = 1

    commitment_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    due_at: datetime
    owner_id: str
    missed_at: datetime


class TeamChanged(EventData):
    """A team was created or changed (calendar, strategy, escalation ladder)."""

    event_type = "team.changed"
    version = 1

    team: str
    name: str
    active: bool
    time_zone: str
    strategy: str
    changed_at: datetime
    actor: str | None = None


class AgentChanged(EventData):
    """An agent was created or changed (rank, teams, skills, capacity, availability)."""

    event_type = "agent.changed"
    version = 1

    agent_id: str
    name: str
    email: str | None
    rank: Rank
    teams: list[str]
    availability: Availability
    active: bool
    substitute_id: str | None = None
    changed_at: datetime
    actor: str | None = None


class RoutingRuleChanged(EventData):
    event_type = "routing_rule.changed"
    version = 1

    rule_id: str
    version_number: int
    position: int
    active: bool
    team: str
    changed_at: datetime
    actor: str | None = None


class SlaPolicyChanged(EventData):
    event_type = "sla_policy.changed"
    version = 1

    policy_id: str
    version_number: int
    name: str
    business_hours: bool
    active: bool
    changed_at: datetime
    actor: str | None = None


# --- routing: problems and procedures --------------------------------------------------------


class ProblemDetected(EventData):
    """Cases with the same motive and root cause passed a managed threshold: a problem was opened
    linking them (later matching cases arrive as problem.case_linked)."""

    event_type = "problem.detected"
    version = 1

    problem_id: uuid.UUID
    problem_number: str
    title: str
    threshold_id: str
    motive: str
    root_cause: RootCauseCategory
    touchpoint: str | None = None
    product: str | None = None
    region: str | None = None
    owner: str | None = None
    case_ids: list[uuid.UUID] = Field(description="The cases whose count opened it")
    detected_at: datetime


class ProblemCaseLinked(EventData):
    """A case joined a problem after it was opened: automatically at resolution, or by hand."""

    event_type = "problem.case_linked"
    version = 1

    problem_id: uuid.UUID
    problem_number: str
    case_id: uuid.UUID
    case_number: str
    customer_id: uuid.UUID | None = None
    reason: ProblemLinkReason
    actor: str | None = None
    linked_at: datetime


class ProblemCase(BaseModel):
    """A case linked to a problem, with whom to tell."""

    model_config = ConfigDict(frozen=True)

    case_id: uuid.UUID
    case_number: str
    customer_id: uuid.UUID | None = None


class ProblemResolved(EventData):
    """A problem's cause was removed: every linked case still open is listed so that each
    customer can be told."""

    event_type = "problem.resolved"
    version = 1

    problem_id: uuid.UUID
    problem_number: str
    title: str
    resolution: str
    open_cases: list[ProblemCase] = Field(description="Linked cases not resolved or closed")
    linked_cases: int = Field(description="How many cases were linked in all")
    actor: str | None = None
    resolved_at: datetime


class ProcedureReviewRequested(EventData):
    """Root causes blaming one procedure (or policy) passed the review threshold within its
    window: someone must review it. Once per subject per window."""

    event_type = "procedure.review_requested"
    version = 1

    subject_kind: str = Field(description='"procedure" or "policy"')
    code: str
    title: str
    case_ids: list[uuid.UUID] = Field(description="The evidence: cases blaming it in the window")
    window_hours: float = Field(description="The review threshold's window")
    requested_at: datetime


# --- surveys --------------------------------------------------------------------------------


class SurveyAnswerLink(BaseModel):
    """One answer of a survey's first question, as a link for the invitation email."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str
    label: str
    url: str


class SurveyInvited(EventData):
    event_type = "survey.invited"
    version = 1

    invitation_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    survey_url: str
    expires_at: datetime
    customer_id: uuid.UUID | None = None
    questionnaire_kind: str | None = None
    language: str | None = None
    formality: Formality | None = None
    first_question: str | None = Field(
        default=None, description="The first question, worded for the customer, for the email"
    )
    answer_links: list[SurveyAnswerLink] | None = Field(
        default=None,
        description="One link per answer to the first question; each opens a page that asks "
        "the customer to confirm (a mail scanner following it answers nothing)",
    )
    opt_out_url: str | None = Field(
        default=None, description="One-click page to decline this kind of survey, or all"
    )


class SurveyAnswered(EventData):
    event_type = "survey.answered"
    version = 1

    invitation_id: uuid.UUID
    case_id: uuid.UUID
    satisfaction: int = Field(ge=1, le=5, description="1 very dissatisfied … 5 very satisfied")
    comment: str | None = None
    answered_at: datetime
    questionnaire_id: str | None = Field(default=None, description="Which questionnaire")
    questionnaire_version: int | None = None
    questionnaire_kind: str | None = Field(
        default=None, description="csat, nps, ces, servqual, post_sale, periodic or custom"
    )
    customer_id: uuid.UUID | None = None
    scores: dict[str, float] | None = Field(
        default=None,
        description="This answer's scores: csat (1-5), nps (0-10), ces (1-7), "
        "servqual_<dimension> (perception - expectation, -6..6)",
    )


class SurveyReminded(EventData):
    """The one reminder of a survey invitation not answered yet (it counts in the budget)."""

    event_type = "survey.reminded"
    version = 1

    invitation_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    customer_id: uuid.UUID | None = None
    survey_url: str
    expires_at: datetime
    reminded_at: datetime


class SurveyDeclined(EventData):
    """A customer declined one invitation's survey (and maybe all like it, see
    customer.survey_opt_out)."""

    event_type = "survey.declined"
    version = 1

    invitation_id: uuid.UUID
    case_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    questionnaire_kind: str | None = None
    declined_at: datetime


class SurveySuppressed(EventData):
    """An invitation that was NOT sent, and why: no consent, opted out, the contact-pressure
    budget, already surveyed about this case, an excluded case, no questionnaire."""

    event_type = "survey.suppressed"
    version = 1

    suppression_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    questionnaire_id: str | None = None
    trigger: str = Field(description="resolution, closure, sale, periodic or manual")
    reason: str
    detail: str | None = None
    suppressed_at: datetime


class SurveyExpired(EventData):
    event_type = "survey.expired"
    version = 1

    invitation_id: uuid.UUID
    case_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    expired_at: datetime


class SurveyDetractor(EventData):
    """An answer below the line (NPS 0-6, CSAT 1-2, CES 1-3, a SERVQUAL gap below the
    threshold): the loop is closed by a recovery case (routing)."""

    event_type = "survey.detractor"
    version = 1

    invitation_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    customer_id: uuid.UUID | None = None
    agent_id: str | None = Field(default=None, description="Who resolved the original case")
    team: str | None = None
    questionnaire_kind: str
    scores: dict[str, float]
    reasons: list[str] = Field(description="Which rules fired, e.g. nps<=6, servqual_empathy")
    comment: str | None = None
    detected_at: datetime


class CustomerSurveyOptOut(EventData):
    """A customer asked not to be surveyed again: about one kind of questionnaire or at all."""

    event_type = "customer.survey_opt_out"
    version = 1

    customer_id: uuid.UUID
    scope: str = Field(description='"all" or a questionnaire kind (csat, nps, ...)')
    opted_out_at: datetime


class SaleCompleted(EventData):
    """A sale or delivery was completed; surveys may follow it up."""

    event_type = "sale.completed"
    version = 1

    sale_id: uuid.UUID
    customer_id: uuid.UUID
    case_id: uuid.UUID | None = Field(default=None, description="The case it came from, if any")
    case_number: str | None = None
    product: str | None = None
    language: str | None = None
    formality: Formality | None = None
    completed_at: datetime


# --- notifications --------------------------------------------------------------------------


class NotificationSent(EventData):
    event_type = "notification.sent"
    version = 1

    delivery_id: uuid.UUID
    case_id: uuid.UUID | None
    template: str
    channel: NotificationChannel
    recipient: str
    sent_at: datetime
    audience: Audience | None = Field(
        default=None,
        description="Whom it was for; null from producers before this field, which wrote to "
        "customers only",
    )


class NotificationFailed(EventData):
    event_type = "notification.failed"
    version = 1

    delivery_id: uuid.UUID
    case_id: uuid.UUID | None
    template: str
    channel: NotificationChannel
    attempts: int
    error: str
    failed_at: datetime


class NotificationSuppressed(EventData):
    """A message that will not be sent, and why (an opt-out, no address on any allowed channel,
    an undeliverable address...). Recorded, never silently dropped."""

    event_type = "notification.suppressed"
    version = 1

    delivery_id: uuid.UUID
    case_id: uuid.UUID | None
    template: str
    channel: NotificationChannel | None = Field(
        default=None, description="The channel it would have gone by, if one was chosen"
    )
    reason: str = Field(description='Why, e.g. "opted_out", "no_address", "undeliverable"')
    suppressed_at: datetime


class NotificationDeferred(EventData):
    """A non-urgent message held until the customer's quiet hours end."""

    event_type = "notification.deferred"
    version = 1

    delivery_id: uuid.UUID
    case_id: uuid.UUID | None
    template: str
    channel: NotificationChannel
    reason: str = Field(description='Why, e.g. "quiet_hours"')
    until: datetime
    deferred_at: datetime


class WebhookEndpointEnabled(EventData):
    """A webhook endpoint was created or re-enabled: deliveries go to it."""

    event_type = "webhook.endpoint_enabled"
    version = 1

    endpoint_id: uuid.UUID
    url: str
    enabled_at: datetime
    actor: str | None = None


class WebhookEndpointDisabled(EventData):
    """A webhook endpoint stopped receiving deliveries: by an admin, a 410 Gone, or failing for
    days."""

    event_type = "webhook.endpoint_disabled"
    version = 1

    endpoint_id: uuid.UUID
    url: str
    reason: str = Field(description='"gone" (410), "failing", or "manual"')
    disabled_at: datetime
    actor: str | None = None


# --- compensations (routing) -----------------------------------------------------------------

Amount = Decimal
"""Money: a decimal with at most two places, written in JSON as a string ("20.00")."""


class _CompensationFacts(EventData):
    """What every compensation event says about the courtesy and the case it settles."""

    case_id: uuid.UUID
    case_number: str
    customer_id: uuid.UUID | None = None
    team: str | None = Field(default=None, description="The case's team when it happened")
    agent_id: str | None = Field(default=None, description="The agent holding the case")
    catalogue_code: str = Field(description="The catalogue entry granted")
    catalogue_version: int = Field(description="Its version at the time (the terms granted)")
    kind: CompensationKind
    amount: Amount = Field(description='Money, a decimal string with two places, e.g. "20.00"')
    currency: str = Field(description="ISO 4217 code, e.g. EUR")
    cost_centre: str | None = Field(
        default=None, description="Where the expense is booked (a commercial cost of loyalty)"
    )


class CompensationRequested(_CompensationFacts):
    """A compensation above the asking person's approval limit waits for someone of a higher
    rank."""

    event_type = "compensation.requested"
    version = 1

    request_id: uuid.UUID
    requested_by: str | None = Field(description="Who asked (the token subject)")
    requested_by_rank: Rank
    approver_rank: Rank = Field(description="The lowest rank whose limit covers the amount")
    reason: str | None = None
    requested_at: datetime


class CompensationApproved(_CompensationFacts):
    """Someone of the rank asked (or higher) approved a compensation request; the grant
    (compensation.granted) follows in the same transaction."""

    event_type = "compensation.approved"
    version = 1

    request_id: uuid.UUID
    grant_id: uuid.UUID
    approved_by: str | None
    approver_rank: Rank
    reason: str = Field(description="Why it was approved")
    approved_at: datetime


class CompensationRejected(_CompensationFacts):
    """A compensation request was turned down, with a reason."""

    event_type = "compensation.rejected"
    version = 1

    request_id: uuid.UUID
    rejected_by: str | None
    rejecter_rank: Rank
    reason: str = Field(description="Why it was refused")
    rejected_at: datetime


class CompensationGranted(_CompensationFacts):
    """A compensation was granted and written in the ledger: the customer gets it (and a billing
    system may issue the refund)."""

    event_type = "compensation.granted"
    version = 1

    grant_id: uuid.UUID = Field(description="The ledger entry")
    request_id: uuid.UUID | None = Field(
        default=None, description="The approval request it came from, if it needed one"
    )
    descriptions: dict[str, str] = Field(
        default_factory=dict,
        description="The catalogue's wording of what the customer gets, per language (es, en)",
    )
    language: str | None = Field(default=None, description="The customer's language")
    granted_by: str | None = Field(description="Who granted it (the token subject)")
    approved_by: str | None = Field(default=None, description="Who approved it, if needed")
    reason: str | None = None
    granted_at: datetime


class CompensationReversed(_CompensationFacts):
    """Part or all of a granted compensation was taken back: a negative ledger entry.
    `amount` is what was reversed now (positive); `remaining` what is left of the grant."""

    event_type = "compensation.reversed"
    version = 1

    reversal_id: uuid.UUID = Field(description="The ledger entry of the reversal")
    grant_id: uuid.UUID
    remaining: Amount = Field(description="What is left of the grant after this reversal")
    reversed_by: str | None
    reason: str
    reversed_at: datetime


ALL_EVENTS: tuple[type[EventData], ...] = (
    CaseOpened,
    ContactReceived,
    CaseContactLinked,
    CustomerProfileChanged,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerErased,
    CatalogueEntryChanged,
    CaseReclassified,
    CaseMerged,
    EmailBounced,
    CaseAssigned,
    CaseStatusChanged,
    CaseSlaWarning,
    CaseSlaBreached,
    CaseEscalated,
    CaseDeescalated,
    CaseResolved,
    CaseClosed,
    CaseReopened,
    CommitmentMade,
    CommitmentDueSoon,
    CommitmentKept,
    CommitmentMissed,
    TeamChanged,
    AgentChanged,
    RoutingRuleChanged,
    SlaPolicyChanged,
    ProblemDetected,
    ProblemCaseLinked,
    ProblemResolved,
    ProcedureReviewRequested,
    SurveyInvited,
    SurveyAnswered,
    SurveyReminded,
    SurveyDeclined,
    SurveySuppressed,
    SurveyExpired,
    SurveyDetractor,
    CustomerSurveyOptOut,
    SaleCompleted,
    NotificationSent,
    NotificationFailed,
    NotificationSuppressed,
    NotificationDeferred,
    WebhookEndpointEnabled,
    WebhookEndpointDisabled,
    CompensationRequested,
    CompensationApproved,
    CompensationRejected,
    CompensationGranted,
    CompensationReversed,
)


INTEGRATION_EVENTS: tuple[type[EventData], ...] = (SaleCompleted,)
"""Events that systems outside Atiende publish (a shop, a billing system) and Atiende consumes:
no Atiende service produces them."""
