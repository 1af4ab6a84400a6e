"""``wangzi candidates``: register people and their accounts, import them, list them, and
curate them: edit, add or remove accounts, deactivate and reactivate, delete, merge two into
one and undo a merge (storage/curation.py says what follows a candidate and how a merge is
recorded).

``candidates add`` has one ``--PLATFORM`` option per platform in the registry, so a new
platform module gets its flag without touching this file. A CANDIDATE argument is an id, a
name or an alias; a name several candidates have is refused with the list of them (exit 2),
never guessed. Storage (SQLAlchemy) is imported inside the functions that use it, so
``wangzi --help`` does not load it.
"""

from __future__ import annotations

import getpass
import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from crawler.candidates_csv import (  # noqa: F401 - ImportReport, csv_records, import_rows: also read from here
    ImportReport,
    UnreadableText,
    csv_records,
    decode_text,
    import_rows,
    parse_accounts,
)
from crawler.cli._common import DATABASE_OPTION, PROBLEM, USAGE, PlainTable, console, err, fail, friendly_errors, line
from records import PLATFORMS
from spiders.pages.registry import normalize_account

candidates_app = typer.Typer(help="Register, import, list and curate candidates and their platform accounts.",
                             no_args_is_help=True)
account_app = typer.Typer(help="Add an account to a candidate, or take one away.", no_args_is_help=True)
candidates_app.add_typer(account_app, name="account")



def _option_name(platform: str) -> str:
    return "--" + platform.replace("_", "-")


def add(display_name: str, alias: list[str], notes: str | None, database_url: str | None, allow_same_name: bool = False,
        **accounts: Any) -> None:
    from storage.candidates import register_candidate

    with friendly_errors():  # a name or alias storage refuses (storage/names.py) is a usage error
        refs = parse_accounts({p: accounts.get(p) for p in PLATFORMS})
        candidate = register_candidate(database_url, display_name, aliases=alias or [], notes=notes, accounts=refs,
                                       allow_same_name=allow_same_name)
        console.print(line(
            "added candidate ", (str(candidate.id), "bold"), f" {candidate.display_name}",
            (f" with {len(refs)} account(s): " + ", ".join(f"{r.platform}:{r.handle or r.platform_user_id}" for r in refs) if refs else ""),
        ))


def _add_signature() -> inspect.Signature:
    params = [
        inspect.Parameter("display_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str,
                          default=typer.Argument(..., metavar="NAME", help="The person's display name.")),
        inspect.Parameter("alias", inspect.Parameter.KEYWORD_ONLY, annotation=list[str],
                          default=typer.Option(None, "--alias", help="Another name or script (repeatable): 李佳琦, Li Jiaqi.")),
        inspect.Parameter("notes", inspect.Parameter.KEYWORD_ONLY, annotation=str,
                          default=typer.Option(None, "--notes", help="Free text for the talent team.")),
        inspect.Parameter("database_url", inspect.Parameter.KEYWORD_ONLY, annotation=str,
                          default=DATABASE_OPTION),
        inspect.Parameter("allow_same_name", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                          default=typer.Option(False, "--allow-same-name", help="Register another person with the name of an existing candidate (refused otherwise).")),
    ]
    for platform in PLATFORMS:
        params.append(
            inspect.Parameter(
                platform, inspect.Parameter.KEYWORD_ONLY, annotation=list[str],
                default=typer.Option(None, _option_name(platform),
                                     help=f"{platform} account: handle, id or profile URL (repeatable)."),
            )
        )
    return inspect.Signature(params)


def _add_command(**kwargs: Any) -> None:
    """Register a candidate with their accounts, e.g. `wangzi candidates add "老番茄" --bilibili 546195`."""
    add(kwargs.pop("display_name"), kwargs.pop("alias"), kwargs.pop("notes"), kwargs.pop("database_url"),
        kwargs.pop("allow_same_name"), **kwargs)


_add_command.__signature__ = _add_signature()  # type: ignore[attr-defined]
candidates_app.command("add")(_add_command)


# --------------------------------------------------------------------------- import


def decode_csv(data: bytes, file: Path, encoding: str | None) -> str:
    """The CSV file's text (:func:`crawler.candidates_csv.decode_text`); when it was read as
    GB18030, said on stderr. A file that is no text it can read is a usage error saying what to do."""
    try:
        text, note = decode_text(data, encoding, source=str(file))
    except UnreadableText as exc:
        raise fail(str(exc), USAGE) from None
    if note:
        err.print(line(note))
    return text


