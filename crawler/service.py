"""The HTTP service (``wangzi serve``): on-demand lookups and read access for other systems.

Routes (OpenAPI document at ``/openapi.json``, docs page at ``/docs``; every route but
``/health``, the docs included, needs ``Authorization: Bearer $WANGZI_API_TOKEN``):

* ``POST /lookups`` - a candidate id, or a name plus handles per platform -> ``202`` and a
  job id. Handles are validated by each platform's ``normalize_account`` (a handle, an id
  or that platform's own profile URL); the crawler builds every URL itself from the
  normalised account, so no caller can make it fetch an arbitrary URL.
* ``GET /lookups/{id}`` - status and, when done, each platform's profile and failures.
* ``GET /candidates``, ``GET /candidates/{id}``, ``GET /candidates/{id}/features``.

Crawls run in worker subprocesses (``wangzi lookup ID --json``: Scrapy's reactor cannot
restart inside a process), ``workers`` at once; more requests wait in a queue. Jobs are
kept in the ``lookupjob`` table, so a restarted service picks up the unfinished ones.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, model_validator

logger = logging.getLogger(__name__)

#: Largest request body accepted, in bytes (a lookup request is a few hundred bytes).
DEFAULT_MAX_BODY = 16 * 1024
#: Longest a lookup subprocess may run before it is stopped and the job marked failed.
DEFAULT_LOOKUP_TIMEOUT = 900.0
REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- API shapes


class LookupRequest(BaseModel):
    """Who to look up: a registered candidate, or a name plus handles per platform."""

    candidate_id: int | None = Field(default=None, ge=1, description="A registered candidate's id.")
    name: str | None = Field(default=None, min_length=1, max_length=200, description="Display name (with handles).")
    handles: dict[str, str] | None = Field(
        default=None, max_length=12,
        description="Platform -> handle, id or that platform's profile URL, e.g. {\"bilibili\": \"2\"}.",
    )
    platforms: list[str] | None = Field(default=None, max_length=12, description="Only these platforms.")

    @model_validator(mode="after")
    def one_way_to_say_who(self) -> "LookupRequest":
        if (self.candidate_id is None) == (self.name is None):
            raise ValueError("give either candidate_id, or name with handles")
        if self.name is not None and not self.handles:
            raise ValueError("a name needs handles: {\"<platform>\": \"<handle, id or profile URL>\"}")
        if self.candidate_id is not None and self.handles:
            raise ValueError("handles go with name, not with candidate_id")
        for text in (self.handles or {}).values():
            if len(text) > 300:
                raise ValueError("a handle is at most 300 characters")
        return self


class LookupAccepted(BaseModel):
    id: str
    status: str
    candidate_id: int
    url: str


class PlatformResult(BaseModel):
    profiles: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    stats: dict[str, Any] | None = None


class LookupStatus(BaseModel):
    id: str
    status: str = Field(description="queued | running | finished | failed")
    candidate_id: int | None
    run_id: int | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    platforms: dict[str, PlatformResult] = {}
    error: str | None = None


class AccountOut(BaseModel):
    platform: str
    handle: str | None
    platform_user_id: str | None
    profile_url: str | None


class CandidateOut(BaseModel):
    id: int
    display_name: str
    aliases: list[str]
    active: bool
    accounts: list[AccountOut]


# --------------------------------------------------------------------------- request limits


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with 413, whether announced by
    Content-Length or streamed in chunks."""

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Callable[..., Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0
        refused = False

        async def limited() -> dict[str, Any]:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    await self._refuse(send)
                    return {"type": "http.disconnect"}  # the app stops reading; its answer is dropped
            return message

        async def unless_refused(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited, unless_refused)

    async def _refuse(self, send: Callable[..., Awaitable[None]]) -> None:
        body = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- running lookups


class LookupQueue:
    """Runs lookups in subprocesses, ``workers`` at a time, in request order."""

    def __init__(self, database_url: str, workers: int, replay: str | None, timeout: float) -> None:
        self.database_url = database_url
        self.workers = max(1, workers)
        self.replay = replay
        self.timeout = timeout
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []
        self.running: set[str] = set()

    async def start(self) -> None:
        from storage.db import session_scope
        from storage.lookup_jobs import unfinished_jobs

        def pending() -> list[str]:
            with session_scope(self.database_url) as session:
                jobs = sorted(unfinished_jobs(session), key=lambda j: j.created_at)
                for job in jobs:
                    job.status = "queued"
                    session.add(job)
                return [j.id for j in jobs]

        for job_id in await asyncio.to_thread(pending):
            self.queue.put_nowait(job_id)
        self.tasks = [asyncio.create_task(self._work(), name=f"lookup-worker-{i}") for i in range(self.workers)]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def submit(self, job_id: str) -> None:
        self.queue.put_nowait(job_id)

    async def _work(self) -> None:
        while True:
            job_id = await self.queue.get()
            self.running.add(job_id)
            try:
                await self._run(job_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad job must not stop the worker
                logger.exception("lookup %s failed", job_id)
                await asyncio.to_thread(self._update, job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            finally:
                self.running.discard(job_id)
                self.queue.task_done()

    def _update(self, job_id: str, **values: Any) -> None:
        from storage.db import session_scope
        from storage.models import utcnow
        from storage.models import LookupJob

        with session_scope(self.database_url) as session:
            job = session.get(LookupJob, job_id)
            if job is None:
                return
            for key, value in values.items():
                setattr(job, key, value)
            if values.get("status") == "running":
                job.started_at = utcnow()
            if values.get("status") in {"finished", "failed"}:
                job.finished_at = utcnow()
            session.add(job)

    def _job(self, job_id: str) -> Any:
        from storage.db import session_scope
        from storage.models import LookupJob

        with session_scope(self.database_url) as session:
            return session.get(LookupJob, job_id)

    def command(self, candidate_id: int, platforms: list[str]) -> list[str]:
        args = [sys.executable, "-m", "crawler.cli", "lookup", str(candidate_id), "--json"]
        for platform in platforms:
            args += ["--platform", platform]
        if self.replay:
            args += ["--replay", self.replay]
        return args

    async def _run(self, job_id: str) -> None:
        job = await asyncio.to_thread(self._job, job_id)
        if job is None or job.status not in {"queued", "running"}:
            return
        await asyncio.to_thread(self._update, job_id, status="running")
        env = {**os.environ, "DATABASE_URL": self.database_url,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        process = await asyncio.create_subprocess_exec(
            *self.command(job.candidate_id, list(job.platforms or [])),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=str(REPO_ROOT),
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=self.timeout)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            await asyncio.to_thread(self._update, job_id, status="failed", error=f"lookup took longer than {self.timeout:.0f}s")
            return
        except asyncio.CancelledError:
            process.kill()
            raise
        try:
            summary = json.loads(stdout)
        except ValueError:
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            await asyncio.to_thread(
                self._update, job_id, status="failed",
                error=f"lookup exited with {process.returncode}: " + (" | ".join(tail) or "no output"),
            )
            return
        await asyncio.to_thread(self._update, job_id, status="finished", run_id=summary.get("run_id"), result=summary)


def per_platform(summary: dict[str, Any], platforms: list[str]) -> dict[str, PlatformResult]:
    """A lookup's summary (``wangzi lookup --json``) grouped by platform."""
    names = list(dict.fromkeys([*platforms, *(p["platform"] for p in summary.get("profiles", [])),
                                *(f["platform"] for f in summary.get("failures", []))]))
    stats = summary.get("stats") or {}
    return {
        name: PlatformResult(
            profiles=[p for p in summary.get("profiles", []) if p["platform"] == name],
            failures=[f for f in summary.get("failures", []) if f["platform"] == name],
            stats=stats.get(name),
        )
        for name in names
    }


# --------------------------------------------------------------------------- the app


def create_app(
    database_url: str | None = None,
    *,
    token: str | None = None,
    workers: int = 2,
    max_body: int = DEFAULT_MAX_BODY,
    replay: str | Path | None = None,
    lookup_timeout: float = DEFAULT_LOOKUP_TIMEOUT,
    require_auth: bool = True,
) -> FastAPI:
    """The service. ``token`` defaults to ``WANGZI_API_TOKEN``; without one it refuses to be
    built unless ``require_auth`` is False (local development only)."""
    from storage.db import database_url as resolve_url

    url = resolve_url(database_url)
    token = token if token is not None else os.environ.get("WANGZI_API_TOKEN") or None
    if require_auth and not token:
        raise ValueError("WANGZI_API_TOKEN is not set: the service needs a token for Bearer authentication")
    lookups = LookupQueue(url, workers, str(replay) if replay else None, lookup_timeout)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from storage.db import ensure_schema

        await asyncio.to_thread(ensure_schema, url)
        await lookups.start()
        yield
        await lookups.stop()

    app = FastAPI(
        title="Wangzi", version=_version(), lifespan=lifespan,
        docs_url=None, redoc_url=None, openapi_url=None,  # served below, behind the token
        description="On-demand lookups of cross-border creators and read access to candidates and features. "
        "Authenticate with `Authorization: Bearer <WANGZI_API_TOKEN>`.",
    )
    app.add_middleware(BodySizeLimit, max_bytes=max_body)
    app.state.lookups = lookups
    bearer = HTTPBearer(auto_error=False, description="The value of WANGZI_API_TOKEN")

    def authorized(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if not require_auth:
            return
        if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), (token or "").encode()):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorized)]

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    async def openapi_document() -> dict[str, Any]:
        return app.openapi()

    @app.get("/docs", include_in_schema=False, dependencies=guarded)
    async def docs_page() -> Any:
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/openapi.json", title="Wangzi API")

    @app.get("/health", tags=["service"], summary="Liveness and queue depth (no authentication)")
    async def health() -> dict[str, Any]:
        from storage.db import session_scope
        from storage.lookup_jobs import count_jobs

        def counts() -> dict[str, int]:
            with session_scope(url) as session:
                return {"queued": count_jobs(session, "queued"), "running": count_jobs(session, "running")}

        try:
            jobs = await asyncio.to_thread(counts)
        except Exception as exc:  # noqa: BLE001 - report, do not crash the probe
            return JSONResponse({"status": "error", "database": f"{type(exc).__name__}: {exc}"[:300]}, status_code=503)  # type: ignore[return-value]
        return {"status": "ok", "database": "ok", "workers": lookups.workers, **jobs}

    @app.post("/lookups", status_code=202, response_model=LookupAccepted, dependencies=guarded, tags=["lookups"],
              summary="Start a lookup of a candidate, or of a name plus handles")
    async def start_lookup(body: LookupRequest, request: Request) -> JSONResponse:
        candidate_id, platforms = await asyncio.to_thread(_resolve, url, body)
        from storage.db import session_scope
        from storage.models import LookupJob

        job_id = str(uuid.uuid4())

        def create() -> None:
            with session_scope(url) as session:
                session.add(LookupJob(id=job_id, candidate_id=candidate_id, platforms=platforms))

        await asyncio.to_thread(create)
        lookups.submit(job_id)
        location = str(request.url_for("lookup_status", job_id=job_id).path)
        accepted = LookupAccepted(id=job_id, status="queued", candidate_id=candidate_id, url=location)
        return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": location})

    @app.get("/lookups/{job_id}", response_model=LookupStatus, dependencies=guarded, tags=["lookups"],
             name="lookup_status", summary="A lookup's status and per-platform results and failures")
    async def lookup_status(job_id: str) -> LookupStatus:
        from storage.db import session_scope
        from storage.models import LookupJob

        def load() -> Any:
            with session_scope(url) as session:
                return session.get(LookupJob, job_id[:36])

        job = await asyncio.to_thread(load)
        if job is None:
            raise HTTPException(404, f"no lookup {job_id!r}")
        return LookupStatus(
            id=job.id, status=job.status, candidate_id=job.candidate_id, run_id=job.run_id,
            created_at=job.created_at.isoformat(), started_at=job.started_at.isoformat() if job.started_at else None,
            finished_at=job.finished_at.isoformat() if job.finished_at else None,
            platforms=per_platform(job.result, list(job.platforms or [])) if job.result else {}, error=job.error,
        )

    @app.get("/candidates", response_model=list[CandidateOut], dependencies=guarded, tags=["candidates"],
             summary="Registered candidates and their accounts")
    async def list_candidates(
        limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
        active: bool | None = Query(None, description="Only active (true) or inactive (false) candidates."),
    ) -> list[CandidateOut]:
        return await asyncio.to_thread(_candidates, url, limit, offset, active, None)

    @app.get("/candidates/{candidate_id}", response_model=CandidateOut, dependencies=guarded, tags=["candidates"],
             summary="One candidate and their accounts")
    async def get_candidate(candidate_id: int) -> CandidateOut:
        found = await asyncio.to_thread(_candidates, url, 1, 0, None, candidate_id)
        if not found:
            raise HTTPException(404, f"no candidate {candidate_id}")
        return found[0]

    @app.get("/candidates/{candidate_id}/features", dependencies=guarded, tags=["candidates"],
             summary="The candidate's newest feature snapshot (from the enrichment stage)")
    async def candidate_features(candidate_id: int) -> dict[str, Any]:
        return await asyncio.to_thread(_features, url, candidate_id)

    return app


def _version() -> str:
    try:
        from crawler import __version__

        return str(__version__)
    except ImportError:  # pragma: no cover
        return "0"


def _resolve(url: str, body: LookupRequest) -> tuple[int, list[str]]:
    """The candidate to look up (registered now for name + handles) and its platforms.

    Raises HTTPException 404/409/422 with a message a caller can act on."""
    from records import PLATFORMS
    from spiders.pages.registry import normalize_account
    from storage.db import session_scope
    from storage.models import Candidate
    from storage.candidates import attach_account, find_account

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
    with session_scope(url) as session:
        if body.candidate_id is not None:
            candidate = session.get(Candidate, body.candidate_id)
            if candidate is None:
                raise HTTPException(404, f"no candidate {body.candidate_id}")
        else:
            owners = {a.candidate_id for a in (find_account(session, r) for r in refs) if a is not None and a.candidate_id}
            if len(owners) > 1:
                raise HTTPException(409, f"these handles belong to different candidates: {sorted(owners)}")
            if owners:
                candidate = session.get(Candidate, owners.pop())
            else:
                # A new person (a name alone never merges two people who share it).
                candidate = Candidate(display_name=(body.name or "").strip())
                session.add(candidate)
                session.flush()
            for ref in refs:
                attach_account(session, candidate, ref)
        from sqlmodel import select

        from storage.models import Account

        accounts = set(session.exec(select(Account.platform).where(Account.candidate_id == candidate.id)).all())
        platforms = [p for p in (body.platforms or PLATFORMS) if p in accounts or p in {r.platform for r in refs}]
        if not platforms:
            raise HTTPException(422, f"candidate {candidate.id} has no account on {', '.join(body.platforms or PLATFORMS)}")
        return int(candidate.id), platforms  # type: ignore[arg-type]


def _candidates(url: str, limit: int, offset: int, active: bool | None, candidate_id: int | None) -> list[CandidateOut]:
    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import Account, Candidate

    with session_scope(url) as session:
        statement = select(Candidate).order_by(Candidate.id)
        if candidate_id is not None:
            statement = statement.where(Candidate.id == candidate_id)
        if active is not None:
            statement = statement.where(Candidate.active == active)
        rows = session.exec(statement.offset(offset).limit(limit)).all()
        ids = [c.id for c in rows]
        accounts: dict[int, list[AccountOut]] = {}
        if ids:
            for account in session.exec(select(Account).where(Account.candidate_id.in_(ids)).order_by(Account.id)):  # type: ignore[union-attr]
                accounts.setdefault(account.candidate_id, []).append(  # type: ignore[arg-type]
                    AccountOut(platform=account.platform, handle=account.handle,
                               platform_user_id=account.platform_user_id, profile_url=account.profile_url)
                )
        return [CandidateOut(id=c.id, display_name=c.display_name, aliases=list(c.aliases or []), active=c.active,  # type: ignore[arg-type]
                             accounts=accounts.get(c.id, [])) for c in rows]  # type: ignore[arg-type]


def _features(url: str, candidate_id: int) -> dict[str, Any]:
    try:
        from storage.models import FeatureSnapshot  # type: ignore[attr-defined]
    except (ModuleNotFoundError, ImportError):
        raise HTTPException(404, "features are not available in this installation (storage.features is missing)") from None
    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import Candidate

    with session_scope(url) as session:
        if session.get(Candidate, candidate_id) is None:
            raise HTTPException(404, f"no candidate {candidate_id}")
        newest = [FeatureSnapshot.id.desc()]  # type: ignore[attr-defined]
        if hasattr(FeatureSnapshot, "as_of"):
            newest.insert(0, FeatureSnapshot.as_of.desc())  # type: ignore[attr-defined]
        row = session.exec(
            select(FeatureSnapshot).where(FeatureSnapshot.candidate_id == candidate_id).order_by(*newest)  # type: ignore[attr-defined]
        ).first()
        if row is None:
            raise HTTPException(404, f"no features computed yet for candidate {candidate_id} (run the enrichment stage)")
        return json.loads(json.dumps(row.model_dump(), default=str))
