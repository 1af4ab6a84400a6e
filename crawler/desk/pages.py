"""Every page and form of the review desk, at module level on one router (``mount_desk``
includes it): the cohort table at ``/``, a candidate's page, the comparison, shortlists, the
exports, the lookup button and its event stream, the Leads tab, curation
(``/desk/candidates/{id}/edit``: names, accounts, active, merge and undo, delete) and adding
candidates (``/desk/candidates/new``: one, or a CSV upload with its per-row report), login and
logout. Curation and adding call the JSON API's own functions (crawler/service/routes.py), so
the desk, the API and the CLI refuse and record the same things.

Pages take the request's database session (``SessionDep``, as the JSON API's routes do) and read
through storage's named functions and the enrichment stage; every page needs a logged-in
session (``UserDep``) and every POST also the session's CSRF token (``FormUserDep``), see
:mod:`crawler.desk.security`. Templates are in ``templates/``; everything a platform returned is
escaped there by Jinja2's autoescaping.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timezone
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
)
from fastapi.responses import (
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import ValidationError

from crawler.candidates_csv import UnreadableText
from crawler.desk.charts import chart_document
from crawler.desk.exports import (
    COHORT_COLUMNS,
    SHORTLIST_COLUMNS,
    cohort_record,
    csv_chunks,
    member_record,
    xlsx_bytes,
)
from crawler.desk.security import (
    DeskUser,
    clean_next,
    csrf_protected,
    current_user,
    end_session,
    login_csrf,
    require_user,
    same_origin,
    start_session,
    token_matches,
)
from crawler.desk.templating import TEMPLATES
from crawler.desk.view import (
    FLAG_CHOICES,
    LEAD_STATUS_CHOICES,
    PER_PAGE,
    TIERS,
    CohortView,
    parse_leads_view,
    parse_view,
)
from crawler.service.dependencies import LookupsDep, SessionDep, SettingsDep
from crawler.service.models import (
    AccountCreate,
    CandidateCreate,
    CandidateUpdate,
    LookupCreate,
)
from enrichment.features import GROWTH_WINDOWS
from enrichment.report import INDEX_LABELS, load_report
from enrichment.schema import INDICES
from records import PLATFORMS, AccountRef, profile_url
from storage import lookup_jobs
from storage.candidates import (
    candidate_accounts,
    find_candidate,
    get_candidate,
    latest_snapshots,
    list_candidates,
)
from storage.curation import (
    delete_candidate,
    get_merge,
    list_merges,
    merge_candidates,
    undo_merge,
)
from storage.db import session_scope
from storage.desk import (
    SCORES,
    cohort_page,
    feature_rows_mark,
    iter_cohort,
    lookup_progress,
    recent_failures,
    recent_posts,
)
from storage.features import latest_feature_snapshot
from storage.leads import (
    LEAD_SORTS,
    LeadRefused,
    lead_page,
    promote_lead,
    reject_lead,
    reject_reason,
)
from storage.models import SHORTLIST_STATUSES
from storage.names import InvalidName
from storage.references import list_references
from storage.shortlists import (
    ShortlistRefused,
    add_members,
    candidate_memberships,
    create_shortlist,
    get_shortlist,
    list_shortlists,
    set_status,
    shortlist_history,
    shortlist_members,
)

desk_router = APIRouter(include_in_schema=False)

UserDep = Annotated[DeskUser, Depends(require_user)]
FormUserDep = Annotated[DeskUser, Depends(csrf_protected)]

#: How often the lookup event stream reads the job's state, in seconds.
EVENT_POLL = 0.5


class CohortReference:
    """The references candidates are explained against, kept between pages: the live cohort's
    until a feature row changes (a new row, a new ranking or another active count), since
    computing it reads every candidate's newest row; and each frozen reference a row names
    until the stored references change (a new one frozen), since reading one decodes its whole
    payload (a quarter of a second at 10,000 candidates) - neither on every click. The weights
    are read once, when the desk starts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mark: tuple[Any, ...] | None = None
        self.reference: Any = None
        self.weights: Any = None
        self.frozen_mark: tuple[Any, ...] | None = None
        self.frozen: dict[str, Any] = {}  # row label (NAME@vN) -> its Reference, or None if not stored

    def for_candidate(self, session: Any, candidate_id: int) -> tuple[Any, Any]:
        """(weights, reference) to explain the candidate with: the kept frozen reference their
        row names; the kept live cohort when their row was ranked against it and they are in
        it (active); else (weights, None)."""
        from enrichment.schema import FEATURE_NAMES
        from enrichment.stage import live_cohort_reference, load_weights

        with self.lock:
            if self.weights is None:
                self.weights = load_weights(known_features=FEATURE_NAMES)
            weights = self.weights
        snapshot = latest_feature_snapshot(session, candidate_id)
        label = ((snapshot.ranking.reference if snapshot and snapshot.ranking else None) or "cohort").partition("+")[0]
        if snapshot is not None and label != "cohort":
            return weights, self.frozen_reference(session, label)
        candidate = get_candidate(session, candidate_id)
        if snapshot is None or candidate is None or not candidate.active:
            return weights, None
        mark = feature_rows_mark(session)
        with self.lock:
            if mark == self.mark:
                return weights, self.reference
        reference = live_cohort_reference(session, weights)
        with self.lock:
            self.mark, self.reference = mark, reference
        return weights, reference

    def frozen_reference(self, session: Any, label: str) -> Any:
        """The frozen reference ``label`` (``NAME@vN``) names, or None when it is not stored
        (then the explanation says so as before). Stored references are never changed, only
        added: the kept ones are read again once the list of stored references differs."""
        from enrichment.stage import ReferenceNotFound, resolve_reference

        mark = tuple(list_references(session))
        with self.lock:
            if mark != self.frozen_mark:
                self.frozen_mark, self.frozen = mark, {}
            if label in self.frozen:
                return self.frozen[label]
        try:
            reference = resolve_reference(session, label)
        except ReferenceNotFound:
            reference = None
        with self.lock:
            if mark == self.frozen_mark:
                self.frozen[label] = reference
        return reference