@candidates_app.command("import")
def import_csv(
    file: Path = typer.Argument(..., help="CSV with columns name, aliases (| separated), notes, and one per platform."),
    encoding: str = typer.Option(None, "--encoding", help="The file's encoding (default: UTF-8, else GB18030 as Excel on Chinese Windows saves it)."),
    allow_same_name: bool = typer.Option(False, "--allow-same-name", help="Register rows named like an existing candidate as other people (such rows are rejected otherwise)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Import candidates from a CSV file. Bad rows are reported with their row number; good rows are kept.
    A row named like an existing candidate is rejected (add its accounts to that candidate with
    `candidates account add`, or pass --allow-same-name for a namesake).

    Exit code 1 when any row was rejected (an unknown column is only a warning)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}", USAGE) from None
    text = decode_csv(data, file, encoding)
    with friendly_errors():
        report = import_rows(text, database_url, allow_same_name=allow_same_name)
    for warning in report.warnings:
        err.print(line(("warning:", "yellow"), f" {warning}"))
    for number, name in report.added:
        console.print(line(f"row {number}: added {name}"))
    for number, message in report.errors:
        err.print(line((f"row {number}:", "red"), f" {message}"))
    console.print(f"{len(report.added)} added, {len(report.errors)} rejected")
    if report.errors:
        raise typer.Exit(PROBLEM)


# --------------------------------------------------------------------------- list


#: Candidates read, written out and forgotten at a time by ``candidates list``.
LIST_PAGE = 1_000


@candidates_app.command("list")
def list_candidates(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="List at most N candidates (default: every one)."),
    after: int = typer.Option(0, "--after", min=0, help="Only candidates with a higher id: where the next page starts."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """List candidates with their accounts and latest follower counts, by id.

    Read and written out 1,000 candidates at a time, so a cohort of any size lists in flat
    memory (a table per 1,000). With --limit, the last line says how to list the next page
    (on stderr with --json, whose output stays one JSON array)."""
    from storage.db import session_scope

    with friendly_errors(), session_scope(database_url) as session:
        listed, last = 0, after
        if as_json:
            typer.echo("[", nl=False)
        for rows in candidate_pages(session, after=after, limit=limit):
            if as_json:
                # The same text as json.dumps(every row, indent=2), a page at a time.
                typer.echo("".join((",\n  " if listed or k else "\n  ")
                                   + json.dumps(row, ensure_ascii=False, indent=2, default=str).replace("\n", "\n  ")
                                   for k, row in enumerate(rows)), nl=False)
            else:
                console.print(followers_table(rows, title="Candidates" if not listed else None))
            listed += len(rows)
            last = rows[-1]["id"]
        if as_json:
            typer.echo("\n]" if listed else "]")
        more = limit is not None and listed == limit and _any_after(session, last)
    if more:
        (err if as_json else console).print(line((f"more candidates: --after {last}", "dim")))


def _any_after(session: Any, candidate_id: int) -> bool:
    from storage.candidates import list_candidates

    return bool(list_candidates(session, after=candidate_id, limit=1))


def candidate_pages(session: Any, *, after: int = 0, limit: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """The candidates with an id above ``after`` (at most ``limit``) as :func:`candidate_rows`
    gives them, :data:`LIST_PAGE` at a time; each page's objects are let go before the next is
    read."""
    from storage.candidates import list_candidates

    left = limit
    while left is None or left > 0:
        candidates = list_candidates(session, after=after, limit=LIST_PAGE if left is None else min(LIST_PAGE, left))
        if not candidates:
            return
        rows = _rows_of(session, candidates)
        after = rows[-1]["id"]
        left = None if left is None else left - len(rows)
        session.expunge_all()  # the page's Candidate, Account and snapshot objects
        yield rows


def candidate_rows(database_url: str | None, candidate_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Candidates with accounts and each account's latest snapshot numbers (JSON-ready)."""
    from storage.candidates import list_candidates
    from storage.db import session_scope

    with session_scope(database_url) as session:
        return _rows_of(session, list_candidates(session, ids=candidate_ids))


def _rows_of(session: Any, candidates: list[Any]) -> list[dict[str, Any]]:
    from storage.candidates import candidate_accounts, latest_snapshots

    ids = [c.id for c in candidates if c.id is not None]
    latest = {account.id: snap for account, snap in latest_snapshots(session, ids)}
    accounts_of = candidate_accounts(session, ids)
    rows = []
    for c in candidates:
        accounts = accounts_of.get(c.id, [])
        rows.append(
            {
                "id": c.id,
                "display_name": c.display_name,
                "aliases": c.aliases,
                "notes": c.notes,
                "active": c.active,
                "merged_into": c.merged_into_id,
                "accounts": [
                    {
                        "platform": a.platform,
                        "handle": a.handle,
                        "platform_user_id": a.platform_user_id,
                        "followers": latest[a.id].followers if a.id in latest else None,
                        "approximate": "followers" in (latest[a.id].approximate or []) if a.id in latest else False,
                        "captured_at": latest[a.id].captured_at.isoformat() if a.id in latest else None,
                    }
                    for a in accounts
                ],
            }
        )
    return rows


def followers_table(rows: list[dict[str, Any]], title: str | None = "Candidates") -> PlainTable:
    """Candidates x platforms, latest follower counts ("~" marks rounded ones, "-" not read)."""
    platforms = [p for p in PLATFORMS if any(a["platform"] == p for r in rows for a in r["accounts"])]
    table = PlainTable(title=title)
    table.add_column("id", justify="right")
    table.add_column("candidate")
    for p in platforms:
        table.add_column(p, justify="right")
    for row in rows:
        cells = []
        for p in platforms:
            accounts = [a for a in row["accounts"] if a["platform"] == p]
            if not accounts:
                cells.append("")
                continue
            shown = []
            for a in accounts:
                if a["followers"] is None:
                    shown.append("-")
                else:
                    shown.append(("~" if a["approximate"] else "") + f"{a['followers']:,}")
            cells.append(" / ".join(shown))
        state = (f" (merged into {row['merged_into']})" if row.get("merged_into") is not None
                 else "" if row.get("active", True) else " (inactive)")
        table.add_row(str(row["id"]), row["display_name"] + state, *cells)
    return table


# --------------------------------------------------------------------------- curation


@contextmanager
def curating() -> Iterator[None]:
    """:func:`friendly_errors` plus what curation raises: an unknown id is a usage error (2)."""
    from storage.curation import NotFound

    with friendly_errors():
        try:
            yield
        except NotFound as exc:
            raise fail(str(exc).strip("'\""), USAGE) from None


def resolved(session: Any, text: str) -> Any:
    """The candidate CANDIDATE names: an id (that candidate itself, merged or not), a name or an
    alias; none is a usage error, several (a name people share) a usage error listing them."""
    from storage.candidates import find_candidate

    candidate = find_candidate(session, text, follow_merges=False)
    if candidate is None:
        raise fail(f"no candidate {text!r} (see `wangzi candidates list`)", USAGE)
    return candidate


def who_did_it(by: str | None) -> str | None:
    """Who made a change, as recorded with a merge: ``--by``, else the login name."""
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's numeric user)
        return None


def account_text(account: Any) -> str:
    return f"{account.platform}:{account.handle or account.platform_user_id}"


CANDIDATE_ARGUMENT = typer.Argument(..., metavar="CANDIDATE", help="Id, name or alias.")


@candidates_app.command("show")
def show(
    who: str = CANDIDATE_ARGUMENT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """One candidate: name, aliases, notes, state, accounts with latest followers, and merges."""
    from storage.curation import list_merges
    from storage.db import session_scope

    with curating(), session_scope(database_url) as session:
        candidate = resolved(session, who)
        merges = [merge_json(m) for m in list_merges(session, candidate.id)]
    row = candidate_rows(database_url, [candidate.id])[0]
    row["merges"] = merges
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False, indent=2, default=str))
        return
    state = (f"merged into {row['merged_into']}" if row["merged_into"] is not None else "active" if row["active"] else "inactive")
    console.print(line((f"{row['id']} ", "bold"), row["display_name"], f"  ({state})"))
    if row["aliases"]:
        console.print(line("aliases: ", ", ".join(row["aliases"])))
    if row["notes"]:
        console.print(line("notes: ", row["notes"]))
    for account in row["accounts"]:
        followers = "-" if account["followers"] is None else ("~" if account["approximate"] else "") + f"{account['followers']:,}"
        console.print(line(f"  {account['platform']}:{account['handle'] or account['platform_user_id']}  followers {followers}"))
    for merge in merges:
        undone = f", undone {merge['undone_at'][:19]}" if merge["undone_at"] else ""
        console.print(line(f"merge {merge['id']}: {merge['source_id']} into {merge['target_id']} at {merge['merged_at'][:19]}"
                           f"{undone} by {merge['merged_by'] or '?'}"))


@candidates_app.command("edit")
def edit(
    who: str = CANDIDATE_ARGUMENT,
    name: str = typer.Option(None, "--name", help="New display name."),
    alias: list[str] = typer.Option(None, "--alias", help="Replace every alias with these (repeatable)."),
    add_alias: list[str] = typer.Option(None, "--add-alias", help="Add an alias (repeatable)."),
    remove_alias: list[str] = typer.Option(None, "--remove-alias", help="Remove an alias (repeatable; blind to case)."),
    notes: str = typer.Option(None, "--notes", help="Replace the notes."),
    clear_notes: bool = typer.Option(False, "--clear-notes", help="Remove the notes."),
    allow_same_name: bool = typer.Option(False, "--allow-same-name", help="Accept a new name another candidate has."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Change a candidate's name, aliases or notes (checked as when registering). Snapshots,
    mentions and every other row stay with the candidate."""
    from storage.curation import edit_candidate
    from storage.db import session_scope

    if name is None and alias is None and not add_alias and not remove_alias and notes is None and not clear_notes:
        raise fail("nothing to change: give --name, --alias, --add-alias, --remove-alias, --notes or --clear-notes", USAGE)
    with curating(), session_scope(database_url) as session:
        candidate = edit_candidate(session, resolved(session, who).id, display_name=name, aliases=alias,
                                   add_aliases=add_alias or [], remove_aliases=remove_alias or [], notes=notes,
                                   clear_notes=clear_notes, allow_same_name=allow_same_name)
        console.print(line("edited candidate ", (str(candidate.id), "bold"), f" {candidate.display_name}",
                           f" (aliases: {', '.join(candidate.aliases) or 'none'})"))


def _set_active(who: str, active: bool, database_url: str | None) -> None:
    from storage.curation import set_active
    from storage.db import session_scope

    with curating(), session_scope(database_url) as session:
        candidate = set_active(session, resolved(session, who).id, active)
        console.print(line(("reactivated" if active else "deactivated") + " candidate ", (str(candidate.id), "bold"),
                           f" {candidate.display_name}"))


@candidates_app.command("deactivate")
def deactivate(who: str = CANDIDATE_ARGUMENT, database_url: str = DATABASE_OPTION) -> None:
    """Leave a candidate out of crawls, scheduled refreshes and the ranking; nothing is deleted."""
    _set_active(who, False, database_url)


@candidates_app.command("reactivate")
def reactivate(who: str = CANDIDATE_ARGUMENT, database_url: str = DATABASE_OPTION) -> None:
    """Bring a deactivated candidate back into crawls and the ranking."""
    _set_active(who, True, database_url)


@candidates_app.command("delete")
def delete(
    who: str = CANDIDATE_ARGUMENT,
    yes: bool = typer.Option(False, "--yes", help="Really delete (without it, nothing is done)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Forget a candidate: accounts become unowned (their snapshots kept, adoptable again); press
    mentions and feature rows are deleted. Refused for a candidate in a merge or with outcomes or
    shortlist history: deactivate it instead."""
    from storage.curation import delete_candidate
    from storage.db import session_scope

    with curating(), session_scope(database_url) as session:
        candidate = resolved(session, who)
        label = f"{candidate.id} {candidate.display_name}"
        if not yes:
            raise fail(f"deleting candidate {label} cannot be undone (deactivating can): pass --yes to delete it", USAGE)
        done = delete_candidate(session, candidate.id)
    said = ", ".join(f"{table}: {count}" for table, count in done.items())
    console.print(line(f"deleted candidate {label}" + (f" ({said})" if said else "")))


def _account(platform: str, handle: str) -> Any:
    try:
        return normalize_account(platform, handle)
    except ValueError as exc:
        raise ValueError(f"{platform} account {handle!r}: {exc}") from None


@account_app.command("add")
def account_add(
    who: str = CANDIDATE_ARGUMENT,
    platform: str = typer.Argument(..., help=f"One of {', '.join(PLATFORMS)}."),
    handle: str = typer.Argument(..., help="Handle, id or profile URL."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Give a candidate an account (one seen before in an ad-hoc crawl comes with its snapshots)."""
    from storage.curation import add_account
    from storage.db import session_scope

    with curating(), session_scope(database_url) as session:
        ref = _account(platform, handle)
        candidate = resolved(session, who)
        account, added = add_account(session, candidate.id, ref)
        said = "added" if added else "already has"
        console.print(line(f"candidate {candidate.id} {candidate.display_name} {said} {account_text(account)}"))


@account_app.command("remove")
def account_remove(
    who: str = CANDIDATE_ARGUMENT,
    platform: str = typer.Argument(..., help=f"One of {', '.join(PLATFORMS)}."),
    handle: str = typer.Argument(..., help="Handle, id or profile URL."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Take an account from a candidate; it and its snapshots are kept, unowned."""
    from storage.curation import remove_account
    from storage.db import session_scope

    with curating(), session_scope(database_url) as session:
        ref = _account(platform, handle)
        candidate = resolved(session, who)
        account = remove_account(session, candidate.id, ref)
        console.print(line(f"candidate {candidate.id} {candidate.display_name} no longer has {account_text(account)} "
                           "(its snapshots are kept with the account)"))


@candidates_app.command("merge")
def merge(
    source: str = typer.Argument(..., metavar="SOURCE", help="The candidate registered twice (id, name or alias): merged away."),
    target: str = typer.Argument(..., metavar="TARGET", help="The candidate that stays."),
    note: str = typer.Option(None, "--note", help="Why (kept with the merge)."),
    by: str = typer.Option(None, "--by", help="Who merges (default: your login name)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Merge SOURCE into TARGET: accounts (with their snapshots, posts and failures), press
    mentions, press failures, outcomes and lookups move to TARGET, which gains SOURCE's names as
    aliases; SOURCE becomes inactive. Recorded: `candidates unmerge MERGE_ID` undoes it."""
    from storage.curation import merge_candidates
    from storage.db import session_scope

    with curating(), session_scope(database_url) as session:
        merged = merge_candidates(session, resolved(session, source).id, resolved(session, target).id,
                                  by=who_did_it(by), note=note)
        summary = ", ".join(f"{table}: {len(ids)}" for table, ids in merged.moved.items()) or "no rows"
        console.print(line("merge ", (str(merged.id), "bold"), f": candidate {merged.source_id} into {merged.target_id} "
                           f"(moved {summary}); undo with `wangzi candidates unmerge {merged.id}`"))


@candidates_app.command("unmerge")
def unmerge(
    merge_id: int = typer.Argument(..., metavar="MERGE_ID", help="The merge to undo (see `candidates merges`)."),
    by: str = typer.Option(None, "--by", help="Who undoes it (default: your login name)."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Undo a merge: the rows it moved go back, the aliases it added leave, the merged candidate
    is itself again."""
    from storage.curation import undo_merge
    from storage.db import session_scope

    with curating(), session_scope(database_url) as session:
        undone = undo_merge(session, merge_id, by=who_did_it(by))
        back = {table: len(ids) - len(undone.left.get(table, [])) for table, ids in undone.moved.items()}
        summary = ", ".join(f"{table}: {count}" for table, count in back.items()) or "no rows"
        console.print(line(f"merge {undone.id} undone: candidate {undone.source_id} is itself again (moved back {summary})"))
        for table, ids in undone.left.items():
            err.print(line(("left:", "yellow"), f" {len(ids)} {table} row(s) no longer with candidate {undone.target_id} "
                           f"(moved on since the merge): {', '.join(map(str, ids[:20]))}"))


def merge_json(merge: Any) -> dict[str, Any]:
    return {"id": merge.id, "source_id": merge.source_id, "target_id": merge.target_id,
            "merged_at": merge.merged_at.isoformat(), "merged_by": merge.merged_by, "note": merge.note,
            "moved": {table: len(ids) for table, ids in (merge.moved or {}).items()},
            "added_aliases": list(merge.added_aliases or []),
            "undone_at": merge.undone_at.isoformat() if merge.undone_at else None, "undone_by": merge.undone_by}


@candidates_app.command("merges")
def merges(
    who: str = typer.Argument(None, metavar="[CANDIDATE]", help="Only merges this candidate was part of."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Merges, newest first: who merged which candidate into which, when, and whether it was undone."""
    from storage.curation import list_merges
    from storage.db import session_scope

    with curating(), session_scope(database_url) as session:
        found = [merge_json(m) for m in list_merges(session, resolved(session, who).id if who else None)]
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    table = PlainTable(title="Merges")
    for column in ("merge", "source", "target", "merged at", "by", "moved", "undone"):
        table.add_column(column)
    for m in found:
        table.add_row(str(m["id"]), str(m["source_id"]), str(m["target_id"]), m["merged_at"][:19], m["merged_by"] or "",
                      ", ".join(f"{t}: {n}" for t, n in m["moved"].items()), (m["undone_at"] or "")[:19])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(candidates_app, name="candidates")
