"""The review desk (issue 18): the web app analysts use to compare, shortlist and look up
creators, served by ``wangzi serve`` beside the JSON API, on the same data and the same token.

* ``pages`` - every page and form (cohort table at ``/``, ``/desk/candidates/{id}``,
  ``/desk/compare``, ``/desk/shortlists``, exports, the lookup button and its event stream,
  ``/desk/leads``: discovery's queue, promote and reject; ``/desk/candidates/{id}/edit``:
  curation; ``/desk/candidates/new``: one candidate or a CSV upload);
* ``security`` - login (the API token exchanged for a session cookie), CSRF, security headers;
* ``view`` - the table's view as URL parameters; ``exports`` - CSV/XLSX; ``charts`` - follower
  series with their gaps; ``templating`` - Jinja2 with autoescaping and the desk's filters;
* ``templates/`` (Jinja2) and ``static/`` (the desk's CSS and JS, and ``static/vendor/``: htmx
  and uPlot, vendored from npm at pinned versions with their licences, ``vendor.toml``): the
  app works offline, with no build step.

:func:`mount_desk` wires it into the service's app (``crawler/service/app.py``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from crawler.desk.security import (
    COOKIE,
    SESSION_SECONDS,
    LoggedOut,
    LoginRequired,
    SecurityHeaders,
    current_user,
    desk_path,
    session_secret,
)

STATIC = Path(__file__).parent / "static"


def mount_desk(app: FastAPI, *, token: str | None, secure_cookies: bool = False) -> None:
    """Add the desk to the service: its pages, its static files under ``/desk/static``, the
    session cookie and the security headers (desk paths only; the JSON API is unchanged)."""
    from crawler.desk.pages import desk_router

    app.state.desk_logged_out = LoggedOut()
    app.include_router(desk_router)
    app.mount("/desk/static", StaticFiles(directory=STATIC), name="desk-static")
    app.add_middleware(SecurityHeaders)
    app.add_middleware(SessionMiddleware, secret_key=session_secret(token), session_cookie=COOKIE,
                       max_age=SESSION_SECONDS, same_site="lax", https_only=secure_cookies)
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]


async def _login_required(request: Request, exc: LoginRequired) -> Response:
    target = "/desk/login?" + urlencode({"next": exc.next_url})
    if request.headers.get("hx-request") == "true" or "text/event-stream" in request.headers.get("accept", ""):
        return Response("log in first", status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Desk pages answer errors as a page; the JSON API keeps FastAPI's JSON answers."""
    if not desk_path(request.url.path) or exc.status_code < 400:
        return await http_exception_handler(request, exc)
    from crawler.desk.pages import render

    user = current_user(request) if "session" in request.scope else None
    return render(request, "error.jinja", user, status_code=exc.status_code, status=exc.status_code,
                  message=str(exc.detail))
