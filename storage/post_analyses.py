"""Each post's text analysis, kept by enrich (table ``posttextanalysis``, migration 0022).

Enrich analyses the text of every recent post of a candidate it computes: its language,
keyword groups, brands, foreign places and paid-partnership disclosures
(:func:`enrichment.features.content.analyse_posts`). A post's title and text are written once
(``storage/writer.py`` inserts a post and never updates it), and the analysis depends only
on that text and on the analyser, so a full enrich need not analyse 80,000 texts again:
enrich keeps each analysis in its compact text form, with

* ``analyser``: the fingerprint of what made it (the dictionaries, the analysing code, the
  language model's version); an analysis made by another analyser is never returned;
* ``text_digest``: a digest of the text it was made of; the caller uses a kept analysis only
  when it names the text read now.

This module stores and reads those strings; what they mean is
:mod:`enrichment.features.content`'s. The rows are a cache: deleting them loses nothing (the
next enrich analyses the posts again).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlmodel import Session

from storage.db import among_ids, upsert
from storage.models import PostTextAnalysis, utcnow


def kept_analyses(session: Session, post_ids: Sequence[int], analyser: str) -> dict[int, tuple[str, str]]:
    """Post id -> (text digest, analysis) of the kept analyses these posts have from
    ``analyser``."""
    if not post_ids:
        return {}
    rows = session.execute(
        select(PostTextAnalysis.post_id, PostTextAnalysis.text_digest, PostTextAnalysis.analysis)
        .where(among_ids(session, PostTextAnalysis.post_id, sorted(set(post_ids))), PostTextAnalysis.analyser == analyser)
    ).all()
    return {post_id: (digest, analysis) for post_id, digest, analysis in rows}


def keep_analyses(session: Session, analyses: Iterable[tuple[int, str, str]], analyser: str) -> int:
    """Store (post id, text digest, analysis) rows made by ``analyser``, replacing what a post
    had (made by another analyser, or of another text). Returns how many were written."""
    now = utcnow()
    return upsert(session, PostTextAnalysis, [
        {"post_id": post_id, "analyser": analyser, "text_digest": digest, "analysis": analysis, "analysed_at": now}
        for post_id, digest, analysis in analyses], key="post_id")
