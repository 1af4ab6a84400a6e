"""Typed failures: why a fetch produced no data.

A blocked, captcha, login-wall, rate-limited, deleted or private answer is a value of
:class:`Failure`, never a snapshot; parsers return one (or raise :class:`ParseError`, which
the spiders and ``wangzi parse`` turn into one).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class FailureKind(str, enum.Enum):
    """Why a fetch produced no data. Stored as text in ``FetchFailure.kind``."""

    RATE_LIMITED = "rate_limited"
    BLOCKED = "blocked"
    CAPTCHA = "captcha"
    LOGIN_REQUIRED = "login_required"
    NOT_FOUND = "not_found"
    PRIVATE = "private"
    UNRECOGNIZED = "unrecognized"
    HTTP_ERROR = "http_error"
    NETWORK = "network"
    #: Not requested: the URL is not http(s) to a public host (another scheme, credentials in
    #: it, or a host that is or resolves to a loopback, private, link-local, multicast,
    #: reserved or unspecified address; ``spiders.pages.public_url``).
    REFUSED = "refused"


@dataclass(frozen=True)
class Failure:
    """A typed answer of "no data": what happened and a short human detail."""

    kind: FailureKind
    detail: str = ""
    status: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"error": self.kind.value, "detail": self.detail, "status": self.status}


#: Detail prefix of the failures a platform's circuit breaker gives without asking the platform
#: (``crawler.middlewares.circuit``): they say nothing about the account and never count as refusals.
CIRCUIT_DETAIL = "circuit open"


class ParseError(Exception):
    """Raised inside parsers for input they cannot read; turned into ``Failure`` at the edge."""

    def __init__(self, kind: FailureKind, detail: str, status: int | None = None) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.failure = Failure(kind, detail, status)
