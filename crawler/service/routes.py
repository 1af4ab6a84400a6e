"""Every route of the HTTP service, at module level on one router (``create_app`` includes it).

Routes that read or write the database take the request's session (``SessionDep``) and
call the named queries of :mod:`storage`; every route but ``/health`` depends on the
bearer check (``guarded``). Curation (edit, accounts, activation, delete, merges) calls
:mod:`storage.curation`; what it refuses is 409 (a name several candidates have: 409 with
``candidates`` to choose from), an unknown id 404, a value storage/names.py refuses 422.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import re
import uuid
from pathlib import Path
from typing import Any

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.requests import ClientDisconnect

from crawler.candidates_csv import UnreadableText, decode_text, import_rows
from crawler.service.dependencies import LookupsDep, SessionDep, SettingsDep, guarded
from crawler.service.models import (
    AccountCreate,
    AccountPublic,
    CandidateBrief,
    CandidateCreate,
    CandidatePublic,
    CandidateUpdate,
    ImportedRow,
    ImportReportPublic,
    LookupAccepted,
    LookupCreate,
    LookupPublic,
    MergeCreate,
    MergePublic,
    MergeUndo,
    RankedCandidate,
    RankingPage,
    RejectedRow,
)
from enrichment.schema import INDICES, RANK_BY, coverage_column, index_column, score_column
from enrichment.stage import candidate_feature_document, suspicious_flags
from records import PLATFORMS, AccountRef
from spiders.pages.registry import normalize_account
from storage import candidates, curation, lookup_jobs
from storage.db import session_scope
from storage.features import iter_ranked_rows

logger = logging.getLogger(__name__)

router = APIRouter()


class DocsPage:
    """The API docs page, served from the package (``docs_page.html`` and ``docs_page.js``, the
    project's own: no CDN, no third-party code), with a Content-Security-Policy that lets it
    load only its own script and style and talk only to this service."""

    def __init__(self) -> None:
        folder = Path(__file__).parent
        self.html = (folder / "docs_page.html").read_text(encoding="utf-8")
        self.script = (folder / "docs_page.js").read_text(encoding="utf-8")
        style = re.search(r"<style>(.*?)</style>", self.html, re.S)
        style_hash = base64.b64encode(hashlib.sha256((style.group(1) if style else "").encode()).digest()).decode()
        self.headers = {
            "Content-Security-Policy": (f"default-src 'none'; script-src 'self'; style-src 'sha256-{style_hash}'; "
                                        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                                        "form-action 'none'; frame-ancestors 'none'"),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }


DOCS = DocsPage()


@router.get("/openapi.json", include_in_schema=False, dependencies=guarded)
async def openapi_document(request: Request) -> dict[str, Any]:
    return request.app.openapi()  # type: ignore[no-any-return]


@router.get("/docs", include_in_schema=False)
async def docs_page() -> HTMLResponse:
    """The docs page: no token needed (a browser cannot send one when it opens a page, and the
    page holds no data); it asks for the token and reads ``/openapi.json`` with it."""
    return HTMLResponse(DOCS.html, headers=DOCS.headers)


@router.get("/docs/docs.js", include_in_schema=False)
async def docs_script() -> Response:
    return Response(DOCS.script, media_type="text/javascript; charset=utf-8", headers=DOCS.headers)


@router.get("/health", tags=["service"], summary="Liveness and queue depth (no authentication)")
def health(settings: SettingsDep, lookups: LookupsDep) -> dict[str, Any]:
    # Its own session, not the request's (SessionDep): a database that does not answer is
    # what this route reports (503), not an error of the route.
    # The driver's words (host, port, user, database) go to the service's log, not to whoever
    # asks: /health needs no token.
    try:
        with session_scope(settings.database_url) as session:
            jobs = {"queued": lookup_jobs.count_jobs(session, "queued"), "running": lookup_jobs.count_jobs(session, "running")}
    except Exception:  # noqa: BLE001 - report, do not crash the probe
        logger.warning("health: the database does not answer", exc_info=True)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)  # type: ignore[return-value]
    return {"status": "ok", "database": "ok", "workers": lookups.workers, **jobs}


@router.post("/lookups", status_code=202, response_model=LookupAccepted, dependencies=guarded, tags=["lookups"],
             summary="Start a lookup of a candidate, or of a name plus handles")
def start_lookup(
    body: LookupCreate, request: Request, response: Response, session: SessionDep, lookups: LookupsDep,
    background: BackgroundTasks,
) -> LookupAccepted:
    candidate_id, platforms = lookup_target(session, body)
    job_id = str(uuid.uuid4())
    lookup_jobs.add_lookup_job(session, job_id, candidate_id, platforms)
    # Queued once the response is on its way: by then the session has committed the job.
    background.add_task(lookups.submit, job_id)
    location = str(request.url_for("lookup_status", job_id=job_id).path)
    response.headers["Location"] = location
    return LookupAccepted(id=job_id, status="queued", candidate_id=candidate_id, url=location)


@router.get("/lookups/{job_id}", response_model=LookupPublic, dependencies=guarded, tags=["lookups"],
            name="lookup_status", summary="A lookup's status and per-platform results and failures")
def lookup_status(job_id: str, session: SessionDep) -> LookupPublic:
    job = lookup_jobs.lookup_job(session, job_id)
    if job is None:
        raise HTTPException(404, f"no lookup {job_id!r}")
    return LookupPublic.from_job(job)


def _public(session: Any, candidate: Any) -> CandidatePublic:
    return CandidatePublic.from_rows(candidate, candidates.candidate_accounts(session, [candidate.id]).get(candidate.id, []))


def _choose(message: str, found: list[Any]) -> HTTPException:
    """409 asking which candidate: the message and the candidates to choose from."""
    return HTTPException(409, {"message": message, "candidates": [CandidateBrief.of(c).model_dump() for c in found]})


@contextmanager
def curation_answers() -> Iterator[None]:
    """What storage refuses, as answers: an unknown id 404; a name several candidates have, an
    existing name for a new candidate, an account someone has, a change curation refuses 409;
    a name, alias, notes or handle that cannot be stored 422."""
    try:
        yield
    except curation.NotFound as exc:
        raise HTTPException(404, str(exc).strip("'\"")) from None
    except (candidates.AmbiguousCandidate, candidates.DuplicateName) as exc:
        raise _choose(str(exc), exc.candidates) from None
    except (candidates.DuplicateAccount, curation.CurationRefused) as exc:
        raise HTTPException(409, str(exc)) from None
    except candidates.CandidateRefused as exc:
        raise HTTPException(422, str(exc)) from None
    except ValueError as exc:  # storage.names.InvalidName, a malformed handle
        raise HTTPException(422, str(exc)) from None


def account_refs_of(handles: dict[str, Any]) -> list[AccountRef]:
    """Platform -> handle(s) as accounts (each platform's normalize_account), or 422 naming the bad one."""
    refs = []
    for platform, texts in handles.items():
        if platform not in PLATFORMS:
            raise HTTPException(422, f"unknown platform {platform!r}; known: {', '.join(PLATFORMS)}")
        for text in texts if isinstance(texts, list) else [texts]:
            if len(text) > 300:
                raise HTTPException(422, "a handle is at most 300 characters")
            try:
                refs.append(normalize_account(platform, text))
            except ValueError as exc:
                raise HTTPException(422, f"{platform} handle {text!r}: {exc}") from None
    return refs


# What the curation routes do, as functions the review desk's forms call too (crawler/desk/pages.py):
# each raises HTTPException as the route answers (curation_answers, account_refs_of).


def register_candidate(session: Any, body: CandidateCreate) -> Any:
    """``POST /candidates``: the candidate and their accounts (each platform's normalize_account)."""
    refs = account_refs_of(body.handles)
    with curation_answers():
        return candidates.add_candidate(session, body.name, aliases=body.aliases, notes=body.notes, accounts=refs,
                                        allow_same_name=body.allow_same_name)


def apply_update(session: Any, candidate_id: int, body: CandidateUpdate) -> Any:
    """``PATCH /candidates/{id}``: what the body gives changes (name, aliases, notes; active)."""
    with curation_answers():
        changes = body.model_fields_set - {"active", "allow_same_name"}
        candidate = curation.require_candidate(session, candidate_id)
        if changes:
            candidate = curation.edit_candidate(
                session, candidate_id, display_name=body.display_name, aliases=body.aliases, add_aliases=body.add_aliases,
                remove_aliases=body.remove_aliases, notes=body.notes or None, clear_notes=body.notes == "",
                allow_same_name=body.allow_same_name)
        if body.active is not None:
            candidate = curation.set_active(session, candidate_id, body.active)
    return candidate


def give_account(session: Any, candidate_id: int, body: AccountCreate) -> tuple[Any, bool]:
    """``POST /candidates/{id}/accounts``: (the account, whether it was added)."""
    (ref,) = account_refs_of({body.platform: body.handle})
    with curation_answers():
        return curation.add_account(session, candidate_id, ref)


def take_account(session: Any, candidate_id: int, account_id: int) -> Any:
    """``DELETE /candidates/{id}/accounts/{account_id}``: the account, now unowned."""
    with curation_answers():
        account = candidates.account_by_id(session, account_id)
        if account is None:
            raise curation.NotFound(f"no account {account_id}")
        return curation.remove_account(session, candidate_id, curation.account_ref(account))


def import_upload(data: bytes, encoding: str | None, database_url: str, *, allow_same_name: bool = False,
                  option: str = "encoding=") -> ImportReportPublic:
    """``POST /candidates/import``: the uploaded CSV file decoded (UnreadableText when it is no
    text) and imported as ``wangzi candidates import`` does, with its report per row."""
    text, note = decode_text(data, encoding, source="the upload", option=option)
    report = import_rows(text, database_url, allow_same_name=allow_same_name)
    added = []
    for row, said in report.added:
        number, _, name = said.partition(" ")
        added.append(ImportedRow(row=row, candidate_id=int(number), display_name=name))
    return ImportReportPublic(added=added, rejected=[RejectedRow(row=row, message=m) for row, m in report.errors],
                              warnings=report.warnings, note=note)


@router.get("/candidates", response_model=list[CandidatePublic], dependencies=guarded, tags=["candidates"],
            summary="Registered candidates and their accounts")
def list_candidates(
    session: SessionDep,
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=candidates.MAX_ID),
    active: bool | None = Query(None, description="Only active (true) or inactive (false) candidates."),
    name: str | None = Query(None, max_length=200, description="Only the candidates with this display name, else with "
                             "this alias (blind to case and Unicode form; merged candidates are found by no name)."),
) -> list[CandidatePublic]:
    if name is not None:
        with curation_answers():
            found = candidates.candidates_named(session, name)
        rows = [c for c in found if active is None or c.active == active][offset:offset + limit]
    else:
        rows = candidates.list_candidates(session, active=active, offset=offset, limit=limit)
    accounts = candidates.candidate_accounts(session, [c.id for c in rows if c.id is not None])
    return [CandidatePublic.from_rows(c, accounts.get(c.id, [])) for c in rows]  # type: ignore[arg-type]


@router.post("/candidates", status_code=201, response_model=CandidatePublic, dependencies=guarded, tags=["candidates"],
             summary="Register a candidate (409 when the name or an account is someone's already)")
def create_candidate(body: CandidateCreate, session: SessionDep, response: Response, request: Request) -> CandidatePublic:
    candidate = register_candidate(session, body)
    response.headers["Location"] = str(request.url_for("get_candidate", candidate_id=candidate.id).path)
    return _public(session, candidate)


@router.get("/candidates/{candidate_id}", response_model=CandidatePublic, dependencies=guarded, tags=["candidates"],
            name="get_candidate", summary="One candidate and their accounts")
def get_candidate(candidate_id: int, session: SessionDep) -> CandidatePublic:
    candidate = candidates.get_candidate(session, candidate_id)
    if candidate is None:
        raise HTTPException(404, f"no candidate {candidate_id}")
    return _public(session, candidate)


@router.patch("/candidates/{candidate_id}", response_model=CandidatePublic, dependencies=guarded, tags=["curation"],
              summary="Edit a candidate's name, aliases or notes; deactivate or reactivate it")
def update_candidate(candidate_id: int, body: CandidateUpdate, session: SessionDep) -> CandidatePublic:
    return _public(session, apply_update(session, candidate_id, body))


@router.delete("/candidates/{candidate_id}", dependencies=guarded, tags=["curation"],
               summary="Delete a candidate (409 while it is part of a merge or has outcomes or shortlist history)")
def delete_candidate(candidate_id: int, session: SessionDep) -> dict[str, Any]:
    with curation_answers():
        done = curation.delete_candidate(session, candidate_id)
    return {"deleted": candidate_id, "rows": done}


@router.post("/candidates/{candidate_id}/accounts", status_code=201, response_model=AccountPublic, dependencies=guarded,
             tags=["curation"], summary="Give a candidate an account (200 when it had it already; 409 when another has it)")
def add_account(candidate_id: int, body: AccountCreate, session: SessionDep, response: Response) -> AccountPublic:
    account, added = give_account(session, candidate_id, body)
    if not added:
        response.status_code = 200
    return AccountPublic.model_validate(account)


@router.delete("/candidates/{candidate_id}/accounts/{account_id}", response_model=AccountPublic, dependencies=guarded,
               tags=["curation"], summary="Take an account from a candidate (it and its snapshots are kept, unowned)")
def remove_account(candidate_id: int, account_id: int, session: SessionDep) -> AccountPublic:
    return AccountPublic.model_validate(take_account(session, candidate_id, account_id))


@router.post("/merges", status_code=201, response_model=MergePublic, dependencies=guarded, tags=["curation"],
             summary="Merge one candidate into another (recorded; undo with POST /merges/{id}/undo)")
def create_merge(body: MergeCreate, session: SessionDep) -> MergePublic:
    with curation_answers():
        merge = curation.merge_candidates(session, body.source_id, body.target_id, by=body.by, note=body.note)
    return MergePublic.of(merge)


@router.get("/merges", response_model=list[MergePublic], dependencies=guarded, tags=["curation"],
            summary="Merges, newest first (those a candidate was part of, with candidate_id)")
def list_merges(session: SessionDep, candidate_id: int | None = Query(None, ge=1, le=candidates.MAX_ID),
                limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=candidates.MAX_ID)) -> list[MergePublic]:
    return [MergePublic.of(m) for m in curation.list_merges(session, candidate_id, limit=limit, offset=offset)]


