"""/teams: teams with their calendar, assignment strategy, reopen window and escalation ladder
(admin); holidays imported from an iCalendar file."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from atiende_contracts import Rank
from atiende_runtime.bodies import RequestModel
from atiende_runtime.errors import FieldError
from atiende_runtime.problems import validation_problem

from ...domain.org import (
    DEFAULT_CALENDAR,
    SLUG,
    Strategy,
    Team,
    calendar_from_json,
    calendar_json,
)
from ...repository import PostgresUnitOfWork
from ...usecases import assignment, organisation
from .deps import Admin, Anyone, Runtime, actor_of

router = APIRouter(tags=["teams"])

ICAL_MAX_BYTES = 1_000_000


WHOLE_MINUTE = (
    r"^([01][0-9]|2[0-3]):[0-5][0-9](:00(\.0+)?)?([Zz]|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?$"
)
"""A time of day in whole minutes (seconds, if written, are zero)."""


def _text_only(value: Any) -> Any:
    # pydantic would also read a number as seconds after midnight; the document says text
    if not isinstance(value, str | time):
        raise PydanticCustomError("time_type", "give the time as text, e.g. 09:00")
    return value


MinuteOfDay = Annotated[
    time,
    BeforeValidator(_text_only),
    WithJsonSchema({"type": "string", "pattern": WHOLE_MINUTE}),
]
"""Documented by its pattern alone: `format: time` would demand the seconds pydantic lets go."""


class IntervalIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(ge=0, le=6, description="0 Monday … 6 Sunday")
    start: MinuteOfDay
    end: MinuteOfDay = Field(description="00:00 means midnight at the end of the day")


class HolidayIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    name: str = Field(default="Holiday", max_length=200)


class CalendarIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: str = Field(default="Europe/Madrid", description="IANA time zone")
    weekly: list[IntervalIn] = Field(
        min_length=1, description="Opening intervals; split shifts are two a day"
    )
    holidays: list[HolidayIn] = []


class TeamIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    strategy: Strategy = Strategy.ROUND_ROBIN
    reopen_window_days: int = Field(default=14, ge=0, le=365)
    calendar: CalendarIn | None = Field(
        default=None, description="Business hours; Monday-Friday 09:00-18:00 Madrid if omitted"
    )
    ladder: dict[Rank, list[str]] = Field(
        default={}, description="Agent ids to call at each rank when a case escalates"
    )
    active: bool = True

    def team(self, team_id: str) -> Team:
        calendar = (
            calendar_from_json(self.calendar.model_dump(mode="json"))
            if self.calendar
            else DEFAULT_CALENDAR
        )
        return Team(
            id=team_id,
            name=self.name,
            strategy=self.strategy,
            calendar=calendar,
            reopen_window_days=self.reopen_window_days,
            ladder={rank: tuple(people) for rank, people in self.ladder.items()},
            active=self.active,
        )


class NewTeam(TeamIn):
    id: str = Field(
        max_length=63,
        pattern=SLUG.pattern,
        description="Slug: lower-case letters, digits, - and _",
    )


class TeamOut(BaseModel):
    id: str
    name: str
    strategy: Strategy
    reopen_window_days: int
    calendar: dict[str, Any]
    ladder: dict[str, list[str]]
    active: bool
    version: int

    @classmethod
    def of(cls, team: Team) -> TeamOut:
        return cls(
            id=team.id,
            name=team.name,
            strategy=team.strategy,
            reopen_window_days=team.reopen_window_days,
            calendar=calendar_json(team.calendar),
            ladder={rank.value: list(people) for rank, people in team.ladder.items()},
            active=team.active,
            version=team.version,
        )


class HolidaysImported(BaseModel):
    added: int
    team: TeamOut


def now() -> datetime:
    return datetime.now(UTC)


@router.get("/teams", response_model=list[TeamOut], summary="Every team")
async def list_teams(runtime: Runtime, _: Anyone) -> list[TeamOut]:
    async with runtime.unit_of_work() as tx:
        return [TeamOut.of(t) for t in await organisation.list_teams(PostgresUnitOfWork(tx))]


@router.get(
    "/teams/{team_id}",
    response_model=TeamOut,
    summary="A team",
    responses={404: {"description": "Unknown team"}},
)
async def get_team(team_id: str, runtime: Runtime, _: Anyone) -> TeamOut:
    async with runtime.unit_of_work() as tx:
        return TeamOut.of(await organisation.get_team(PostgresUnitOfWork(tx), team_id))


@router.post(
    "/teams",
    response_model=TeamOut,
    status_code=201,
    summary="Create a team; emits team.changed",
    responses={409: {"description": "The id is taken"}, 422: {"description": "Invalid team"}},
)
async def create_team(body: NewTeam, runtime: Runtime, who: Admin) -> TeamOut:
    team = body.team(body.id)
    async with runtime.unit_of_work() as tx:
        created = await organisation.create_team(PostgresUnitOfWork(tx), team, now(), actor_of(who))
    return TeamOut.of(created)


@router.put(
    "/teams/{team_id}",
    response_model=TeamOut,
    summary="Replace a team's settings; emits team.changed",
    responses={404: {"description": "Unknown team"}, 422: {"description": "Invalid team"}},
)
async def update_team(team_id: str, body: TeamIn, runtime: Runtime, who: Admin) -> TeamOut:
    team = body.team(team_id)
    at = now()
    async with runtime.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        saved = await organisation.update_team(uow, team, at, actor_of(who))
        # a team's strategy or members' capacity may let its queue move now
        await assignment.assign_next(uow, saved.id, at)
    return TeamOut.of(saved)


@router.post(
    "/teams/{team_id}/holidays/import",
    response_model=HolidaysImported,
    summary="Add the holidays of an iCalendar file (body: text/calendar) to the team's calendar",
    responses={404: {"description": "Unknown team"}, 422: {"description": "Not iCalendar"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/calendar": {
                    "schema": {
                        "type": "string",
                        "format": "binary",
                        "minLength": 1,
                        "maxLength": ICAL_MAX_BYTES,
                    }
                }
            },
        }
    },
)
async def import_holidays(
    team_id: str, request: Request, runtime: Runtime, who: Admin
) -> HolidaysImported:
    body = await request.body()
    if not body or len(body) > ICAL_MAX_BYTES:
        raise validation_problem(
            [FieldError("ical", "size", f"send an iCalendar file of 1 to {ICAL_MAX_BYTES} bytes")]
        )
    async with runtime.unit_of_work() as tx:
        team, added = await organisation.import_holidays(
            PostgresUnitOfWork(tx), team_id, body, now(), actor_of(who)
        )
    return HolidaysImported(added=added, team=TeamOut.of(team))