COHORT = CohortReference()


def report_of(session: Any, candidate_id: int) -> Any:
    weights, cohort = COHORT.for_candidate(session, candidate_id)
    return load_report(session, candidate_id, weights=weights, cohort=cohort)


def render(request: Request, template: str, user: DeskUser | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.update(request=request, user=user, csrf=user.csrf if user else "", platform_names=list(PLATFORMS),
                   index_labels=INDEX_LABELS, statuses=SHORTLIST_STATUSES)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# --------------------------------------------------------------------------- login


@desk_router.get("/desk/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the parameter's name in the URL
    if current_user(request) is not None:
        return back(clean_next(next))  # type: ignore[return-value]
    return render(request, "login.jinja", None, next=clean_next(next), login_token=login_csrf(request), error=None)


@desk_router.post("/desk/login", response_class=HTMLResponse)
async def login(
    request: Request, settings: SettingsDep,
    token: Annotated[str, Form(max_length=1000)] = "", who: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "", next: Annotated[str, Form(max_length=2000)] = "/",  # noqa: A002
) -> Response:
    expected = request.session.get("login_csrf") or ""
    if not expected or not hmac.compare_digest(csrf_token.encode(), str(expected).encode()) or not same_origin(request):
        return render(request, "login.jinja", None, status_code=403, next=clean_next(next),
                      login_token=login_csrf(request), error="The login form was out of date: try again.")
    name = " ".join(who.split())
    if not token_matches(settings, token):
        await asyncio.sleep(0.5)  # a wrong token costs time
        return render(request, "login.jinja", None, status_code=401, next=clean_next(next),
                      login_token=login_csrf(request), error="That is not the service's token (WANGZI_API_TOKEN).")
    if not name or len(name) > 200 or not name.isprintable():
        return render(request, "login.jinja", None, status_code=422, next=clean_next(next),
                      login_token=login_csrf(request), error="Give your name (at most 200 characters): "
                      "it is recorded with your shortlist changes.")
    start_session(request, name)
    return back(clean_next(next))


@desk_router.post("/desk/logout")
def logout(request: Request, user: FormUserDep) -> Response:
    end_session(request)
    return back("/desk/login")


# --------------------------------------------------------------------------- the cohort table


def shown_platforms(view: CohortView, rows: list[Any]) -> list[str]:
    """Follower columns: the platforms filtered on, else those with a count on this page."""
    if view.query.platforms:
        return list(view.query.platforms)
    present = {p for row in rows for p in PLATFORMS if row.features.get(f"followers_{p}") is not None}
    if view.query.sort.startswith("followers_") and view.query.sort != "followers_total":
        present.add(view.query.sort[len("followers_"):])
    return [p for p in PLATFORMS if p in present]


@desk_router.get("/", response_class=HTMLResponse)
def cohort_table(request: Request, session: SessionDep, user: UserDep) -> HTMLResponse:
    lists = list_shortlists(session)
    view = parse_view(request.query_params, {s.id for s in lists})
    page = cohort_page(session, view.query)
    pages = max(1, -(-page.total // view.per))
    context = dict(view=view, page=page, pages=pages, lists=lists, platforms=shown_platforms(view, page.rows),
                   tiers=TIERS, flag_choices=FLAG_CHOICES, per_page=PER_PAGE, scores=SCORES,
                   shortlist=next((s for s in lists if s.id == view.query.shortlist_id), None))
    if htmx(request) and request.headers.get("hx-target") == "cohort":
        return render(request, "_cohort.jinja", user, **context)
    return render(request, "table.jinja", user, **context)


def _export_view(request: Request, session: Any) -> CohortView:
    view = parse_view(request.query_params, {s.id for s in list_shortlists(session)})
    return view


def _filename(stem: str, suffix: str) -> str:
    return f"{stem}-{datetime.now(timezone.utc):%Y%m%d-%H%M}.{suffix}"


@desk_router.get("/desk/export.csv")
def export_csv(request: Request, session: SessionDep, settings: SettingsDep, user: UserDep) -> StreamingResponse:
    """The current view (every page of it) as CSV."""
    view = _export_view(request, session)
    url = settings.database_url

    def chunks() -> Iterator[str]:
        with session_scope(url) as own:  # the request's session is closed once the route returns
            yield from csv_chunks(COHORT_COLUMNS, (cohort_record(row) for row in iter_cohort(own, view.query)))

    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_filename("wangzi-cohort", "csv")}"'})


@desk_router.get("/desk/export.xlsx")
def export_xlsx(request: Request, session: SessionDep, user: UserDep) -> Response:
    view = _export_view(request, session)
    body = xlsx_bytes(COHORT_COLUMNS, (cohort_record(row) for row in iter_cohort(session, view.query)))
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
        "Content-Disposition": f'attachment; filename="{_filename("wangzi-cohort", "xlsx")}"'})


# --------------------------------------------------------------------------- adding candidates (issue 18 item 6)


async def platform_fields(request: Request) -> dict[str, str]:
    """The new-candidate form's one field per platform (the platform table decides which)."""
    form = await request.form()
    return {p: str(form.get(p) or "")[:1000] for p in PLATFORMS}


def _new_page(request: Request, user: DeskUser, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    page: dict[str, Any] = {"form": {"name": "", "aliases": "", "notes": "", "allow_same_name": False},
                            "handles": {p: "" for p in PLATFORMS}, "errors": {}, "namesakes": [], "report": None,
                            "upload": {"encoding": "", "allow_same_name": False, "filename": ""}}
    page.update(context)
    return render(request, "new_candidates.jinja", user, status_code=status_code, **page)


@desk_router.get("/desk/candidates/new", response_class=HTMLResponse)
def new_candidates_page(request: Request, user: UserDep) -> HTMLResponse:
    """Add one candidate, or upload a CSV file of them."""
    return _new_page(request, user)


@desk_router.post("/desk/candidates/new", response_class=HTMLResponse)
def new_candidate(request: Request, session: SessionDep, user: FormUserDep,
                  handles: Annotated[dict[str, str], Depends(platform_fields)],
                  name: Annotated[str, Form(max_length=1000)] = "", aliases: Annotated[str, Form(max_length=20_000)] = "",
                  notes: Annotated[str, Form(max_length=20_000)] = "",
                  allow_same_name: Annotated[str, Form(max_length=10)] = "") -> Response:
    """``POST /candidates``: the candidate and an account per platform field filled in."""
    from crawler.service.routes import register_candidate

    form = {"name": name, "aliases": aliases, "notes": notes, "allow_same_name": bool(allow_same_name)}
    try:
        candidate = register_candidate(session, CandidateCreate(
            name=name, aliases=_lines(aliases), notes=notes.strip() or None, allow_same_name=bool(allow_same_name),
            handles={p: text.strip() for p, text in handles.items() if text.strip()}))
    except ValidationError as exc:
        return _new_page(request, user, status_code=422, form=form, handles=handles, errors={"new": _invalid(exc)})
    except HTTPException as exc:
        session.rollback()
        message, found = _refusal(exc)
        return _new_page(request, user, status_code=exc.status_code, form=form, handles=handles,
                         errors={"new": message}, namesakes=found)
    return back(f"/desk/candidates/{candidate.id}")


@desk_router.post("/desk/candidates/import", response_class=HTMLResponse)
def import_form(request: Request, settings: SettingsDep, user: FormUserDep,
                file: Annotated[UploadFile | None, File()] = None, encoding: Annotated[str, Form(max_length=40)] = "",
                allow_same_name: Annotated[str, Form(max_length=10)] = "") -> Response:
    """``POST /candidates/import`` from a form: the file uploaded (multipart, up to the service's
    upload limit, ``WANGZI_API_MAX_UPLOAD``), imported as ``wangzi candidates import`` does, and
    its report per row: rows added (linked), rows rejected with their numbers and why, warnings."""
    from crawler.service.routes import import_upload

    upload = {"encoding": encoding, "allow_same_name": bool(allow_same_name), "filename": file.filename if file else ""}
    if file is None or not file.filename:
        return _new_page(request, user, status_code=422, upload=upload, errors={"upload": "Choose a CSV file to upload."})
    try:
        report = import_upload(file.file.read(), encoding.strip() or None, settings.database_url,
                               allow_same_name=bool(allow_same_name), option="the encoding")
    except UnreadableText as exc:
        return _new_page(request, user, status_code=422, upload=upload, errors={"upload": str(exc)})
    return _new_page(request, user, upload=upload, report=report)


# --------------------------------------------------------------------------- a candidate


def _charts(data: Any) -> list[dict[str, Any]]:
    return [chart_document([(platform, [(t, v) for t, v, _ in points])], title=f"{platform} followers")
            for platform, points in sorted(data.history.items(), key=lambda item: list(PLATFORMS).index(item[0])
                                           if item[0] in PLATFORMS else 99)]


def _growth(features: dict[str, Any] | None, platforms: list[str]) -> list[dict[str, Any]]:
    if not features:
        return []
    rows = []
    for platform in [*platforms, None]:
        suffix = f"_{platform}" if platform else ""
        cells = [(features.get(f"growth_{d}d{suffix}_abs"), features.get(f"growth_{d}d{suffix}_rel")) for d in GROWTH_WINDOWS]
        if any(a is not None for a, _ in cells):
            rows.append({"platform": platform or "all platforms", "cells": cells})
    return rows


def _running_job(session: Any, candidate_id: int) -> Any:
    jobs = [job for job in lookup_jobs.unfinished_jobs(session) if job.candidate_id == candidate_id]
    return max(jobs, key=lambda job: job.created_at) if jobs else None


@desk_router.get("/desk/candidates/{candidate_id}", response_class=HTMLResponse)
def candidate_page(candidate_id: int, request: Request, session: SessionDep, user: UserDep) -> HTMLResponse:
    from crawler.cli.candidates_suggest import suggestions

    candidate = get_candidate(session, candidate_id)
    if candidate is None:
        raise HTTPException(404, f"no candidate {candidate_id}")
    data = report_of(session, candidate_id)
    accounts = candidate_accounts(session, [candidate_id]).get(candidate_id, [])
    profiles = sorted(latest_snapshots(session, [candidate_id]), key=lambda pair: pair[0].id or 0)
    features = data.features or {}
    platforms = [p for p in PLATFORMS if p in data.history]
    brands = features.get("brands_by_country") or {}
    press = sorted(data.press or [], key=lambda m: (m.published_at is None, m.published_at or datetime.min.replace(tzinfo=timezone.utc)),
                   reverse=False)
    press.reverse()
    return render(
        request, "candidate.jinja", user, candidate=candidate, data=data, accounts=accounts, profiles=profiles,
        features=features, charts=_charts(data), growth=_growth(data.features, platforms), windows=GROWTH_WINDOWS,
        brands=sorted(brands.items()), press=press, press_searched=data.press is not None,
        posts=recent_posts(session, candidate_id), failures=recent_failures(session, candidate_id),
        suggestions=suggestions(session, candidate_id), memberships=candidate_memberships(session, candidate_id),
        history=shortlist_history(session, candidate_id=candidate_id, limit=50), lists=list_shortlists(session),
        job=_running_job(session, candidate_id), indices=INDICES,
    )


def queue_lookup(session: Any, lookups: Any, background: BackgroundTasks, candidate_id: int) -> Any:
    """A lookup of the candidate for the service's lookup worker: the job the JSON API's
    ``POST /lookups`` makes (crawler/service/lookups.py runs it, with its replay support), handed
    to the worker once the request's session has committed it. HTTPException (404/422) when
    there is nothing to look up."""
    from crawler.service.routes import lookup_target

    target, platforms = lookup_target(session, LookupCreate(candidate_id=candidate_id))
    job_id = str(uuid.uuid4())
    job = lookup_jobs.add_lookup_job(session, job_id, target, platforms)
    background.add_task(lookups.submit, job_id)
    return job


@desk_router.post("/desk/candidates/{candidate_id}/lookup", response_class=HTMLResponse)
def start_lookup(candidate_id: int, request: Request, session: SessionDep, lookups: LookupsDep,
                 background: BackgroundTasks, user: FormUserDep) -> Response:
    """The 'look up now' button: the same job the JSON API's ``POST /lookups`` makes, run by the
    same lookup worker (crawler/service/lookups.py, with its replay support)."""
    if get_candidate(session, candidate_id) is None:
        raise HTTPException(404, f"no candidate {candidate_id}")
    try:
        job = queue_lookup(session, lookups, background, candidate_id)
    except HTTPException as exc:
        return render(request, "_lookup.jinja", user, status_code=200, job=None, error=str(exc.detail),
                      candidate_id=candidate_id)
    if not htmx(request):
        return back(f"/desk/candidates/{candidate_id}#lookup")
    return render(request, "_lookup.jinja", user, job=job, error=None, candidate_id=candidate_id)


def _job_state(database_url: str, job_id: str) -> dict[str, Any] | None:
    with session_scope(database_url) as session:
        job = lookup_jobs.lookup_job(session, job_id)
        if job is None:
            return None
        since = job.started_at or job.created_at
        progress = lookup_progress(session, job.candidate_id, since) if job.candidate_id else {}  # type: ignore[arg-type]
        return {"id": job.id, "status": job.status, "candidate_id": job.candidate_id, "platforms": list(job.platforms or []),
                "progress": progress, "error": job.error,
                "elapsed": round((datetime.now(timezone.utc) - (since if since.tzinfo else since.replace(tzinfo=timezone.utc))).total_seconds())}


@desk_router.get("/desk/lookups/{job_id}/events")
async def lookup_events(job_id: str, request: Request, settings: SettingsDep, lookups: LookupsDep,
                        user: UserDep) -> StreamingResponse:
    """Server-sent events of one lookup: ``progress`` whenever its state changes (status,
    per-platform snapshots and failures stored so far), then ``done`` when it finished or failed."""
    first = await asyncio.to_thread(_job_state, settings.database_url, job_id)
    if first is None:
        raise HTTPException(404, f"no lookup {job_id!r}")
    limit = time.monotonic() + lookups.timeout + 120

    async def stream() -> AsyncIterator[str]:
        last = None
        state: dict[str, Any] | None = first
        yield "retry: 2000\n\n"
        while True:
            if state is not None:
                shown = {k: v for k, v in state.items() if k != "elapsed"}
                if shown != last:
                    last = shown
                    yield f"event: progress\ndata: {json.dumps(state, ensure_ascii=False)}\n\n"
                if state["status"] in {"finished", "failed"}:
                    yield f"event: done\ndata: {json.dumps(state, ensure_ascii=False)}\n\n"
                    return
            if time.monotonic() > limit or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_POLL)
            state = await asyncio.to_thread(_job_state, settings.database_url, job_id)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@desk_router.post("/desk/candidates/{candidate_id}/links")
def confirm_link(candidate_id: int, session: SessionDep, user: FormUserDep,
                 account: Annotated[str, Form(max_length=400)]) -> Response:
    """Confirm an account the candidate's own profiles link to (``candidates suggest --confirm``)."""
    from crawler.cli.candidates_suggest import confirm, suggestions

    if get_candidate(session, candidate_id) is None:
        raise HTTPException(404, f"no candidate {candidate_id}")
    rows = suggestions(session, candidate_id)
    try:
        confirm(session, candidate_id, rows, [account])
    except Exception as exc:  # noqa: BLE001 - the CLI's refusals (typer.Exit, ValueError) become a 422 page
        raise HTTPException(422, f"could not confirm {account!r}: {exc or type(exc).__name__}") from None
    return back(f"/desk/candidates/{candidate_id}#identity")


@desk_router.post("/desk/candidates/{candidate_id}/status")
def change_status(candidate_id: int, session: SessionDep, user: FormUserDep,
                  shortlist_id: Annotated[int, Form()], status: Annotated[str, Form(max_length=32)],
                  note: Annotated[str, Form(max_length=20_000)] = "",
                  next: Annotated[str, Form(max_length=2000)] = "") -> Response:  # noqa: A002
    try:
        set_status(session, shortlist_id, candidate_id, status, user.who, note or None)
    except ShortlistRefused as exc:
        raise HTTPException(422, str(exc)) from None
    return back(clean_next(next) if next else f"/desk/candidates/{candidate_id}#shortlists")


# --------------------------------------------------------------------------- leads (discovery's queue)


def _profile_link(lead: Any) -> str | None:
    try:
        return profile_url(AccountRef(platform=lead.platform, handle=lead.handle, platform_user_id=lead.platform_user_id))
    except ValueError:  # an id or handle the platform table does not accept: shown, not linked
        return None


@desk_router.get("/desk/leads", response_class=HTMLResponse)
def leads_page(request: Request, session: SessionDep, user: UserDep) -> HTMLResponse:
    """The accounts ``wangzi discover`` found, as ``wangzi leads list`` shows them, with the
    view in the URL; promote or reject the ones ticked."""
    view = parse_leads_view(request.query_params)
    page = lead_page(session, view.query)
    pages = max(1, -(-page.total // view.per))
    context = dict(view=view, page=page, pages=pages, per_page=PER_PAGE, lead_statuses=LEAD_STATUS_CHOICES,
                   lead_sorts=LEAD_SORTS, links={lead.id: _profile_link(lead) for lead in page.rows})
    if htmx(request) and request.headers.get("hx-target") == "leads":
        return render(request, "_leads.jinja", user, **context)
    return render(request, "leads.jinja", user, **context)


def _leads_back(next_url: str) -> str:
    return clean_next(next_url) if next_url else "/desk/leads"


@desk_router.post("/desk/leads/promote", response_class=HTMLResponse)
def promote_leads(request: Request, session: SessionDep, settings: SettingsDep, lookups: LookupsDep,
                  background: BackgroundTasks, user: FormUserDep,
                  ids: Annotated[list[int], Form(max_length=200)] = [],  # noqa: B006 - FastAPI's default
                  name: Annotated[str, Form(max_length=1000)] = "",
                  next: Annotated[str, Form(max_length=2000)] = "") -> Response:  # noqa: A002
    """Make candidates of the leads ticked, as ``wangzi leads promote`` does (the same
    :func:`storage.leads.promote_lead`; ``name``, for one lead, as its ``--name``), recorded as
    the desk login's name, and queue one lookup each for the service's lookup worker."""
    problems: list[str] = []
    promoted: list[tuple[Any, Any, str | None]] = []  # (promotion, lookup job, why no lookup)
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        problems.append("Tick the leads to promote first.")
    elif name.strip() and len(wanted) != 1:
        problems.append("A candidate name goes with one lead: tick only the lead it names.")
        wanted = []
    done = []
    for lead_id in wanted:
        try:
            done.append(promote_lead(settings.database_url, lead_id, user.who, name=name.strip() or None))
        except LeadRefused as exc:
            problems.append(str(exc) + ("; tick it alone and give the candidate a name" if exc.name_refused else ""))
    for promotion in done:  # each candidate is committed: the request's session queues their lookups
        try:
            promoted.append((promotion, queue_lookup(session, lookups, background, promotion.candidate_id), None))
        except HTTPException as exc:
            promoted.append((promotion, None, str(exc.detail)))
    return render(request, "leads_done.jinja", user, status_code=200 if promoted else 422, action="promote",
                  promoted=promoted, rejected=[], problems=problems, back_to=_leads_back(next))


@desk_router.post("/desk/leads/reject", response_class=HTMLResponse)
def reject_leads(request: Request, session: SessionDep, user: FormUserDep,
                 ids: Annotated[list[int], Form(max_length=200)] = [],  # noqa: B006 - FastAPI's default
                 reason: Annotated[str, Form(max_length=10_000)] = "",
                 next: Annotated[str, Form(max_length=2000)] = "") -> Response:  # noqa: A002
    """Take the leads ticked out of the queue for good, with the reason given (required), as
    ``wangzi leads reject --reason`` does; found again, they are not proposed again."""
    back_to = _leads_back(next)
    try:
        why = reject_reason(reason)
    except InvalidName as exc:
        return render(request, "leads_done.jinja", user, status_code=422, action="reject", promoted=[], rejected=[],
                      problems=[f"Give a reason to reject leads: {exc}"], back_to=back_to)
    problems = [] if ids else ["Tick the leads to reject first."]
    rejected = []
    for lead_id in dict.fromkeys(ids):
        try:
            rejected.append(reject_lead(session, lead_id, why, user.who))
        except LeadRefused as exc:
            problems.append(str(exc))
    if problems:
        return render(request, "leads_done.jinja", user, status_code=422, action="reject", promoted=[],
                      rejected=rejected, problems=problems, back_to=back_to)
    return back(back_to)


# --------------------------------------------------------------------------- compare


@desk_router.get("/desk/compare", response_class=HTMLResponse)
def compare(request: Request, session: SessionDep, user: UserDep,
            ids: Annotated[list[str], Query(max_length=20)] = []) -> HTMLResponse:  # noqa: B006 - FastAPI's default
    wanted = list(dict.fromkeys(int(i) for i in ids if i.isascii() and i.isdigit() and len(i) < 10))
    found = [c for c in (get_candidate(session, i) for i in wanted[:4]) if c is not None]
    if not 2 <= len(found) <= 4:
        return render(request, "compare.jinja", user, status_code=200 if not ids else 422, reports=[], chart=None,
                      message="Choose 2 to 4 candidates in the table (the checkboxes), then Compare.", indices=INDICES)
    reports = [report_of(session, c.id) for c in found]  # type: ignore[arg-type]
    series = [(f"{report.display_name} · {platform}", [(t, v) for t, v, _ in points])
              for report in reports for platform, points in report.history.items()]
    chart = chart_document(series, log=True, title="Followers (log scale)")
    return render(request, "compare.jinja", user, reports=reports, chart=chart, message=None, indices=INDICES)


# --------------------------------------------------------------------------- shortlists


@desk_router.get("/desk/shortlists", response_class=HTMLResponse)
def shortlists_page(request: Request, session: SessionDep, user: UserDep) -> HTMLResponse:
    return render(request, "shortlists.jinja", user, lists=list_shortlists(session), error=None)


@desk_router.post("/desk/shortlists", response_class=HTMLResponse)
def new_shortlist(request: Request, session: SessionDep, user: FormUserDep,
                  name: Annotated[str, Form(max_length=1000)], description: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    try:
        shortlist = create_shortlist(session, name, user.who, description or None)
    except ShortlistRefused as exc:
        return render(request, "shortlists.jinja", user, status_code=422, lists=list_shortlists(session), error=str(exc))
    return back(f"/desk/shortlists/{shortlist.id}")


def _shortlist_or_404(session: Any, shortlist_id: int) -> Any:
    shortlist = get_shortlist(session, shortlist_id)
    if shortlist is None:
        raise HTTPException(404, f"no shortlist {shortlist_id}")
    return shortlist


@desk_router.get("/desk/shortlists/{shortlist_id}", response_class=HTMLResponse)
def shortlist_page(shortlist_id: int, request: Request, session: SessionDep, user: UserDep) -> HTMLResponse:
    shortlist = _shortlist_or_404(session, shortlist_id)
    return render(request, "shortlist.jinja", user, shortlist=shortlist, members=shortlist_members(session, shortlist_id),
                  history=shortlist_history(session, shortlist_id=shortlist_id, limit=100))


@desk_router.post("/desk/selection")
def selection(session: SessionDep, user: FormUserDep, action: Annotated[str, Form(max_length=20)],
              ids: Annotated[list[int], Form(max_length=1000)] = [],  # noqa: B006 - FastAPI's default
              shortlist_id: Annotated[str, Form(max_length=12)] = "",
              next: Annotated[str, Form(max_length=2000)] = "") -> Response:  # noqa: A002
    """The table's selection: compare the candidates ticked, or put them on a shortlist (as ``new``)."""
    if action == "compare":
        return back("/desk/compare?" + urlencode([("ids", str(i)) for i in ids]))
    if action != "shortlist" or not shortlist_id.isdigit():
        raise HTTPException(422, "choose a shortlist to add the selected candidates to")
    _shortlist_or_404(session, int(shortlist_id))
    try:
        add_members(session, int(shortlist_id), ids, user.who)
    except ShortlistRefused as exc:
        raise HTTPException(422, str(exc)) from None
    return back(clean_next(next) if next else f"/desk/shortlists/{shortlist_id}")


@desk_router.get("/desk/shortlists/{shortlist_id}/export.{fmt}")
def export_shortlist(shortlist_id: int, fmt: str, session: SessionDep, user: UserDep) -> Response:
    shortlist = _shortlist_or_404(session, shortlist_id)
    records = [member_record(m) for m in shortlist_members(session, shortlist_id)]
    stem = f"wangzi-shortlist-{shortlist_id}"
    if fmt == "csv":
        return Response("".join(csv_chunks(SHORTLIST_COLUMNS, records)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{_filename(stem, "csv")}"'})
    if fmt == "xlsx":
        return Response(xlsx_bytes(SHORTLIST_COLUMNS, records, sheet=f"shortlist {shortlist.id}"),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{_filename(stem, "xlsx")}"'})
    raise HTTPException(404, "export as csv or xlsx")


# --------------------------------------------------------------------------- curation (issue 18 item 5)
# Every form calls the JSON API's own functions (crawler/service/routes.py: apply_update,
# give_account, take_account, register_candidate, import_upload, curation_answers) or the
# storage.curation function its route calls; what they refuse is shown on the form, with what
# was typed kept, and nothing of the refused change is written (the request's session is
# rolled back before the page is drawn).

#: What the curation page says after a change went through (``?done=``): fixed texts only.
CURATE_DONE = {
    "saved": "Saved.", "account-added": "Account added.", "account-had": "The candidate had that account already.",
    "account-removed": "Account removed (it and its snapshots are kept, unowned).", "deactivated": "Deactivated.",
    "reactivated": "Reactivated.", "merged": "Merged: the merge is listed below, with Undo.", "undone": "Merge undone.",
}


def _lines(text: str) -> list[str]:
    """A textarea's entries, one a line (blank lines dropped)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _invalid(exc: ValidationError) -> str:
    """A form value the API's model refuses, as one sentence (storage/names.py's own words for names)."""
    first = exc.errors()[0]
    message = str(first.get("msg", "")).removeprefix("Value error, ")
    field = ".".join(str(part) for part in first.get("loc", ()) if not isinstance(part, int))
    return message if first.get("type") == "value_error" or not field else f"{field}: {message}"


def _refusal(exc: HTTPException) -> tuple[str, list[dict[str, Any]]]:
    """An API refusal's message and, for a name several candidates have, the candidates to choose from."""
    if isinstance(exc.detail, dict):
        return str(exc.detail.get("message", "")), list(exc.detail.get("candidates") or [])
    return str(exc.detail), []


def _curate_page(request: Request, session: Any, user: DeskUser, candidate_id: int, *, status_code: int = 200,
                 **context: Any) -> HTMLResponse:
    candidate = get_candidate(session, candidate_id)
    if candidate is None:
        raise HTTPException(404, f"no candidate {candidate_id}")
    merges = list_merges(session, candidate_id, limit=50)
    involved = {m.source_id for m in merges} | {m.target_id for m in merges} | (
        {candidate.merged_into_id} if candidate.merged_into_id else set())
    names = {c.id: c.display_name for c in list_candidates(session, ids=involved)} if involved else {}
    page: dict[str, Any] = {
        "form": {"display_name": candidate.display_name, "aliases": "\n".join(candidate.aliases or []),
                 "notes": candidate.notes or "", "allow_same_name": False},
        "account_form": {"platform": "", "handle": ""}, "merge_form": {"target": "", "note": ""}, "errors": {},
        "namesakes": [], "choices": [], "done": CURATE_DONE.get(request.query_params.get("done", ""))}
    page.update(context)
    return render(request, "curate.jinja", user, status_code=status_code, candidate=candidate, names=names, merges=merges,
                  accounts=candidate_accounts(session, [candidate_id]).get(candidate_id, []), **page)


def _curated(request: Request, session: Any, user: DeskUser, candidate_id: int, section: str,
             change: Callable[[], str], **context: Any) -> Response:
    """Make ``change`` (it returns where to go next); a refusal is the curation page again with
    the message in ``section`` and the form as typed. An unknown candidate or merge stays a 404."""
    try:
        return back(change())
    except ValidationError as exc:
        session.rollback()
        return _curate_page(request, session, user, candidate_id, status_code=422, errors={section: _invalid(exc)}, **context)
    except HTTPException as exc:
        if exc.status_code == 404:
            raise
        session.rollback()
        message, found = _refusal(exc)
        key = "choices" if section == "merge" else "namesakes"
        return _curate_page(request, session, user, candidate_id, status_code=exc.status_code,
                            errors={section: message}, **{key: found}, **context)


@desk_router.get("/desk/candidates/{candidate_id}/edit", response_class=HTMLResponse)
def curate_page(candidate_id: int, request: Request, session: SessionDep, user: UserDep) -> HTMLResponse:
    """Edit a candidate: name, aliases, notes; accounts; active or not; merge and its undo; delete."""
    return _curate_page(request, session, user, candidate_id)


@desk_router.post("/desk/candidates/{candidate_id}/edit", response_class=HTMLResponse)
def edit_names(candidate_id: int, request: Request, session: SessionDep, user: FormUserDep,
               display_name: Annotated[str, Form(max_length=1000)] = "",
               aliases: Annotated[str, Form(max_length=20_000)] = "",
               notes: Annotated[str, Form(max_length=20_000)] = "",
               allow_same_name: Annotated[str, Form(max_length=10)] = "") -> Response:
    """``PATCH /candidates/{id}`` with the name, every alias (one a line) and the notes ("" clears them)."""
    from crawler.service.routes import apply_update

    form = {"display_name": display_name, "aliases": aliases, "notes": notes, "allow_same_name": bool(allow_same_name)}

    def change() -> str:
        apply_update(session, candidate_id, CandidateUpdate(display_name=display_name, aliases=_lines(aliases),
                                                            notes=notes.strip(), allow_same_name=bool(allow_same_name)))
        return f"/desk/candidates/{candidate_id}/edit?done=saved"

    return _curated(request, session, user, candidate_id, "edit", change, form=form)


@desk_router.post("/desk/candidates/{candidate_id}/accounts", response_class=HTMLResponse)
def add_account_form(candidate_id: int, request: Request, session: SessionDep, user: FormUserDep,
                     platform: Annotated[str, Form(max_length=100)] = "",
                     handle: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """``POST /candidates/{id}/accounts``: a handle, id or profile URL, normalised by the platform's module."""
    from crawler.service.routes import give_account

    def change() -> str:
        _, added = give_account(session, candidate_id, AccountCreate(platform=platform, handle=handle.strip()))
        return f"/desk/candidates/{candidate_id}/edit?done={'account-added' if added else 'account-had'}#accounts"

    return _curated(request, session, user, candidate_id, "account", change,
                    account_form={"platform": platform, "handle": handle})


@desk_router.post("/desk/candidates/{candidate_id}/accounts/{account_id}/remove", response_class=HTMLResponse)
def remove_account_form(candidate_id: int, account_id: int, request: Request, session: SessionDep,
                        user: FormUserDep) -> Response:
    """``DELETE /candidates/{id}/accounts/{account_id}``: the account and its snapshots are kept, unowned."""
    from crawler.service.routes import take_account

    def change() -> str:
        take_account(session, candidate_id, account_id)
        return f"/desk/candidates/{candidate_id}/edit?done=account-removed#accounts"

    return _curated(request, session, user, candidate_id, "account", change)


@desk_router.post("/desk/candidates/{candidate_id}/active", response_class=HTMLResponse)
def set_active_form(candidate_id: int, request: Request, session: SessionDep, user: FormUserDep,
                    active: Annotated[str, Form(max_length=1)] = "") -> Response:
    """Deactivate (``active=0``: out of crawls, schedules, the ranking and the table's default view) or reactivate."""
    from crawler.service.routes import apply_update

    def change() -> str:
        if active not in {"0", "1"}:
            raise HTTPException(422, "say whether to deactivate or reactivate the candidate")
        apply_update(session, candidate_id, CandidateUpdate(active=active == "1"))
        return f"/desk/candidates/{candidate_id}/edit?done={'reactivated' if active == '1' else 'deactivated'}"

    return _curated(request, session, user, candidate_id, "active", change)


@desk_router.post("/desk/candidates/{candidate_id}/merge", response_class=HTMLResponse)
def merge_form(candidate_id: int, request: Request, session: SessionDep, user: FormUserDep,
               target: Annotated[str, Form(max_length=1000)] = "", target_id: Annotated[str, Form(max_length=12)] = "",
               note: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    """``POST /merges``: this candidate into the one ``target`` names (an id, a name or an alias,
    as ``wangzi candidates merge`` reads it; a name several candidates have asks which one, whose
    id comes back as ``target_id``), recorded as merged by the desk login's name."""
    from crawler.service.routes import curation_answers

    def change() -> str:
        with curation_answers():
            if target_id.isascii() and target_id.isdigit():
                chosen = get_candidate(session, int(target_id))
            elif not target.strip():
                raise HTTPException(422, "give the id or the name of the candidate to merge this one into")
            else:
                chosen = find_candidate(session, target, follow_merges=False)
            if chosen is None:
                raise HTTPException(422, f"no candidate {target_id or target.strip()!r}: give another id or name")
            merge = merge_candidates(session, candidate_id, int(chosen.id), by=user.who, note=note.strip() or None)  # type: ignore[arg-type]
        return f"/desk/candidates/{merge.target_id}/edit?done=merged#merges"

    return _curated(request, session, user, candidate_id, "merge", change, merge_form={"target": target, "note": note})


@desk_router.post("/desk/merges/{merge_id}/undo", response_class=HTMLResponse)
def undo_merge_form(merge_id: int, request: Request, session: SessionDep, user: FormUserDep,
                    candidate_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    """``POST /merges/{id}/undo``, recorded as undone by the desk login's name; back to the
    candidate page it was asked from (``candidate_id``), else the merge's target."""
    from crawler.service.routes import curation_answers

    merge = get_merge(session, merge_id)
    if merge is None:
        raise HTTPException(404, f"no merge {merge_id}")
    shown = int(candidate_id) if candidate_id.isascii() and candidate_id.isdigit() and int(candidate_id) in {
        merge.source_id, merge.target_id} else merge.target_id

    def change() -> str:
        with curation_answers():
            undo_merge(session, merge_id, by=user.who)
        return f"/desk/candidates/{shown}/edit?done=undone#merges"

    return _curated(request, session, user, shown, "merges", change)


@desk_router.post("/desk/candidates/{candidate_id}/delete", response_class=HTMLResponse)
def delete_form(candidate_id: int, request: Request, session: SessionDep, user: FormUserDep,
                confirm: Annotated[str, Form(max_length=10)] = "") -> Response:
    """``DELETE /candidates/{id}``, once the box saying it cannot be undone is ticked."""
    from crawler.service.routes import curation_answers

    def change() -> str:
        if confirm != "yes":
            raise HTTPException(422, "tick the box to confirm: deleting cannot be undone (deactivating can)")
        with curation_answers():
            delete_candidate(session, candidate_id)
        return "/"

    return _curated(request, session, user, candidate_id, "delete", change)
