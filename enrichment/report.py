"""A self-contained HTML report about one candidate (``wangzi report``).

One file, no network: the CSS is inline and every chart is an SVG drawn here in Python,
so the page opens the same from an e-mail attachment as from a web server. Sections:
indices with their breakdown (tier, reference, every component; chart), follower-growth
authenticity, follower history per platform (charts), growth,
brands by country (chart), press timeline with links, and data freshness.

:func:`load_report` reads the database through storage's named functions (one candidate, so
whole histories are fine); :func:`render_report` is a pure function of the loaded
:class:`ReportData`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlmodel import Session

from enrichment.features import GROWTH_WINDOWS, PLATFORMS, STALE_AFTER_DAYS, PressRow
from enrichment.schema import (
    COMPOSITE,
    COVERAGE_COLUMNS,
    INDEX_COLUMNS,
    SCORE_COLUMNS,
    coverage_column,
    index_column,
    score_column,
)
from enrichment.stage import explain_candidate, load_press
from storage.account_history import follower_history, newest_failure
from storage.candidates import candidate_accounts, get_candidate
from storage.features import latest_feature_snapshot

PALETTE = ["#d94f4f", "#3b7dd8", "#2f9e6e", "#e0912f", "#8a5cc7", "#1aa3b8", "#c7508f", "#7a8a2e", "#5a6b7d", "#b5651d"]
INDEX_LABELS = {"leadership": "Import-consumption leadership", "sales_driving": "International goods sales-driving",
                "influence": "International influence"}


@dataclass
class AccountFreshness:
    platform: str
    handle: str | None
    profile_url: str | None
    snapshots: int
    newest: datetime | None
    last_failure: str | None = None
    last_failure_at: datetime | None = None


@dataclass
class ReportData:
    candidate_id: int
    display_name: str
    aliases: list[str]
    generated_at: datetime
    history: dict[str, list[tuple[datetime, int, bool]]] = field(default_factory=dict)  # platform -> (time, followers, rounded)
    features: dict[str, Any] | None = None
    indices: dict[str, float | None] = field(default_factory=dict)  # leadership_index, ..._coverage, ..._score
    top_contributors: dict[str, Any] = field(default_factory=dict)
    breakdown: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # index -> components
    computed_at: datetime | None = None
    as_of: datetime | None = None
    schema_version: str | None = None
    press: list[PressRow] | None = None
    accounts: list[AccountFreshness] = field(default_factory=list)
    explanation: dict[str, Any] | None = None  # enrichment.stage.explain_candidate


# --------------------------------------------------------------------------- loading


def load_report(session: Session, candidate_id: int, *, weights: Any = None, cohort: Any = None) -> ReportData:
    """Everything the report shows about one candidate (whole histories: one candidate is few rows).
    ``weights`` and ``cohort`` go to :func:`enrichment.stage.explain_candidate` (the review desk
    passes the live cohort's reference it keeps)."""
    candidate = get_candidate(session, candidate_id)
    if candidate is None:
        raise ValueError(f"no candidate {candidate_id}")
    data = ReportData(candidate_id, candidate.display_name, list(candidate.aliases or []), datetime.now(timezone.utc))
    for account in candidate_accounts(session, [candidate_id]).get(candidate_id, []):
        rows = follower_history(session, account.id)  # type: ignore[arg-type]
        points = [(t, f, "followers" in (a or []) or "followers" in (lb or [])) for t, f, a, lb in rows if f is not None]
        if points:
            data.history.setdefault(account.platform, []).extend(points)
        failure = newest_failure(session, account.id)  # type: ignore[arg-type]
        data.accounts.append(AccountFreshness(
            account.platform, account.handle or account.platform_user_id, account.profile_url, len(rows),
            rows[-1][0] if rows else None, failure[0] if failure else None, failure[1] if failure else None,
        ))
    for points in data.history.values():
        points.sort(key=lambda p: p[0])

    snapshot = latest_feature_snapshot(session, candidate_id)
    if snapshot is not None:
        data.features = dict(snapshot.features or {})
        ranking = snapshot.ranking
        data.indices = {name: getattr(ranking, name, None) for name in INDEX_COLUMNS + COVERAGE_COLUMNS + SCORE_COLUMNS}
        data.top_contributors = dict((ranking.top_contributors if ranking is not None else None) or {})
        data.computed_at, data.as_of, data.schema_version = snapshot.computed_at, snapshot.as_of, snapshot.schema_version
        # Every component's value, tier group, percentile and points against the reference the row was
        # ranked against (what `wangzi explain` and the API show; the stored top contributors hold a few).
        data.explanation = explain_candidate(session, candidate_id, weights=weights, cohort=cohort)
        if data.explanation is not None:
            data.breakdown = {index["index"]: index["components"] for index in data.explanation["indices"]}

    # None when the press search never ran: unknown, not "no mentions" (the features' rule).
    data.press = load_press(session, [candidate_id])[0][candidate_id]
    return data


# --------------------------------------------------------------------------- SVG charts


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt_count(value: float | int | None) -> str:
    if value is None:
        return "–"
    value = float(value)
    for limit, suffix in ((1e8, "亿"), (1e4, "万")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:,.0f}"


def _safe_url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("http://", "https://")) else None


