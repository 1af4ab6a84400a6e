"""Every route of the HTTP service, at module level on one router (``create_app`` includes it).

Routes that read or write the database take the request's session (``SessionDep``) and
call the named queries of :mod:`storage`; every route but ``/health`` depends on the
bearer check (``guarded``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from crawler.service.dependencies import LookupsDep, SessionDep, SettingsDep, guarded
from crawler.service.models import (
    CandidatePublic,
    LookupAccepted,
    LookupCreate,
    LookupPublic,
)
from enrichment.stage import candidate_feature_document
from records import PLATFORMS
from spiders.pages.registry import normalize_account
from storage import candidates, lookup_jobs
from storage.db import session_scope

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


@router.get("/candidates", response_model=list[CandidatePublic], dependencies=guarded, tags=["candidates"],
            summary="Registered candidates and their accounts")
def list_candidates(
    session: SessionDep,
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=candidates.MAX_ID),
    active: bool | None = Query(None, description="Only active (true) or inactive (false) candidates."),
) -> list[CandidatePublic]:
    rows = candidates.list_candidates(session, active=active, offset=offset, limit=limit)
    accounts = candidates.candidate_accounts(session, [c.id for c in rows if c.id is not None])
    return [CandidatePublic.from_rows(c, accounts.get(c.id, [])) for c in rows]  # type: ignore[arg-type]


@router.get("/candidates/{candidate_id}", response_model=CandidatePublic, dependencies=guarded, tags=["candidates"],
            summary="One candidate and their accounts")
def get_candidate(candidate_id: int, session: SessionDep) -> CandidatePublic:
    candidate = candidates.get_candidate(session, candidate_id)
    if candidate is None:
        raise HTTPException(404, f"no candidate {candidate_id}")
    return CandidatePublic.from_rows(candidate, candidates.candidate_accounts(session, [candidate_id]).get(candidate_id, []))


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
    """The candidate to look up (registered now for name + handles) and its platforms.

    Raises HTTPException 404/409/422 with a message a caller can act on."""
    for name in body.platforms or []:
        if name not in PLATFORMS:
            raise HTTPException(422, f"platform {name!r} is not available; available: {', '.join(PLATFORMS)}")
    refs = []
    for platform, text in (body.handles or {}).items():
        if platform not in PLATFORMS:
            raise HTTPException(422, f"unknown platform {platform!r}; known: {', '.join(PLATFORMS)}")
        try:
            refs.append(normalize_account(platform, text))
        except ValueError as exc:
            raise HTTPException(422, f"{platform} handle {text!r}: {exc}") from None
    if body.candidate_id is not None:
        candidate = candidates.get_candidate(session, body.candidate_id)
        if candidate is None:
            raise HTTPException(404, f"no candidate {body.candidate_id}")
    else:
        owners = {a.candidate_id for a in (candidates.find_account(session, r) for r in refs) if a is not None and a.candidate_id}
        if len(owners) > 1:
            raise HTTPException(409, f"these handles belong to different candidates: {sorted(owners)}")
        if owners:
            candidate = candidates.get_candidate(session, owners.pop())
        else:
            # A new person (a name alone never merges two people who share it).
            candidate = candidates.add_candidate(session, body.name or "")
        for ref in refs:
            candidates.attach_account(session, candidate, ref)
    registered = candidates.account_platforms(session, candidate.id)  # type: ignore[union-attr]
    platforms = [p for p in (body.platforms or PLATFORMS) if p in registered or p in {r.platform for r in refs}]
    if not platforms:
        raise HTTPException(422, f"candidate {candidate.id} has no account on {', '.join(body.platforms or PLATFORMS)}")  # type: ignore[union-attr]
    return int(candidate.id), platforms  # type: ignore[union-attr,arg-type]
