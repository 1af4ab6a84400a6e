"""On-demand lookup jobs (``POST /lookups``): adding, finding, counting and updating them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from storage.models import LookupJob, utcnow


def lookup_job(session: Session, job_id: str) -> LookupJob | None:
    """The job with this id; None for an unknown id and for text that is no job id at all
    (ids are UUIDs: a NUL byte, which PostgreSQL refuses, never reaches the database)."""
    try:
        canonical = str(uuid.UUID(job_id))
    except ValueError:
        return None
    return session.get(LookupJob, canonical)


def unfinished_jobs(session: Session) -> list[LookupJob]:
    return list(
        session.exec(select(LookupJob).where(or_(LookupJob.status == "queued", LookupJob.status == "running"))).all()
    )


def count_jobs(session: Session, status: str) -> int:
    return session.exec(select(func.count()).select_from(LookupJob).where(LookupJob.status == status)).one()


def add_lookup_job(session: Session, job_id: str, candidate_id: int, platforms: list[str]) -> LookupJob:
    job = LookupJob(id=job_id, candidate_id=candidate_id, platforms=platforms)
    session.add(job)
    return job


def requeue_unfinished(session: Session) -> list[str]:
    """The ids of the jobs a stopped service left queued or running, oldest first, all
    queued again (a running one's crawl died with the service)."""
    jobs = sorted(unfinished_jobs(session), key=lambda j: j.created_at)
    for job in jobs:
        job.status = "queued"
        session.add(job)
    return [j.id for j in jobs]


def update_job(session: Session, job_id: str, **values: Any) -> None:
    """Set a job's fields; a job that starts running or ends (finished, failed) is stamped
    with the time. An unknown job is left alone."""
    job = session.get(LookupJob, job_id)
    if job is None:
        return
    for key, value in values.items():
        setattr(job, key, value)
    if values.get("status") == "running":
        job.started_at = utcnow()
    if values.get("status") in {"finished", "failed"}:
        job.finished_at = utcnow()
    session.add(job)
