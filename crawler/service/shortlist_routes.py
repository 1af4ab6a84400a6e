"""The shortlists on the JSON API (issue 18 item 4), behind the same bearer token as every
route: the lists, a list's candidates and their status, a change of status (with a note and
who made it), the history (append-only), and a list as CSV.

| route | does |
|---|---|
| ``GET /shortlists`` | every list with its counts per status |
| ``POST /shortlists`` | ``{"name", "description"?, "by"?}`` -> 201, the new list |
| ``GET /shortlists/{id}`` | the list and its candidates (``?status=`` repeated to narrow) |
| ``PUT /shortlists/{id}/candidates/{candidate_id}`` | ``{"status", "note"?, "by"?}``: a change, appended to the history |
| ``GET /shortlists/{id}/history`` | the changes, newest first |
| ``GET /shortlists/{id}/export.csv`` | the list as CSV (formula cells neutralised) |
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from crawler.desk.exports import SHORTLIST_COLUMNS, csv_chunks, member_record
from crawler.service.dependencies import SessionDep, guarded
from storage.models import SHORTLIST_STATUSES
from storage.shortlists import (
    ShortlistRefused,
    create_shortlist,
    get_shortlist,
    list_shortlists,
    set_status,
    shortlist_history,
    shortlist_members,
)

shortlist_router = APIRouter(prefix="/shortlists", tags=["shortlists"], dependencies=guarded)

Status = Literal["new", "shortlisted", "contacted", "approved", "rejected"]
assert set(Status.__args__) == set(SHORTLIST_STATUSES)  # type: ignore[attr-defined]


class ShortlistCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    by: str = Field(default="api", min_length=1, max_length=200, description="Who creates it (recorded).")


class StatusChange(BaseModel):
    status: Status
    note: str | None = Field(default=None, max_length=10_000)
    by: str = Field(default="api", min_length=1, max_length=200, description="Who makes the change (recorded).")


class ShortlistPublic(BaseModel):
    id: int
    name: str
    description: str | None
    created_by: str
    created_at: datetime
    members: int
    by_status: dict[str, int]


class MemberPublic(BaseModel):
    candidate_id: int
    display_name: str
    status: str
    note: str | None
    changed_by: str
    changed_at: datetime


class ShortlistDetail(ShortlistPublic):
    candidates: list[MemberPublic]


class EventPublic(BaseModel):
    id: int
    shortlist_id: int
    candidate_id: int
    status: str
    note: str | None
    by: str
    at: datetime


def _summary(session: object, shortlist_id: int) -> ShortlistPublic:
    for row in list_shortlists(session):  # type: ignore[arg-type]
        if row.id == shortlist_id:
            return ShortlistPublic(**row._asdict())
    raise HTTPException(404, f"no shortlist {shortlist_id}")


@shortlist_router.get("", response_model=list[ShortlistPublic], summary="Every shortlist with its counts per status")
def shortlists(session: SessionDep) -> list[ShortlistPublic]:
    return [ShortlistPublic(**row._asdict()) for row in list_shortlists(session)]


@shortlist_router.post("", status_code=201, response_model=ShortlistPublic, summary="Create a shortlist")
def new_shortlist(body: ShortlistCreate, session: SessionDep) -> ShortlistPublic:
    try:
        shortlist = create_shortlist(session, body.name, body.by, body.description)
    except ShortlistRefused as exc:
        raise HTTPException(409 if "exists already" in str(exc) else 422, str(exc)) from None
    return _summary(session, shortlist.id)  # type: ignore[arg-type]


@shortlist_router.get("/{shortlist_id}", response_model=ShortlistDetail,
                      summary="A shortlist and its candidates with their status")
def shortlist(shortlist_id: int, session: SessionDep,
              status: list[Status] = Query(default=[], description="Only candidates with these statuses.")) -> ShortlistDetail:
    summary = _summary(session, shortlist_id)
    members = [MemberPublic(**m._asdict()) for m in shortlist_members(session, shortlist_id, status)]
    return ShortlistDetail(**summary.model_dump(), candidates=members)


@shortlist_router.put("/{shortlist_id}/candidates/{candidate_id}", response_model=EventPublic,
                      summary="Set a candidate's status (and note) on a shortlist; the change is appended to the history")
def change(shortlist_id: int, candidate_id: int, body: StatusChange, session: SessionDep) -> EventPublic:
    if get_shortlist(session, shortlist_id) is None:
        raise HTTPException(404, f"no shortlist {shortlist_id}")
    try:
        event = set_status(session, shortlist_id, candidate_id, body.status, body.by, body.note)
    except ShortlistRefused as exc:
        raise HTTPException(404 if str(exc).startswith("no candidate") else 422, str(exc)) from None
    return EventPublic(id=event.id, shortlist_id=shortlist_id, candidate_id=candidate_id, status=event.status,  # type: ignore[arg-type]
                       note=event.note, by=event.actor, at=event.at)


@shortlist_router.get("/{shortlist_id}/history", response_model=list[EventPublic],
                      summary="Every change on a shortlist, newest first")
def history(shortlist_id: int, session: SessionDep, limit: int = Query(200, ge=1, le=5000)) -> list[EventPublic]:
    if get_shortlist(session, shortlist_id) is None:
        raise HTTPException(404, f"no shortlist {shortlist_id}")
    return [EventPublic(id=e.id, shortlist_id=e.shortlist_id, candidate_id=e.candidate_id, status=e.status, note=e.note,
                        by=e.actor, at=e.at) for e in shortlist_history(session, shortlist_id=shortlist_id, limit=limit)]


@shortlist_router.get("/{shortlist_id}/export.csv", summary="A shortlist as CSV", response_class=Response)
def export(shortlist_id: int, session: SessionDep) -> Response:
    if get_shortlist(session, shortlist_id) is None:
        raise HTTPException(404, f"no shortlist {shortlist_id}")
    records = [member_record(m) for m in shortlist_members(session, shortlist_id)]
    return Response("".join(csv_chunks(SHORTLIST_COLUMNS, records)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="shortlist-{shortlist_id}.csv"'})
