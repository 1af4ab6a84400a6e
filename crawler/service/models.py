"""What the HTTP API reads and answers: the request bodies of lookups and of curation
(create, update, accounts, merges) and the public shapes of lookups, candidates, their
accounts, merges, imports and the ranking (the tables are in :mod:`storage.models`; these
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
    new_candidate: bool = Field(
        default=False, description="With name + handles none of which is registered: register another person even when "
        "candidates of that name exist (without it, such a name is 409 listing them).",
    )

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

    id: int
    platform: str
    handle: str | None
    platform_user_id: str | None
    profile_url: str | None


class CandidatePublic(BaseModel):
    """A registered candidate and their accounts."""

    id: int
    display_name: str
    aliases: list[str]
    notes: str | None = None
    active: bool
    merged_into: int | None = Field(default=None, description="Set while merged into that candidate (see /merges).")
    accounts: list[AccountPublic]

    @classmethod
    def from_rows(cls, candidate: Candidate, accounts: list[Any]) -> CandidatePublic:
        return cls(id=candidate.id, display_name=candidate.display_name, aliases=list(candidate.aliases or []),  # type: ignore[arg-type]
                   notes=candidate.notes, active=candidate.active, merged_into=candidate.merged_into_id,
                   accounts=[AccountPublic.model_validate(a) for a in accounts])


class CandidateBrief(BaseModel):
    """A candidate as a 409 lists it, for a person to choose one."""

    id: int
    display_name: str
    aliases: list[str]
    active: bool

    @classmethod
    def of(cls, candidate: Candidate) -> CandidateBrief:
        return cls(id=candidate.id, display_name=candidate.display_name, aliases=list(candidate.aliases or []),  # type: ignore[arg-type]
                   active=candidate.active)


class CandidateCreate(BaseModel):
    """A person to register (``POST /candidates``): checked as ``candidates add`` checks it."""

    name: str = Field(min_length=1, max_length=MAX_NAME, description="Display name (storage/names.py rules).")
    aliases: list[str] = Field(default_factory=list, max_length=50)
    notes: str | None = Field(default=None, max_length=10_000)
    handles: dict[str, str | list[str]] = Field(
        default_factory=dict, max_length=12,
        description="Platform -> handle, id or profile URL (or a list of them), e.g. {\"bilibili\": \"2\"}.")
    allow_same_name: bool = Field(default=False, description="Register another person with an existing candidate's name.")

    @field_validator("name")
    @classmethod
    def a_name_storage_accepts(cls, name: str) -> str:
        return clean_name(name)


class CandidateUpdate(BaseModel):
    """Changes to a candidate (``PATCH /candidates/{id}``): only what is given changes."""

    display_name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    aliases: list[str] | None = Field(default=None, max_length=50, description="Every alias (replaces them).")
    add_aliases: list[str] = Field(default_factory=list, max_length=50)
    remove_aliases: list[str] = Field(default_factory=list, max_length=50)
    notes: str | None = Field(default=None, max_length=10_000, description="New notes; \"\" removes them.")
    active: bool | None = Field(default=None, description="false deactivates, true reactivates.")
    allow_same_name: bool = False

    @field_validator("display_name")
    @classmethod
    def a_name_storage_accepts(cls, name: str | None) -> str | None:
        return None if name is None else clean_name(name)


class AccountCreate(BaseModel):
    """An account to give a candidate."""

    platform: str = Field(max_length=32)
    handle: str = Field(min_length=1, max_length=300, description="Handle, id or that platform's profile URL.")

    @field_validator("platform", "handle")
    @classmethod
    def without_control_characters(cls, text: str) -> str:
        refuse_characters(text, "account")
        return text


class MergeCreate(BaseModel):
    """Merge ``source_id`` into ``target_id`` (one person registered twice)."""

    source_id: int = Field(ge=1, le=MAX_ID, description="The candidate merged away (it becomes inactive).")
    target_id: int = Field(ge=1, le=MAX_ID, description="The candidate that stays and gains the source's rows.")
    note: str | None = Field(default=None, max_length=2000)
    by: str | None = Field(default=None, max_length=200, description="Who merges (recorded).")


class MergeUndo(BaseModel):
    by: str | None = Field(default=None, max_length=200, description="Who undoes it (recorded).")


class MergePublic(BaseModel):
    """A merge: what moved (rows per table), the aliases the target gained, whether it was undone."""

    id: int
    source_id: int
    target_id: int
    merged_at: str
    merged_by: str | None
    note: str | None
    moved: dict[str, int]
    added_aliases: list[str]
    undone_at: str | None
    undone_by: str | None
    left: dict[str, int] = Field(default_factory=dict, description="Rows not moved back (moved on since the merge).")

    @classmethod
    def of(cls, merge: Any) -> MergePublic:
        return cls(id=merge.id, source_id=merge.source_id, target_id=merge.target_id, merged_at=merge.merged_at.isoformat(),
                   merged_by=merge.merged_by, note=merge.note,
                   moved={table: len(ids) for table, ids in (merge.moved or {}).items()},
                   added_aliases=list(merge.added_aliases or []),
                   undone_at=merge.undone_at.isoformat() if merge.undone_at else None, undone_by=merge.undone_by,
                   left={table: len(ids) for table, ids in (merge.left or {}).items()})


class ImportedRow(BaseModel):
    row: int
    candidate_id: int
    display_name: str


class RejectedRow(BaseModel):
    row: int
    message: str


class ImportReportPublic(BaseModel):
    """What ``candidates import`` reports, row by row (rows numbered as a spreadsheet does)."""

    added: list[ImportedRow]
    rejected: list[RejectedRow]
    warnings: list[str]
    note: str | None = Field(default=None, description="How the file was decoded, when it was not UTF-8.")


class RankedCandidate(BaseModel):
    """One row of the ranking (what ``wangzi rank --json`` shows of it)."""

    rank: int
    candidate_id: int
    display_name: str
    score: float | None
    index: float | None
    coverage: float | None
    scores: dict[str, float | None]
    tier: str | None
    reference: str | None
    as_of: str
    followers_total: int | None
    growth_authenticity: float | None
    growth_flags: list[str] | None
    suspicious: bool
    synthetic_history: bool = Field(description="Computed from synthetic demo snapshots (wangzi demo), not real data.")
    why: list[dict[str, Any]]


class RankingPage(BaseModel):
    """A page of the ranking and where the next one starts (null at the end)."""

    by: str
    offset: int
    limit: int
    next_offset: int | None
    items: list[RankedCandidate]
