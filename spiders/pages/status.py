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


def status_failure(status: int | None, table: StatusTable = COMMON_STATUSES, what: str = "") -> Failure | None:
    """The typed failure for an HTTP error status, or None for 2xx/3xx and an unknown status.

    ``table`` is the platform's own meaning of a status; a status it does not list is
    ``http_error`` ("HTTP 503"). ``what`` prefixes the detail ("feed: HTTP 429").
    """
    if status is None or status < 400:
        return None
    kind, detail = table.get(status, (FailureKind.HTTP_ERROR, "HTTP {status}"))
    detail = detail.format(status=status)
    return Failure(kind, f"{what}: {detail}" if what else detail, status)
