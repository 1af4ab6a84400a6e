"""HTTP status -> typed failure, shared by every page module.

Each platform keeps only its own table of what an error status means there (Bilibili's 412
is risk control, Weibo's 418 a burst block, X's 401 a refused session); everything else
is the same everywhere: below 400 is no failure, an unlisted status is ``http_error``.
"""

from __future__ import annotations

from collections.abc import Mapping

from records import Failure, FailureKind

#: HTTP status -> (failure kind, detail). The detail may name ``{status}``.
StatusTable = Mapping[int, tuple[FailureKind, str]]

#: What most platforms mean by the two statuses every one of them sends.
COMMON_STATUSES: StatusTable = {
    404: (FailureKind.NOT_FOUND, "HTTP 404"),
    429: (FailureKind.RATE_LIMITED, "HTTP 429"),
}


#: What an error status not in a platform's table means unless it says otherwise.
UNLISTED_STATUS: tuple[FailureKind, str] = (FailureKind.HTTP_ERROR, "HTTP {status}")


def status_failure(
    status: int | None,
    table: StatusTable = COMMON_STATUSES,
    what: str = "",
    *,
    otherwise: tuple[FailureKind, str] | None = UNLISTED_STATUS,
) -> Failure | None:
    """The typed failure for an HTTP error status, or None for 2xx/3xx.

    ``table`` is the platform's own meaning of a status; a status it does not list is
    ``otherwise``: ``http_error`` ("HTTP 503") unless the platform words it its own way
    ("HTTP 503 for the channel feed"), or None where the body of such an answer says what
    it is (a wall page sent with a 403) and the parser reads it. ``what`` prefixes the
    detail ("feed: HTTP 429").
    """
    if status is None or status < 400:
        return None
    meaning = table.get(status, otherwise)
    if meaning is None:
        return None
    kind, detail = meaning
    detail = detail.format(status=status)
    return Failure(kind, f"{what}: {detail}" if what else detail, status)