@router.get("/merges/{merge_id}", response_model=MergePublic, dependencies=guarded, tags=["curation"], summary="One merge")
def get_merge(merge_id: int, session: SessionDep) -> MergePublic:
    merge = curation.get_merge(session, merge_id)
    if merge is None:
        raise HTTPException(404, f"no merge {merge_id}")
    return MergePublic.of(merge)


@router.post("/merges/{merge_id}/undo", response_model=MergePublic, dependencies=guarded, tags=["curation"],
             summary="Undo a merge: what it moved goes back (409 when undone already or the target was merged since)")
def undo_merge(merge_id: int, session: SessionDep, body: MergeUndo | None = None) -> MergePublic:
    with curation_answers():
        merge = curation.undo_merge(session, merge_id, by=body.by if body else None)
    return MergePublic.of(merge)


@router.post("/candidates/import", response_model=ImportReportPublic, dependencies=guarded, tags=["curation"],
             summary="Import candidates from a CSV file sent as the body (text/csv), with a report per row",
             openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def import_candidates(
    request: Request, settings: SettingsDep,
    encoding: str | None = Query(None, max_length=40, description="The file's encoding (default: UTF-8, else GB18030)."),
    allow_same_name: bool = Query(False, description="Register rows named like an existing candidate as other people."),
) -> ImportReportPublic:
    """The body is the CSV file itself (columns ``name``, ``aliases``, ``notes``, one per
    platform), read as it streams and refused with 413 past the service's upload limit
    (``WANGZI_API_MAX_UPLOAD``). Rows are checked and registered as ``wangzi candidates
    import`` does, in batches; the answer lists every added and rejected row."""
    data = bytearray()
    try:
        async for chunk in request.stream():
            data += chunk
    except ClientDisconnect:  # the body limit stopped it (the client has its 413)
        raise HTTPException(413, "request body too large") from None
    try:
        return await run_in_threadpool(import_upload, bytes(data), encoding, settings.database_url,
                                       allow_same_name=allow_same_name, option="encoding=")
    except UnreadableText as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/ranking", response_model=RankingPage, dependencies=guarded, tags=["ranking"],
            summary="The ranking of active candidates by an index's coverage-aware score, a page at a time")
