"""``wangzi candidates suggest``: accounts a candidate's own profiles link to, for a person to confirm.

The crawl stores every link a profile shows (``AccountLink`` rows: Instagram ``external_url``
and bio links, X's website and bio links, TikTok's ``bioLink``, YouTube's links); the bio of
each account's newest snapshot is read for links too. Links that name an account on a
platform Wangzi tracks (:mod:`spiders.pages.identity`) and that is not yet registered for the
candidate are listed, with the account that linked it. Nothing is registered automatically:
a link is a claim made by the profile, so a person confirms it with ``candidates add`` or
by editing the candidate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import typer
from crawler.cli._common import DATABASE_OPTION, PROBLEM, USAGE, PlainTable, console, fail, friendly_errors, line
from crawler.cli.candidates import candidates_app
from records import AccountRef
from spiders.pages.identity import account_key, linked_accounts, same_account


@dataclass
class Suggestion:
    """One account the candidate's profiles link to."""

    platform: str
    handle: str | None
    platform_user_id: str | None
    linked_from: list[str] = field(default_factory=list)  # "instagram:miachen.tokyo"
    links: list[str] = field(default_factory=list)  # the URLs as the profiles showed them
    registered_to: str | None = None  # "candidate 7 (Someone Else)" when another candidate has it

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "handle": self.handle,
            "platform_user_id": self.platform_user_id,
            "linked_from": self.linked_from,
            "links": self.links,
            "registered_to": self.registered_to,
        }


def suggestions(session: Any, candidate_id: int) -> list[Suggestion]:
    """Accounts linked from the candidate's accounts and not registered for the candidate."""
    # Storage is imported here, not at the top: SQLAlchemy would slow `wangzi --help`.
    from storage.candidates import candidate_accounts, find_account, get_candidate
    from storage.profiles import account_links, newest_snapshot

    accounts = candidate_accounts(session, [candidate_id]).get(candidate_id, [])
    own = [(a.platform, AccountRef(platform=a.platform, handle=a.handle, platform_user_id=a.platform_user_id)) for a in accounts]
    found: dict[tuple[str, str, str], Suggestion] = {}
    for account in accounts:
        urls = account_links(session, account.id)  # type: ignore[arg-type]
        latest = newest_snapshot(session, account.id)  # type: ignore[arg-type]
        source = f"{account.platform}:{account.handle or account.platform_user_id}"
        for platform, ref, url in linked_accounts(urls, latest.bio if latest else None):
            if any(same_account(platform, ref, p, r) for p, r in own):
                continue
            key = account_key(platform, ref)
            suggestion = found.get(key)
            if suggestion is None:
                suggestion = found[key] = Suggestion(platform, ref.handle, ref.platform_user_id)
                existing = find_account(session, ref)
                if existing is not None and existing.candidate_id is not None:
                    owner = get_candidate(session, existing.candidate_id)
                    suggestion.registered_to = f"candidate {existing.candidate_id} ({owner.display_name if owner else '?'})"
            if source not in suggestion.linked_from:
                suggestion.linked_from.append(source)
            if url not in suggestion.links:
                suggestion.links.append(url)
    return list(found.values())


def _label(suggestion: Suggestion) -> str:
    return f"{suggestion.platform}:{suggestion.handle or suggestion.platform_user_id}"


def confirm(session: Any, candidate_id: int, rows: list[Suggestion], wanted: list[str]) -> list[str]:
    """Register the suggested accounts named ``PLATFORM:HANDLE_OR_ID`` for the candidate.

    Returns what was registered; raises ValueError (nothing registered) when one is not among
    the suggestions or already belongs to another candidate.
    """
    from storage.candidates import attach_account, get_candidate

    chosen: list[Suggestion] = []
    for text in wanted:
        platform, sep, value = text.strip().partition(":")
        match = [
            s for s in rows
            if sep and s.platform == platform.strip().lower()
            and value.strip().removeprefix("@").lower() in {(s.handle or "").lower(), (s.platform_user_id or "").lower()}
        ]
        if not match:
            known = ", ".join(_label(s) for s in rows) or "none"
            raise ValueError(f"{text!r} is not one of the suggestions (PLATFORM:HANDLE_OR_ID; suggested: {known})")
        if match[0].registered_to:
            raise ValueError(f"{_label(match[0])} is already registered to {match[0].registered_to}")
        chosen.append(match[0])
    candidate = get_candidate(session, candidate_id)
    for s in chosen:
        attach_account(session, candidate, AccountRef(platform=s.platform, handle=s.handle, platform_user_id=s.platform_user_id))
    return [_label(s) for s in chosen]


def suggest(
    candidate: str = typer.Argument(..., metavar="CANDIDATE", help="Candidate id, display name or alias."),
    confirm_accounts: list[str] = typer.Option(
        None, "--confirm", metavar="PLATFORM:HANDLE",
        help="Register this suggested account for the candidate (repeatable), after checking it is theirs.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """List accounts the candidate's own profiles link to that are not registered for them yet.

    Links come from the profiles' link lists and bios as last crawled. Confirm one by hand,
    with `--confirm PLATFORM:HANDLE`, e.g. `wangzi candidates suggest "Mia Chen" --confirm x:miachen_tokyo`.
    Exit 0 (also when there is nothing to suggest); 1 when the candidate is unknown; 2 when a
    --confirm value is not one of the suggestions.
    """
    from storage.candidates import find_candidate
    from storage.db import session_scope

    if not candidate.strip():
        raise fail("the candidate is empty; give an id, display name or alias", USAGE)
    with friendly_errors():
        with session_scope(database_url) as session:
            found = find_candidate(session, candidate)
            if found is None:
                raise fail(f"no candidate {candidate!r} (try `wangzi candidates list`)", PROBLEM)
            assert found.id is not None
            name, candidate_id = found.display_name, found.id
            rows = suggestions(session, candidate_id)
            confirmed = confirm(session, candidate_id, rows, confirm_accounts) if confirm_accounts else []
    if confirmed and as_json:
        typer.echo(json.dumps({"candidate": {"id": candidate_id, "display_name": name}, "confirmed": confirmed},
                              ensure_ascii=False, indent=2))
        return
    if confirmed:
        console.print(line(f"registered {', '.join(confirmed)} for candidate {candidate_id} ({name})"))
        return
    if as_json:
        typer.echo(json.dumps({"candidate": {"id": candidate_id, "display_name": name},
                               "suggestions": [s.to_json() for s in rows]}, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print(line(f"no linked accounts to suggest for candidate {candidate_id} ({name}): "
                           "their crawled profiles link to no other account that is not registered yet"))
        return
    table = PlainTable(title=f"Accounts linked from candidate {candidate_id} ({name}) — confirm before adding")
    for column in ("platform", "handle / id", "linked from", "link", "note"):
        table.add_column(column)
    for s in rows:
        table.add_row(
            s.platform,
            s.handle or s.platform_user_id or "",
            ", ".join(s.linked_from),
            "\n".join(s.links),
            f"already registered to {s.registered_to}" if s.registered_to else f"confirm: --confirm {_label(s)}",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``suggest`` to the ``candidates`` group (which crawler.cli.candidates registers)."""
    if not any(command.name == "suggest" for command in candidates_app.registered_commands):
        candidates_app.command("suggest")(suggest)
