"""What routes depend on: the service's settings, a database session per request, the
lookup queue, and the bearer-token check."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crawler.service.lookups import LookupQueue
from storage.db import session_scope


@dataclass(frozen=True)
class ServiceSettings:
    """How one service instance runs (``create_app`` sets it on ``app.state``)."""

    database_url: str
    token: str | None
    require_auth: bool


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_lookups(request: Request) -> LookupQueue:
    return request.app.state.lookups  # type: ignore[no-any-return]


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
LookupsDep = Annotated[LookupQueue, Depends(get_lookups)]


def get_session(settings: SettingsDep) -> Iterator[Any]:
    """One unit of work per request: committed when the route returns, rolled back when it
    raises (an ``HTTPException`` included), in both cases before the answer is sent."""
    with session_scope(settings.database_url) as session:
        yield session


#: The request's session (``scope="function"``: closed as soon as the route returns, so what
#: it wrote is committed before the answer leaves and before any background task runs).
SessionDep = Annotated[Any, Depends(get_session, scope="function")]

bearer = HTTPBearer(auto_error=False, description="The value of WANGZI_API_TOKEN")


def require_token(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """401 unless the request carries ``Authorization: Bearer <the service's token>``
    (compared in constant time); nothing is checked when the service runs with ``--no-auth``."""
    if not settings.require_auth:
        return
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), (settings.token or "").encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token",
                            headers={"WWW-Authenticate": "Bearer"})


#: Route dependencies of every route but ``/health``.
guarded = [Depends(require_token)]
