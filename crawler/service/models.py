"""What the HTTP API reads and answers: the request body of a lookup and the public shapes
of lookups, candidates and their accounts (the tables are in :mod:`storage.models`; these
are what a client sees of them, as SQLModel's ``HeroCreate``/``HeroPublic`` families)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.candidates import MAX_ID
from storage.models import Candidate, LookupJob
from storage.names import MAX_NAME, clean_name, refuse_characters


class LookupCreate(BaseModel):
    """Who to look up: a registered candidate, or a name plus handles per platform."""

    candidate_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="A registered candidate's id.")
    name: str | None = Field(
        default=None, min_length=1, max_length=MAX_NAME,
        description="Display name (with handles). Checked like every candidate's name: no control or invisible "
        "characters, not starting with = + - @ (a spreadsheet formula).",
    )
    handles: dict[str, str] | None = Field(
        default=None, max_length=12,
        description="Platform -> handle, id or that platform's profile URL, e.g. {\"bilibili\": \"2\"}.",
    )
    platforms: list[str] | None = Field(default=None, max_length=12, description="Only these platforms.")

    @field_validator("name")
    @classmethod
    def a_name_storage_accepts(cls, name: str | None) -> str | None:
        """The one validation of names (the CLI and CSV import use it too)."""
        return None if name is None else clean_name(name)

    @field_validator("handles")
    @classmethod
    def handles_without_control_characters(cls, handles: dict[str, str] | None) -> dict[str, str] | None:
        for platform, text in (handles or {}).items():
            refuse_characters(platform, "platform")
            refuse_characters(text, f"{platform} handle")
        return handles

    @field_validator("platforms")
    @classmethod
    def platforms_without_control_characters(cls, platforms: list[str] | None) -> list[str] | None:
        for name in platforms or []:
            refuse_characters(name, "platform")
        return platforms

    @model_validator(mode="after")
    def one_way_to_say_who(self) -> LookupCreate:
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
    """A lookup taken: its id and where to follow it (also sent as the Location header)."""

    id: str
    status: str
    candidate_id: int
    url: str


class PlatformResult(BaseModel):
    """What one platform gave in a lookup."""

    profiles: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    stats: dict[str, Any] | None = None


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


class LookupPublic(BaseModel):
    """A lookup's status and, once done, each platform's profiles and failures."""

    id: str
    status: str = Field(description="queued | running | finished | failed")
    candidate_id: int | None
    run_id: int | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    platforms: dict[str, PlatformResult] = {}
    error: str | None = None

    @classmethod
    def from_job(cls, job: LookupJob) -> LookupPublic:
        return cls(
            id=job.id, status=job.status, candidate_id=job.candidate_id, run_id=job.run_id,
            created_at=job.created_at.isoformat(), started_at=job.started_at.isoformat() if job.started_at else None,
            finished_at=job.finished_at.isoformat() if job.finished_at else None,
            platforms=per_platform(job.result, list(job.platforms or [])) if job.result else {}, error=job.error,
        )


class AccountPublic(BaseModel):
    """A candidate's account on one platform."""

    model_config = ConfigDict(from_attributes=True)

    platform: str
    handle: str | None
    platform_user_id: str | None
    profile_url: str | None


class CandidatePublic(BaseModel):
    """A registered candidate and their accounts."""

    id: int
    display_name: str
    aliases: list[str]
    active: bool
    accounts: list[AccountPublic]

    @classmethod
    def from_rows(cls, candidate: Candidate, accounts: list[Any]) -> CandidatePublic:
        return cls(id=candidate.id, display_name=candidate.display_name, aliases=list(candidate.aliases or []),  # type: ignore[arg-type]
                   active=candidate.active, accounts=[AccountPublic.model_validate(a) for a in accounts])
