"""The service's factory: settings, the lookup queue and the router wired into one app."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from crawler import __version__
from crawler.service import DEFAULT_LOOKUP_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_UPLOAD, DEFAULT_WORKERS, UPLOAD_PATHS
from crawler.service.body_limit import BodySizeLimit
from crawler.service.dependencies import ServiceSettings
from crawler.service.lookups import LookupQueue
from crawler.service.routes import router
from crawler.service.shortlist_routes import shortlist_router
from storage.db import database_url as resolve_url
from storage.db import ensure_schema


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Migrate an empty database, then run the lookup workers while the app serves.

    What is alive once the app has started (the framework, SQLAlchemy, pydantic, the modules:
    ~200,000 objects) lives as long as the app, so it is moved out of the cyclic garbage
    collector's sight (``gc.freeze``): otherwise every full collection walks all of it again
    (~95 ms), and one came about every seventh desk page - most of the pages' p95
    (``benchmarks/web_app.py``). Unfrozen on shutdown, so that a process that builds many apps
    (the tests) can still collect the ones it is done with."""
    await asyncio.to_thread(ensure_schema, app.state.settings.database_url)
    await app.state.lookups.start()
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        await app.state.lookups.stop()


def create_app(
    database_url: str | None = None,
    *,
    token: str | None = None,
    workers: int = DEFAULT_WORKERS,
    max_body: int = DEFAULT_MAX_BODY,
    replay: str | Path | None = None,
    lookup_timeout: float = DEFAULT_LOOKUP_TIMEOUT,
    require_auth: bool = True,
    max_upload: int | None = None,
    secure_cookies: bool = False,
) -> FastAPI:
    """The service. ``token`` defaults to ``WANGZI_API_TOKEN``; without one it refuses to be
    built unless ``require_auth`` is False (local development only)."""
    url = resolve_url(database_url)
    # The token is the serving process's configuration, not a crawl setting: read from the
    # environment here (``wangzi serve`` checks it is set before building the app).
    token = token if token is not None else os.environ.get("WANGZI_API_TOKEN") or None
    if require_auth and not token:
        raise ValueError("WANGZI_API_TOKEN is not set: the service needs a token for Bearer authentication")
    app = FastAPI(
        title="Wangzi", version=str(__version__), lifespan=lifespan,
        docs_url=None, redoc_url=None, openapi_url=None,  # served by the router, behind the token
        description="On-demand lookups of cross-border creators and read access to candidates and features. "
        "Authenticate with `Authorization: Bearer <WANGZI_API_TOKEN>`.",
    )
    app.state.settings = ServiceSettings(database_url=url, token=token, require_auth=require_auth)
    app.state.lookups = LookupQueue(url, workers, str(replay) if replay else None, lookup_timeout)
    # The upload limit (POST /candidates/import) is the serving process's configuration, as the token.
    upload = max_upload if max_upload is not None else int(os.environ.get("WANGZI_API_MAX_UPLOAD") or DEFAULT_MAX_UPLOAD)
    app.add_middleware(BodySizeLimit, max_bytes=max_body, max_upload=upload, upload_paths=UPLOAD_PATHS)
    app.include_router(router)
    app.include_router(shortlist_router)
    # The review desk (crawler/desk): pages at / and /desk/, its session cookie, CSRF and headers.
    from crawler.desk import mount_desk

    mount_desk(app, token=token, secure_cookies=secure_cookies)
    return app