def ranking(
    session: SessionDep,
    by: str = Query("composite", description=f"One of {', '.join(RANK_BY)}."),
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=candidates.MAX_ID),
    min_coverage: float | None = Query(None, ge=0.0, le=1.0, description="Only rows with at least this coverage (0..1)."),
    tier: list[str] | None = Query(None, description="Only these follower tiers (nano, micro, mid, macro, mega)."),
    exclude_suspicious: bool = Query(False, description="Leave out candidates flagged for suspicious follower growth."),
    exclude_synthetic: bool = Query(False, description="Leave out rows computed from synthetic demo history."),
) -> RankingPage:
    """The newest feature row of each active candidate, best ``by`` score first (what ``wangzi
    rank`` lists), streamed from the database in score order: a page costs the rows before it,
    never the cohort squared. ``next_offset`` is where the next page starts (null at the end)."""
    if by not in RANK_BY:
        raise HTTPException(422, f"by {by!r}: choose one of {', '.join(RANK_BY)}")
    key = RANK_BY[by]
    filtered = exclude_suspicious or exclude_synthetic
    rows = iter_ranked_rows(session, score_column(key), coverage=coverage_column(key), min_coverage=min_coverage,
                            tiers=tier, offset=0 if filtered else offset, limit=None if filtered else limit + 1)
    items: list[RankedCandidate] = []
    position = 0 if filtered else offset
    more = False
    for row in rows:
        features = row.features or {}
        flagged = suspicious_flags(features.get("growth_flags"))
        synthetic = bool(features.get("synthetic_history"))
        if (exclude_suspicious and flagged) or (exclude_synthetic and synthetic):
            continue
        position += 1
        if position <= offset:
            continue
        if len(items) == limit:
            more = True
            break
        items.append(RankedCandidate(
            rank=position, candidate_id=row.candidate_id, display_name=row.display_name,
            score=_finite(getattr(row, score_column(key))), index=_finite(getattr(row, index_column(key))),
            coverage=_finite(getattr(row, coverage_column(key))),
            scores={name: _finite(getattr(row, score_column(name))) for name in (*INDICES, "composite")},
            tier=row.tier, reference=row.reference, as_of=row.as_of.isoformat(), followers_total=row.followers_total,
            growth_authenticity=_finite(features.get("growth_authenticity")), growth_flags=features.get("growth_flags"),
            suspicious=bool(flagged), synthetic_history=synthetic, why=(row.top_contributors or {}).get(key, []),
        ))
    return RankingPage(by=by, offset=offset, limit=limit, next_offset=offset + limit if more else None, items=items)


