"""Who may use the desk and how its requests are protected.

* **Login**: the desk accepts the service's own bearer token (``WANGZI_API_TOKEN``), typed once
  at ``/desk/login`` with the analyst's name, and exchanges it for a session: Starlette's
  signed session cookie (``wangzi_desk``: HttpOnly, SameSite=Lax - so a shared link opens the view, while no other
  site's form or script sends it -, ``Secure`` with
  ``--secure-cookies``, 8 hours). The cookie is signed with a key derived from the token
  (HMAC-SHA256), so changing the token signs every session out; it holds a session id, the
  name, the CSRF token and the login time - never the token itself. Logging out clears it and
  refuses its id for the rest of the process's life.
* **CSRF**: every state-changing request (every POST) must carry the session's CSRF token, in a
  form field ``csrf_token`` or the ``X-CSRF-Token`` header (htmx requests, set by desk.js), and,
  when the browser sends one, an ``Origin`` of this service; compared in constant time. The
  login form has a token too (a pre-session one), so no other site can log a browser in.
* **Headers**: every desk answer has a Content-Security-Policy allowing scripts, styles and
  connections only from this service (no inline script or style, no ``eval``), no framing,
  ``nosniff``, a same-origin referrer policy and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, status
from starlette.requests import ClientDisconnect

#: The session cookie's name.
COOKIE = "wangzi_desk"
#: How long a login lasts, in seconds.
SESSION_SECONDS = 8 * 3600
#: Longest name an analyst may give at login (it is recorded with their shortlist changes).
MAX_WHO = 200

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def session_secret(token: str | None) -> str:
    """The key the session cookie is signed with: derived from the API token (a new token signs
    every session out); a random one per process when the service runs without a token."""
    if not token:
        return secrets.token_urlsafe(32)
    return hmac.new(token.encode(), b"wangzi desk session v1", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class DeskUser:
    """The analyst behind a request: the name given at login and the session's CSRF token."""

    who: str
    csrf: str
    sid: str


class LoggedOut:
    """Session ids logged out while this process runs (a signed cookie cannot be recalled, so a
    copy of one is refused here until it expires on its own)."""

    def __init__(self) -> None:
        self.sids: dict[str, float] = {}

    def add(self, sid: str) -> None:
        now = time.time()
        self.sids = {s: t for s, t in self.sids.items() if now - t < SESSION_SECONDS}
        self.sids[sid] = now

    def __contains__(self, sid: object) -> bool:
        return sid in self.sids


def token_matches(settings: Any, given: str) -> bool:
    """The token typed at login is the service's (constant time); anything goes with --no-auth."""
    if not settings.require_auth:
        return True
    return hmac.compare_digest(given.encode(), (settings.token or "").encode())


def login_csrf(request: Request) -> str:
    """The pre-session CSRF token of the login form (made on first use)."""
    token = request.session.get("login_csrf")
    if not token:
        token = request.session["login_csrf"] = secrets.token_urlsafe(32)
    return str(token)


def start_session(request: Request, who: str) -> DeskUser:
    """A fresh session for ``who`` (whatever the cookie held before is dropped: no fixation)."""
    request.session.clear()
    user = DeskUser(who=who, csrf=secrets.token_urlsafe(32), sid=secrets.token_urlsafe(16))
    request.session.update({"sid": user.sid, "who": user.who, "csrf": user.csrf, "at": int(time.time())})
    return user


def end_session(request: Request) -> None:
    sid = request.session.get("sid")
    if sid:
        request.app.state.desk_logged_out.add(str(sid))
    request.session.clear()


def current_user(request: Request) -> DeskUser | None:
    """The logged-in analyst, or None."""
    data = request.session
    sid, who, csrf = data.get("sid"), data.get("who"), data.get("csrf")
    if not (sid and who and csrf) or sid in request.app.state.desk_logged_out:
        return None
    return DeskUser(who=str(who), csrf=str(csrf), sid=str(sid))


class LoginRequired(Exception):
    """Raised by :func:`require_user`; answered with a redirect to the login page (or, for htmx
    and event-stream requests, 401 with ``HX-Redirect``)."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def require_user(request: Request) -> DeskUser:
    user = current_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


def same_origin(request: Request) -> bool:
    """No ``Origin`` (older browsers, same-origin navigations some send none for), or ours."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def check_csrf(request: Request, expected: str) -> None:
    """403 unless the request carries ``expected`` (header or form field) from our origin."""
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        try:
            given = (await request.form()).get("csrf_token")  # type: ignore[assignment]
        except ClientDisconnect:  # the service's body limit stopped the upload (the client has its 413)
            raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "request body too large") from None
    if not isinstance(given, str) or not given or not hmac.compare_digest(given.encode(), expected.encode()) \
            or not same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form is out of date or came from another site: reload the page and try again")


async def csrf_protected(request: Request) -> DeskUser:
    """Route dependency of every state-changing desk route: logged in, and the CSRF token checks."""
    user = require_user(request)
    await check_csrf(request, user.csrf)
    return user


def clean_next(value: str | None) -> str:
    """Where to go after login: a path on this service only (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def desk_path(path: str) -> bool:
    return path == "/" or path.startswith("/desk/") or path == "/desk"


class SecurityHeaders:
    """ASGI middleware: the desk's headers (CSP and the rest) on every answer under ``/`` and
    ``/desk/``; the JSON API's answers are left as they were."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Callable[..., Awaitable[None]]) -> None:
        if scope["type"] != "http" or not desk_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                for name, value in HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
