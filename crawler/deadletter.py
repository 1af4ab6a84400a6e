"""Dead letters: items the database would not take, kept on disk until it will.

When the storage pipeline cannot store an item even after retrying (disk full, a database
locked for longer than its busy timeout, a PostgreSQL server restarting), the item is
appended as one JSON line to ``WANGZI_DEAD_LETTER_DIR/run-<run id>.jsonl`` together with the
error, instead of being lost. ``wangzi crawl --retry-dead-letters`` re-applies every file
through the same writer (``storage.writer.write_items``), which is idempotent: re-applying a
letter twice, or one the crawl stored after all, writes nothing new. Files whose letters were
all stored move to ``applied/``; letters that still fail stay where they are.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from records import (
    AccountRef,
    Failure,
    FailureItem,
    FailureKind,
    FeedFailureItem,
    Post,
    PostsItem,
    Profile,
    ProfileItem,
    Provenance,
)
from storage.db import session_scope
from storage.writer import write_items

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- item <-> JSON


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_when(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _post_json(post: Post) -> dict[str, Any]:
    return {**post.to_json(), "published_at": _when(post.published_at)}


def _post(data: dict[str, Any]) -> Post:
    return Post(**{**data, "published_at": _parse_when(data.get("published_at")), "approximate": tuple(data.get("approximate") or ())})


def _provenance_json(p: Provenance) -> dict[str, Any]:
    return {"source_url": p.source_url, "parser": p.parser, "parser_version": p.parser_version,
            "payload_sha256": p.payload_sha256, "captured_at": _when(p.captured_at), "http_status": p.http_status}


def _provenance(data: dict[str, Any]) -> Provenance:
    return Provenance(**{**data, "captured_at": _parse_when(data["captured_at"])})


def item_to_json(item: Any) -> dict[str, Any]:
    """A JSON-ready dict that :func:`item_from_json` turns back into an equal item."""
    if isinstance(item, FeedFailureItem):
        return {"type": "feed_failure", "candidate_id": item.candidate_id, "source": item.source, "url": item.url,
                "occurred_at": _when(item.occurred_at), "failure": _failure_json(item.failure)}
    account = vars(item.account).copy()
    if isinstance(item, ProfileItem):
        profile = item.profile.to_json()
        profile["recent_posts"] = [_post_json(p) for p in item.profile.recent_posts]
        return {"type": "profile", "account": account, "profile": profile, "provenance": _provenance_json(item.provenance)}
    if isinstance(item, PostsItem):
        return {"type": "posts", "account": account, "posts": [_post_json(p) for p in item.posts],
                "provenance": _provenance_json(item.provenance)}
    if isinstance(item, FailureItem):
        return {"type": "failure", "account": account, "url": item.url, "occurred_at": _when(item.occurred_at),
                "failure": _failure_json(item.failure), "profile_read": item.profile_read}
    raise TypeError(f"cannot keep a {type(item).__name__} as a dead letter")


def _failure_json(failure: Failure) -> dict[str, Any]:
    return {"kind": failure.kind.value, "detail": failure.detail, "status": failure.status}


def _failure(data: dict[str, Any]) -> Failure:
    return Failure(FailureKind(data["kind"]), data["detail"], data["status"])


def item_from_json(data: dict[str, Any]) -> Any:
    kind = data["type"]
    if kind == "feed_failure":
        return FeedFailureItem(candidate_id=data["candidate_id"], source=data["source"], url=data["url"],
                               failure=_failure(data["failure"]),
                               occurred_at=_parse_when(data["occurred_at"]) or datetime.now(timezone.utc))
    account = AccountRef(**data["account"])
    if kind == "profile":
        raw = dict(data["profile"])
        profile = Profile(**{
            **raw,
            "joined_at": _parse_when(raw.get("joined_at")),
            "approximate": tuple(raw.get("approximate") or ()),
            "lower_bound": tuple(raw.get("lower_bound") or ()),
            "links": tuple(raw.get("links") or ()),
            "recent_posts": tuple(_post(p) for p in raw.get("recent_posts") or ()),
        })
        return ProfileItem(account=account, profile=profile, provenance=_provenance(data["provenance"]))
    if kind == "posts":
        return PostsItem(account=account, posts=tuple(_post(p) for p in data["posts"]), provenance=_provenance(data["provenance"]))
    if kind == "failure":
        return FailureItem(account=account, failure=_failure(data["failure"]),
                           url=data["url"], occurred_at=_parse_when(data["occurred_at"]) or datetime.now(timezone.utc),
                           profile_read=bool(data.get("profile_read", False)))
    raise ValueError(f"unknown dead letter type {kind!r}")


# --------------------------------------------------------------------------- the box


class DeadLetterBox:
    """Appends letters to ``<directory>/run-<run id>.jsonl`` (created on first use)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path_for(self, run_id: int | None) -> Path:
        return self.directory / f"run-{run_id if run_id is not None else 'none'}.jsonl"

    def append(self, item: Any, run_id: int | None, error: BaseException | str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(run_id)
        letter = {"run_id": run_id, "error": str(error)[:500], "error_type": type(error).__name__ if not isinstance(error, str) else "",
                  "kept_at": datetime.now(timezone.utc).isoformat(), "item": item_to_json(item)}
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(letter, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return path

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("*.jsonl")) if self.directory.is_dir() else []


@dataclass
class RetryReport:
    applied: int = 0  # letters stored now (or found already stored)
    rows: dict[str, int] = field(default_factory=dict)  # rows actually written, by kind
    still_failing: list[str] = field(default_factory=list)  # "file:line: error"
    files_done: list[str] = field(default_factory=list)


def retry_dead_letters(directory: str | Path, database_url: str | None) -> RetryReport:
    """Re-apply every letter; idempotent. Files fully applied move to ``applied/``."""
    box = DeadLetterBox(directory)
    report = RetryReport()
    for path in box.files():
        remaining: list[str] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                letter = json.loads(line)
                item = item_from_json(letter["item"])
                with session_scope(database_url) as session:
                    counts = write_items(session, [item], letter.get("run_id"))
            except Exception as exc:  # noqa: BLE001 - a letter that still fails stays in its file
                remaining.append(line)
                report.still_failing.append(f"{path.name}:{number}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            report.applied += 1
            for key, value in counts.items():
                report.rows[key] = report.rows.get(key, 0) + value
        if remaining:
            path.write_text("\n".join(remaining) + "\n", encoding="utf-8")
        else:
            done = box.directory / "applied"
            done.mkdir(exist_ok=True)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            path.replace(done / f"{path.stem}-{stamp}.jsonl")
            report.files_done.append(path.name)
    return report