def _finite(value: Any) -> Any:
    """A number as strict JSON holds it: NaN or infinity (an old ranking's) is null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


@router.get("/candidates/{candidate_id}/features", dependencies=guarded, tags=["candidates"],
            summary="The candidate's newest feature snapshot (from the enrichment stage)")
def candidate_features(candidate_id: int, session: SessionDep) -> dict[str, Any]:
    """The documented export columns of the candidate's newest feature row (a missing value is
    ``null``; no NaN or infinity) and, under ``explain``, what ``wangzi explain`` shows."""
    if candidates.get_candidate(session, candidate_id) is None:
        raise HTTPException(404, f"no candidate {candidate_id}")
    document = candidate_feature_document(session, candidate_id)
    if document is None:
        raise HTTPException(404, f"no features computed yet for candidate {candidate_id} (run the enrichment stage)")
    return {**document["features"], "explain": document["explain"]}


def lookup_target(session: Any, body: LookupCreate) -> tuple[int, list[str]]:
    """The candidate to look up and its platforms: the one ``candidate_id`` names (a merged
    one's target; ``handles`` given with it are added to it), else the one that owns the
    handles, else a new one registered now with the name - unless candidates of that name
    exist (409 listing them: send ``candidate_id`` with the handles, or ``new_candidate``).

    Raises HTTPException 404/409/422 with a message a caller can act on."""
    for name in body.platforms or []:
        if name not in PLATFORMS:
            raise HTTPException(422, f"platform {name!r} is not available; available: {', '.join(PLATFORMS)}")
    refs = account_refs_of(body.handles or {})
    if body.candidate_id is not None:
        candidate = candidates.get_candidate(session, body.candidate_id)
        if candidate is None:
            raise HTTPException(404, f"no candidate {body.candidate_id}")
        candidate = candidates.live_candidate(session, candidate)
        with curation_answers():
            for ref in refs:
                curation.add_account(session, candidate.id, ref)
    else:
        owned = [a for a in (candidates.find_account(session, r) for r in refs) if a is not None and a.candidate_id]
        owners = {a.candidate_id for a in owned}
        if len(owners) > 1:
            raise _choose(f"these handles belong to different candidates: {sorted(owners)}",  # type: ignore[type-var]
                          [candidates.get_candidate(session, o) for o in sorted(owners)])  # type: ignore[arg-type, type-var]
        if owners:
            candidate = candidates.get_candidate(session, owners.pop())  # the person who has the account already
        else:
            namesakes = candidates.same_name_candidates(session, body.name or "")
            if namesakes and not body.new_candidate:
                raise _choose(f"{body.name!r} is the name of {len(namesakes)} candidate(s) and none has these handles: "
                              "send candidate_id (with the handles to add them to that candidate), or new_candidate: true "
                              "to register another person", namesakes)
            # A new person (a name alone never merges two people who share it).
            candidate = candidates.add_candidate(session, body.name or "")
        for ref in refs:
            candidates.attach_account(session, candidate, ref)
    registered = candidates.account_platforms(session, candidate.id)  # type: ignore[union-attr]
    platforms = [p for p in (body.platforms or PLATFORMS) if p in registered or p in {r.platform for r in refs}]
    if not platforms:
        raise HTTPException(422, f"candidate {candidate.id} has no account on {', '.join(body.platforms or PLATFORMS)}")  # type: ignore[union-attr]
    return int(candidate.id), platforms  # type: ignore[union-attr,arg-type]