def line_chart(points: Sequence[tuple[datetime, int, bool]], color: str, *, width: int = 520, height: int = 150,
               title: str = "") -> str:
    """Followers over time; hollow dots mark rounded numbers."""
    pad_left, pad_right, pad_top, pad_bottom = 64, 12, 22, 26
    inner_w, inner_h = width - pad_left - pad_right, height - pad_top - pad_bottom
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    values = [p[1] for p in points]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    span = (t1 - t0) or 1.0

    def xy(t: datetime, v: int) -> tuple[float, float]:
        x = pad_left + (t.timestamp() - t0) / span * inner_w if t1 > t0 else pad_left + inner_w / 2
        return x, pad_top + (1 - (v - low) / (high - low)) * inner_h

    coords = [xy(t, v) for t, v, _ in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
        f'<text x="{pad_left}" y="14" class="t">{_e(title)}</text>',
        f'<line x1="{pad_left}" y1="{pad_top + inner_h}" x2="{width - pad_right}" y2="{pad_top + inner_h}" class="axis"/>',
        f'<line x1="{pad_left}" y1="{pad_top}" x2="{pad_left}" y2="{pad_top + inner_h}" class="axis"/>',
        f'<text x="{pad_left - 6}" y="{pad_top + 4}" class="l" text-anchor="end">{_e(_fmt_count(high))}</text>',
        f'<text x="{pad_left - 6}" y="{pad_top + inner_h}" class="l" text-anchor="end">{_e(_fmt_count(low))}</text>',
        f'<text x="{pad_left}" y="{height - 8}" class="l">{points[0][0]:%Y-%m-%d}</text>',
        f'<text x="{width - pad_right}" y="{height - 8}" class="l" text-anchor="end">{points[-1][0]:%Y-%m-%d}</text>',
    ]
    if len(coords) > 1:
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
    step = max(1, len(points) // 60)  # at most ~60 dots
    for i, ((x, y), (t, v, rounded)) in enumerate(zip(coords, points)):
        if i % step and i != len(points) - 1 and not rounded:
            continue
        fill = "white" if rounded else color
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{fill}" stroke="{color}">'
                     f'<title>{t:%Y-%m-%d %H:%M} · {v:,}{" (rounded)" if rounded else ""}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(items: Sequence[tuple[str, float | None, str]], *, maximum: float = 100.0, width: int = 520,
              title: str = "", color: str = "#3b7dd8") -> str:
    """Horizontal bars: (label, value or None, note). None draws an empty, labelled row."""
    row, label_w, pad_top, note_w = 22, 200, 24, 170
    height = pad_top + row * max(1, len(items)) + 8
    bar_w = width - label_w - note_w
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
             f'<text x="0" y="14" class="t">{_e(title)}</text>']
    for i, (label, value, note) in enumerate(items):
        y = pad_top + i * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" class="l" text-anchor="end">{_e(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row - 8}" class="track"/>')
        if value is not None:
            w = max(1.0, min(1.0, value / maximum if maximum else 0) * bar_w)
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{color}"><title>{_e(note)}</title></rect>')
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}" class="l">{_e(note if value is not None else "no data")}</text>')
    parts.append("</svg>")
    return "".join(parts)


