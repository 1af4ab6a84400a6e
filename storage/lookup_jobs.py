"""On-demand lookup jobs (``POST /lookups``): finding and counting them."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, select

from storage.models import LookupJob


def lookup_job(session: Session, job_id: str) -> LookupJob | None:
    return session.get(LookupJob, job_id)


def unfinished_jobs(session: Session) -> list[LookupJob]:
    return list(
        session.exec(select(LookupJob).where(or_(LookupJob.status == "queued", LookupJob.status == "running"))).all()
    )


def count_jobs(session: Session, status: str) -> int:
    return session.exec(select(func.count()).select_from(LookupJob).where(LookupJob.status == status)).one()
