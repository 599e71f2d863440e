"""Notifications' event handlers: thin, each runs inside the inbox transaction and only records
deliveries (and, for every event it hears, one webhook delivery per endpoint that wants it).
Nothing is sent here: the dispatcher sends once the transaction has committed.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from atiende_contracts import (
    AgentChanged,
    CaseAssigned,
    CaseEscalated,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CaseSlaBreached,
    CaseSlaWarning,
    CaseStatusChanged,
    CommitmentDueSoon,
    CommitmentMade,
    CommitmentMissed,
    CompensationGranted,
    CompensationRequested,
    CustomerErased,
    CustomerProfileChanged,
    CustomerSurveyOptOut,
    EmailBounced,
    EventData,
    ProblemResolved,
    SurveyInvited,
    SurveyReminded,
)
from atiende_runtime.inbox import Consumers, HandlerContext

from .. import usecases
from ..domain import RetryPolicy
from ..repository import EndpointsCache, PostgresUnitOfWork
from ..settings import NotificationsSettings

consumers: Consumers[NotificationsSettings] = Consumers()

E = TypeVar("E", bound=EventData)
Ctx = HandlerContext[NotificationsSettings]


def _options(ctx: Ctx) -> usecases.Options:
    return usecases.Options(default_time_zone=ctx.settings.default_time_zone)


_endpoint_caches: dict[int, tuple[weakref.ref[NotificationsSettings], EndpointsCache]] = {}


def use_endpoints_cache(settings: NotificationsSettings, cache: EndpointsCache) -> None:
    """The handlers of the app configured by `settings` read the webhook endpoints through
    `cache` (the composition root sets it up with the watch that keeps it true). Handlers are
    registered once per process, apps can be several (tests): hence keyed by the settings."""
    _endpoint_caches[id(settings)] = (weakref.ref(settings), cache)


def _endpoints_cache(settings: NotificationsSettings) -> EndpointsCache | None:
    found = _endpoint_caches.get(id(settings))
    if found is None or found[0]() is not settings:
        return None
    return found[1]


def _handle(
    event_type: type[E], name: str, act: Callable[[PostgresUnitOfWork, E, Ctx], Awaitable[Any]]
) -> None:
    async def handler(ctx: Ctx, event: E) -> None:
        uow = PostgresUnitOfWork(ctx.uow, endpoints_cache=_endpoints_cache(ctx.settings))
        await act(uow, event, ctx)
        await usecases.fan_out(uow, ctx.envelope, event.event_type)

    handler.__name__ = name.replace("-", "_")
    consumers.on(event_type, name=name)(handler)


_handle(
    CaseOpened,
    "acknowledge-case",
    lambda uow, e, ctx: usecases.acknowledge_case(uow, e, options=_options(ctx)),
)
_handle(
    SurveyInvited,
    "send-survey-invitation",
    lambda uow, e, ctx: usecases.invite_to_survey(uow, e, options=_options(ctx)),
)
_handle(
    SurveyReminded,
    "send-survey-reminder",
    lambda uow, e, ctx: usecases.remind_survey(uow, e, options=_options(ctx)),
)
_handle(
    CustomerSurveyOptOut,
    "remember-survey-opt-out",
    lambda uow, e, ctx: usecases.survey_opt_out(uow, e),
)
_handle(
    CommitmentMade,
    "tell-commitment-made",
    lambda uow, e, ctx: usecases.commitment_made(uow, e, options=_options(ctx)),
)
_handle(
    CaseStatusChanged,
    "tell-status-changed",
    lambda uow, e, ctx: usecases.status_changed(uow, e, options=_options(ctx)),
)
_handle(
    CaseResolved,
    "tell-case-resolved",
    lambda uow, e, ctx: usecases.case_resolved(uow, e, options=_options(ctx)),
)
_handle(
    ProblemResolved,
    "tell-problem-resolved",
    lambda uow, e, ctx: usecases.problem_resolved(uow, e, options=_options(ctx)),
)
_handle(
    CaseAssigned,
    "tell-agent-assigned",
    lambda uow, e, ctx: usecases.case_assigned(uow, e, options=_options(ctx)),
)
_handle(
    CaseSlaWarning,
    "tell-sla-warning",
    lambda uow, e, ctx: usecases.sla_warning(uow, e, options=_options(ctx)),
)
_handle(
    CaseSlaBreached,
    "tell-sla-breached",
    lambda uow, e, ctx: usecases.sla_breached(uow, e, options=_options(ctx)),
)
_handle(
    CommitmentDueSoon,
    "tell-commitment-due-soon",
    lambda uow, e, ctx: usecases.commitment_due_soon(uow, e, options=_options(ctx)),
)
_handle(
    CommitmentMissed,
    "tell-commitment-missed",
    lambda uow, e, ctx: usecases.commitment_missed(uow, e, options=_options(ctx)),
)
_handle(
    CaseEscalated,
    "tell-escalated",
    lambda uow, e, ctx: usecases.case_escalated(uow, e, options=_options(ctx)),
)
_handle(
    CompensationGranted,
    "tell-compensation-granted",
    lambda uow, e, ctx: usecases.compensation_granted(uow, e, options=_options(ctx)),
)
_handle(
    CompensationRequested,
    "ask-compensation-approvers",
    lambda uow, e, ctx: usecases.compensation_requested(
        uow, e, admins=ctx.settings.admin_emails, options=_options(ctx)
    ),
)


async def _nothing(uow: PostgresUnitOfWork, event: EventData, ctx: Ctx) -> None:
    """Only webhooks hear it."""


_handle(CaseReopened, "webhook-case-reopened", _nothing)
_handle(AgentChanged, "remember-staff", lambda uow, e, ctx: usecases.agent_changed(uow, e))
_handle(
    CustomerProfileChanged,
    "remember-preferences",
    lambda uow, e, ctx: usecases.profile_changed(uow, e),
)
_handle(
    CustomerErased, "pseudonymise-customer", lambda uow, e, ctx: usecases.customer_erased(uow, e)
)


def _policy(settings: NotificationsSettings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.max_attempts,
        base_delay=timedelta(seconds=settings.retry_base_delay),
        max_delay=timedelta(seconds=settings.retry_max_delay),
    )


_handle(
    EmailBounced,
    "handle-bounce",
    lambda uow, e, ctx: usecases.email_bounced(
        uow, e, _policy(ctx.settings), options=_options(ctx)
    ),
)