def timeline(press: Sequence[PressRow], *, width: int = 760, height: int = 90) -> str:
    """Press mentions on a time axis; each dot links to the article."""
    dated = sorted((m for m in press if m.published_at is not None), key=lambda m: m.published_at)  # type: ignore[arg-type, return-value]
    pad = 20
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="press timeline">',
             f'<line x1="{pad}" y1="{height / 2}" x2="{width - pad}" y2="{height / 2}" class="axis"/>']
    if dated:
        t0, t1 = dated[0].published_at.timestamp(), dated[-1].published_at.timestamp()  # type: ignore[union-attr]
        span = (t1 - t0) or 1.0
        for i, mention in enumerate(dated):
            x = pad + ((mention.published_at.timestamp() - t0) / span if t1 > t0 else 0.5) * (width - 2 * pad)  # type: ignore[union-attr]
            y = height / 2 + (-14 if i % 2 else 14)
            color = "#2f9e6e" if mention.status == "confirmed" else "#b0b0b0"
            label = f"{mention.published_at:%Y-%m-%d} · {mention.outlet_domain or ''} · {mention.title or ''}"  # type: ignore[union-attr]
            dot = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{color}"><title>{_e(label)}</title></circle>'
            url = _safe_url(mention.canonical_url)
            parts.append(f'<a href="{_e(url)}" target="_blank" rel="noopener">{dot}</a>' if url else dot)
        parts.append(f'<text x="{pad}" y="{height - 4}" class="l">{dated[0].published_at:%Y-%m-%d}</text>')  # type: ignore[union-attr]
        parts.append(f'<text x="{width - pad}" y="{height - 4}" class="l" text-anchor="end">{dated[-1].published_at:%Y-%m-%d}</text>')  # type: ignore[union-attr]
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- the page


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{margin:0 0 4px}h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#777}.grid{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid #e3e3e3;border-radius:8px;padding:10px 14px;min-width:150px}
.big{font-size:28px;font-weight:600}table{border-collapse:collapse;margin:8px 0}td,th{border-bottom:1px solid #eee;padding:4px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}.warn{color:#b25b00}.chart .t{font-size:13px;font-weight:600;fill:#333}
.chart .l{font-size:11px;fill:#555}.chart .axis{stroke:#bbb}.chart .track{fill:#f1f1f1}
"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1%}"


def _index_cards(data: ReportData) -> str:
    cards = []
    for key, label in ((COMPOSITE, "Composite"), *INDEX_LABELS.items()):
        score, raw = data.indices.get(score_column(key)), data.indices.get(index_column(key))
        coverage = data.indices.get(coverage_column(key))
        top = data.top_contributors.get(key) or []
        why = ", ".join(f"{_e(item['component'])} {item['points']:+.1f}" for item in top)
        cards.append(
            f'<div class="card"><div class="muted">{_e(label)}</div><div class="big">{"–" if score is None else f"{score:.1f}"}</div>'
            f'<div class="muted">index {"–" if raw is None else f"{raw:.1f}"} · coverage {"–" if coverage is None else f"{coverage:.0%}"}</div>'
            + (f'<div class="muted">why: {why}</div>' if why else "") + "</div>"
        )
    return f'<div class="grid">{"".join(cards)}</div>'


def _explained(data: ReportData) -> str:
    """Tier, reference, and every component of every index: value, tier group, percentile, points."""
    explanation = data.explanation
    if not explanation:
        return ""
    reference = explanation["reference"]
    tiers = ", ".join(f"{_e(p)} {_e(t)}" for p, t in explanation["platform_tiers"].items()) or "–"
    head = (f"<p>Tier <b>{_e(explanation['tier'] or '–')}</b> ({tiers}) · reference <b>{_e(reference['label'])}</b> "
            f"({reference['size']} candidates{', frozen ' + _e(reference['created_at'][:16]) if reference['frozen'] and reference['created_at'] else ''})</p>")
    charts, tables = [], []
    for index in explanation["indices"]:
        items, rows = [], []
        for c in index["components"]:
            value = c["value"]
            shown = ("yes" if value else "no") if isinstance(value, bool) else (f"{value:.3g}" if isinstance(value, float) else value)
            note = (f"p{c['percentile']:.0f} · {c['points']:+.1f} pts · {shown}" if c["percentile"] is not None
                    else c["note"])
            items.append((c["component"], c["percentile"], note))
            rows.append(f"<tr><td>{_e(c['component'])}</td><td>{c['weight']:g}</td><td>{_e('–' if shown is None else shown)}</td>"
                        f"<td>{_e(', '.join(c['groups']) or '–')}</td>"
                        f"<td>{'–' if c['percentile'] is None else format(c['percentile'], '.0f')}</td>"
                        f"<td>{'–' if c['points'] is None else format(c['points'], '+.1f')}</td><td>{_e(c['note'])}</td></tr>")
        label = INDEX_LABELS.get(index["index"], index["index"])
        charts.append(bar_chart(items, title=f"{label}: percentile of each component", color="#8a5cc7", width=600))
        score = "–" if index["score"] is None else f"{index['score']:.1f}"
        raw = "–" if index["raw"] is None else f"{index['raw']:.1f}"
        tables.append(f"<h3>{_e(label)}: score {score}, index {raw}, coverage {index['coverage']:.0%}</h3>"
                      "<table><tr><th>component</th><th>weight</th><th>value</th><th>tier group</th><th>percentile</th>"
                      f"<th>points</th><th></th></tr>{''.join(rows)}</table>")
    note = ("<p class='muted'>score = coverage × index + (1 − coverage) × 50; points = how far a component moves the "
            "index score from 50; yes/no facts count 100 or 0; <i>no spread</i>: the reference's values do not differ, "
            "so the component says nothing; <i>no data</i>: not known for this candidate.</p>")
    return head + "".join(charts) + "".join(tables) + note


def _authenticity(data: ReportData) -> str:
    found = (data.explanation or {}).get("authenticity")
    if not found:
        return "<p class='muted'>–</p>"
    score = found["growth_authenticity"]
    flags = found["growth_flags"]
    if found["suspicious"]:
        verdict = f"<span class='warn'>suspicious: {_e(', '.join(found['suspicious']))}</span>"
    elif flags:
        verdict = f"not judged ({_e(', '.join(flags))})"
    else:
        verdict = "nothing suspicious" if score is not None else "not computed"
    rows = "".join(
        f"<tr><td>{_e(item.get('platform'))}</td><td>{_e(item.get('flag'))}</td>"
        f"<td style='text-align:left'>{_e(', '.join(str(d) for d in item.get('dates') or []))}</td>"
        f"<td style='text-align:left'>{_e(', '.join(str(n) for n in item.get('sizes') or []))}</td></tr>"
        for item in found["evidence"] if isinstance(item, dict))
    table = ("<table><tr><th>platform</th><th>flag</th><th style='text-align:left'>dates</th>"
             f"<th style='text-align:left'>sizes</th></tr>{rows}</table>") if rows else ""
    return f"<p>Growth authenticity <b>{'–' if score is None else f'{score:.0f}'}</b> · {verdict}</p>{table}"


def _growth_table(features: dict[str, Any], platforms: Sequence[str]) -> str:
    head = "".join(f"<th>{d} days</th><th>{d}d %</th>" for d in GROWTH_WINDOWS)
    rows = []
    for platform in [*platforms, None]:
        cells = []
        for d in GROWTH_WINDOWS:
            key = f"growth_{d}d_{platform}" if platform else f"growth_{d}d"
            absolute = features.get(f"{key}_abs")
            cells.append(f"<td>{'–' if absolute is None else f'{absolute:+,}'}</td><td>{_pct(features.get(f'{key}_rel'))}</td>")
        name = platform or "<b>total</b>"
        rows.append(f"<tr><td>{name}</td>{''.join(cells)}</tr>")
    note = '<p class="muted">– : no snapshot at or within one window before the window start (never interpolated).'
    if any(features.get(f"growth_{d}d_approximate") for d in GROWTH_WINDOWS):
        note += ' <span class="warn">Some endpoints are rounded numbers (1.2万): growth is approximate.</span>'
    return f"<table><tr><th>platform</th>{head}</tr>{''.join(rows)}</table>{note}</p>"


def _brands(features: dict[str, Any]) -> str:
    by_country: dict[str, list[str]] = features.get("brands_by_country") or {}
    if not by_country:
        return '<p class="muted">No international brands found in recent posts.</p>'
    items = sorted(by_country.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    most = max(len(v) for _, v in items)
    chart = bar_chart([(country if country != "??" else "origin unknown", float(len(names)), f"{len(names)}: {', '.join(names)}")
                       for country, names in items], maximum=float(most), title="Brands mentioned, by country of origin",
                      color="#e0912f", width=900)
    mentions = features.get("brand_mentions") or {}
    rows = "".join(f"<tr><td>{_e(b)}</td><td>{n}</td></tr>" for b, n in sorted(mentions.items(), key=lambda kv: -kv[1]))
    return chart + f"<table><tr><th>brand</th><th>recent posts</th></tr>{rows}</table>"


def _press(data: ReportData) -> str:
    if data.press is None:
        return '<p class="muted">No press data (the press search has not run for this candidate).</p>'
    if not data.press:
        return '<p class="muted">The press search found no mentions.</p>'
    rows = []
    for m in sorted(data.press, key=lambda m: m.published_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True):
        url = _safe_url(m.canonical_url)
        title = _e(m.title or m.canonical_url or "(untitled)")
        link = f'<a href="{_e(url)}" target="_blank" rel="noopener">{title}</a>' if url else title
        when = f"{m.published_at:%Y-%m-%d}" if m.published_at else "–"
        confidence = "–" if m.confidence is None else f"{m.confidence:.2f}"
        rows.append(f"<tr><td>{when}</td><td style='text-align:left'>{link}</td><td>{_e(m.outlet_domain)}</td>"
                    f"<td>{_e(m.country)}</td><td>{_e(m.language)}</td><td>{confidence}</td><td>{_e(m.status)}</td></tr>")
    return timeline(data.press) + ("<table><tr><th>date</th><th style='text-align:left'>article</th><th>outlet</th><th>country</th>"
                                   f"<th>language</th><th>confidence</th><th>status</th></tr>{''.join(rows)}</table>")


def _freshness(data: ReportData) -> str:
    rows = []
    now = data.as_of or data.generated_at
    for a in data.accounts:
        age = (now - a.newest).total_seconds() / 86400 if a.newest else None
        stale = age is not None and age > STALE_AFTER_DAYS
        url = _safe_url(a.profile_url)
        handle = f'<a href="{_e(url)}">{_e(a.handle)}</a>' if url else _e(a.handle)
        failure = f"{_e(a.last_failure)} ({a.last_failure_at:%Y-%m-%d})" if a.last_failure and a.last_failure_at else "–"
        rows.append(
            f"<tr><td>{_e(a.platform)}</td><td>{handle}</td><td>{a.snapshots}</td>"
            f"<td>{f'{a.newest:%Y-%m-%d %H:%M}' if a.newest else '–'}</td>"
            f"<td class='{'warn' if stale or a.newest is None else ''}'>{'never crawled' if age is None else f'{age:.1f} days' + (' (stale)' if stale else '')}</td>"
            f"<td>{failure}</td></tr>"
        )
    computed = f"{data.computed_at:%Y-%m-%d %H:%M} UTC (as of {data.as_of:%Y-%m-%d %H:%M}, schema {data.schema_version})" \
        if data.computed_at and data.as_of else "never (run <code>wangzi enrich</code>)"
    return ("<table><tr><th>platform</th><th>account</th><th>snapshots</th><th>newest snapshot</th><th>age</th><th>last failure</th></tr>"
            f"{''.join(rows)}</table><p class='muted'>Features computed: {computed}. Report generated "
            f"{data.generated_at:%Y-%m-%d %H:%M} UTC.</p>")


def render_report(data: ReportData) -> str:
    """The whole page as one HTML string (no external resources)."""
    features = data.features or {}
    platforms = [p for p in PLATFORMS if p in data.history or any(a.platform == p for a in data.accounts)]
    history = "".join(
        line_chart(data.history[p], PALETTE[PLATFORMS.index(p) % len(PALETTE)],
                   title=f"{p} followers ({_fmt_count(data.history[p][-1][1])})")
        for p in platforms if p in data.history
    ) or '<p class="muted">No follower counts stored yet.</p>'
    overseas = []
    if features.get("ip_abroad"):
        overseas.append(f"IP location abroad on {', '.join(features.get('ip_abroad_platforms') or [])} "
                        f"({', '.join(features.get('ip_countries') or [])}), last seen {_e(features.get('ip_abroad_seen_at'))}")
    if features.get("declared_abroad"):
        overseas.append(f"declares living in {', '.join(features.get('declared_countries') or [])}")
    if features.get("foreign_language_share") is not None:
        overseas.append(f"{features['foreign_language_share']:.0%} of recent posts in a foreign language")
    reach = (f"{_fmt_count(features.get('followers_total'))} followers "
             f"({_fmt_count(features.get('followers_overseas'))} overseas)") if features else ""
    aliases = f" <span class='muted'>({_e(', '.join(data.aliases))})</span>" if data.aliases else ""
    body = [
        f"<h1>{_e(data.display_name)}{aliases}</h1>",
        f"<p class='muted'>Candidate #{data.candidate_id} · {_e(reach)}</p>",
        "<h2>Indices</h2>",
        _index_cards(data) if data.features else "<p class='muted'>No features yet: run <code>wangzi enrich</code>.</p>",
        "<p class='muted'>0-100: the score (big) shrinks the weighted percentile (index) towards 50 as coverage, the "
        "share of the index weight that had data, falls.</p>",
        _explained(data),
        "<h2>Follower growth authenticity</h2>",
        _authenticity(data) if data.features else "<p class='muted'>–</p>",
        "<h2>Follower history</h2>",
        f"<div class='grid'>{history}</div>",
        "<p class='muted'>Hollow dots: rounded numbers shown by the platform (1.2万, 10万+).</p>",
        "<h2>Growth</h2>",
        _growth_table(features, platforms) if data.features else "<p class='muted'>–</p>",
        "<h2>Overseas signals</h2>",
        "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in overseas) + "</ul>" if overseas else "<p class='muted'>None found.</p>",
        "<h2>Brands by country</h2>",
        _brands(features),
        "<h2>Press</h2>",
        _press(data),
        "<h2>Data freshness</h2>",
        _freshness(data),
    ]
    return ("<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
            f"<title>Wangzi report · {_e(data.display_name)}</title><style>{CSS}</style></head><body>"
            + "".join(body) + "</body></html>")
