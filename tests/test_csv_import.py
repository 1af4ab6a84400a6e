"""`wangzi candidates import` with hostile and messy CSV: broken rows, duplicate handles,
profile URLs instead of handles, full-width characters, spreadsheet formulas and SQL
fragments. Every bad row gets its own clear error; every good row is kept; URLs become
handles/ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import select

from crawler.cli.candidates import import_rows
from storage.db import get_engine, session_scope
from storage.models import Account, Candidate
from tests.helpers import run_wangzi

def _accounts(database_url: str) -> dict[str, list[tuple[str, str | None, str | None]]]:
    with session_scope(database_url) as session:
        found: dict[str, list[tuple[str, str | None, str | None]]] = {}
        for candidate, account in session.exec(select(Candidate, Account).join(Account, isouter=True).order_by(Candidate.id)).all():
            found.setdefault(candidate.display_name, [])
            if account is not None:
                found[candidate.display_name].append((account.platform, account.handle, account.platform_user_id))
        return found


CSV = "\n".join([
    "name,aliases,notes,bilibili,x,instagram",
    "Mia Chen,陈米娅|Mia,,https://space.bilibili.com/2?spm_id_from=333,https://x.com/miachen_tokyo,https://www.instagram.com/miachen.tokyo/",  # 2 good, URLs
    "Broken,,,1,a,b,c,d",  # 3 too many fields
    ",,,3,,",  # 4 no name
    "Copycat,,,,@miachen_tokyo,",  # 5 duplicate X handle (as @handle)
    "Ｌｉ　Ｊｉａｑｉ,,,５４６１９５,ｌｉｊｉａｑｉ,",  # 6 full-width name, id and handle
    "=cmd|' /C calc'!A0,,,,,",  # 7 formula as a name
    "Formula Handle,,,,=HYPERLINK(\"http://evil.example\"),",  # 8 formula as a handle
    "Robert'); DROP TABLE candidate;--,,,,,",  # 9 SQL in a name: stored verbatim, harmless
    "SQL Handle,,,\"2 OR 1=1\",,",  # 10 SQL in an id
    "space.bilibili.com/7,,,space.bilibili.com/7,,",  # 11 schemeless URL
    "Tab\tName,,,,,",  # 12 control character
    "@SUM(A1:A9),,,,,",  # 13 formula starting with @
    "Same In Row,,,,x1;x1,",  # 14 the same handle twice in one row
    "",
])


@pytest.fixture
def imported(database_url: str) -> tuple[str, dict[int, str], list[int]]:
    report = import_rows(CSV, database_url)
    return database_url, dict(report.errors), [number for number, _ in report.added]


def test_good_rows_are_kept_and_urls_become_ids_and_handles(imported: tuple[str, dict[int, str], list[int]]) -> None:
    database_url, errors, added = imported
    accounts = _accounts(database_url)
    assert sorted(accounts["Mia Chen"]) == [("bilibili", None, "2"), ("instagram", "miachen.tokyo", None), ("x", "miachen_tokyo", None)]
    assert sorted(accounts["Li Jiaqi"]) == [("bilibili", None, "546195"), ("x", "lijiaqi", None)]
    assert accounts["space.bilibili.com/7"] == [("bilibili", None, "7")]
    assert 2 in added and 6 in added and 11 in added


def test_each_bad_row_gets_its_own_clear_error(imported: tuple[str, dict[int, str], list[int]]) -> None:
    _, errors, _ = imported
    assert "more fields" in errors[3]
    assert "missing name" in errors[4]
    assert "miachen_tokyo" in errors[5] and "already" in errors[5].lower()
    assert "x account" in errors[8] and "HYPERLINK" in errors[8]
    assert "bilibili account" in errors[10]
    assert "control character, U+0009 (TAB), at position 4" in errors[12]
    assert set(errors) >= {3, 4, 5, 7, 8, 10, 12, 13}


def test_formulas_are_refused_as_names_and_sql_is_stored_as_plain_text(imported: tuple[str, dict[int, str], list[int]]) -> None:
    database_url, errors, _ = imported
    assert "formula" in errors[7] and "formula" in errors[13]
    accounts = _accounts(database_url)
    assert not any(name.startswith(("=", "@", "+")) for name in accounts)
    assert "Robert'); DROP TABLE candidate;--" in accounts  # a name like any other
    assert {"candidate", "account"} <= set(inspect(get_engine(database_url)).get_table_names())


def test_the_same_handle_twice_in_one_row_is_one_account_or_an_error(imported: tuple[str, dict[int, str], list[int]]) -> None:
    database_url, errors, _ = imported
    accounts = _accounts(database_url)
    assert 14 in errors or accounts.get("Same In Row") == [("x", "x1", None)]


def test_the_cli_reports_rows_and_exits_1(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "candidates.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV.encode("utf-8"))  # Excel's UTF-8 with BOM
    done = run_wangzi("candidates", "import", str(path), database_url=database_url)
    assert done.returncode == 1
    assert "row 3:" in done.stderr and "row 5:" in done.stderr and "row 2: added" in done.stdout
    assert "Traceback" not in done.stderr
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("name,x\nJosé,jose\n".encode("latin-1"))
    refused = run_wangzi("candidates", "import", str(latin), database_url=database_url)
    assert refused.returncode == 2 and "UTF-8" in refused.stderr


# --------------------------------------------------------------------------- encodings, quotes, columns (issue 14 item 12)


def _names(database_url: str) -> list[str]:
    return sorted(_accounts(database_url))


def test_a_gb18030_file_from_excel_on_chinese_windows_is_read_and_said_so(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("name,aliases,notes\n李佳琦,Li Jiaqi,口红一哥\n".encode("gb18030"))
    done = run_wangzi("candidates", "import", str(path), database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "GB18030" in done.stderr
    assert _names(database_url) == ["李佳琦"]
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("name\n薇娅\n".encode("gbk"))
    explicit = run_wangzi("candidates", "import", str(gbk), "--encoding", "gbk", database_url=database_url)
    assert explicit.returncode == 0, explicit.stderr
    assert _names(database_url) == ["李佳琦", "薇娅"]


def test_a_wrong_or_unknown_encoding_is_a_usage_error_that_says_what_to_do(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("name\n李佳琦\n".encode("gb18030"))
    wrong = run_wangzi("candidates", "import", str(path), "--encoding", "utf-8", database_url=database_url)
    assert wrong.returncode == 2 and "utf-8" in wrong.stderr and "--encoding" in wrong.stderr
    unknown = run_wangzi("candidates", "import", str(path), "--encoding", "klingon", database_url=database_url)
    assert unknown.returncode == 2 and "klingon" in unknown.stderr
    assert "Traceback" not in wrong.stderr + unknown.stderr
    assert _names(database_url) == []


def test_an_unterminated_quote_costs_its_row_not_the_rest_of_the_file(database_url: str) -> None:
    text = 'name,notes\nFirst,ok\nSecond,"never closed\nThird,fine\nFourth,"two\nlines"\n'
    report = import_rows(text, database_url)
    errors = dict(report.errors)
    assert set(errors) == {3}
    assert "quote" in errors[3] and "never closed" in errors[3]
    assert [number for number, _ in report.added] == [2, 4, 5]
    assert _names(database_url) == ["First", "Fourth", "Third"]


def test_an_unknown_column_is_a_warning_not_a_rejected_row(tmp_path: Path, database_url: str) -> None:
    report = import_rows("name,hobby,myspace\nAlice,chess,tom\n", database_url)
    assert report.errors == []
    assert any("hobby" in warning and "myspace" in warning for warning in report.warnings)
    path = tmp_path / "extra.csv"
    path.write_text("name,hobby\nBob,go\n", encoding="utf-8")
    done = run_wangzi("candidates", "import", str(path), database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "unknown column" in done.stderr and "hobby" in done.stderr
    assert "1 added, 0 rejected" in done.stdout


# --------------------------------------------------------------------------- batches (issue 18 item 6)

MIXED = "\n".join([
    "name,aliases,notes,bilibili,x,weibo",
    "Good One,G1,,101,good_one,",  # 2
    "=bad,,,102,,",  # 3 formula
    "Takes Owned,,,,OWNED_ONE,",  # 4 an account another candidate has (case differs)
    "Adopts,,,777,,",  # 5 an unowned account seen in an ad-hoc crawl: adopted
    "Good Two,,,103,,1669879400",  # 6
    "Dup In File,,,103,,",  # 7 the account row 6 just registered
    "Existing Person,,,104,,",  # 8 a name a candidate has
    "Good Three,,notes\twith tab,105,,",  # 9 tabs are fine in notes
    "Good Three,,,106,,",  # 10 the name row 9 just registered
    "Same Twice,,,107;107,,",  # 11 one account
    "Bad Handle,,,not-a-number,,",  # 12
    ",,,108,,",  # 13 missing name
    "Too,Many,Fields,1,2,3,4",  # 14
    "",
    "Good Four,,,109,GOOD_ONE,",  # 16 row 2's X handle in another case
    "Good Five,\u202eevil,,110,,",  # 17 alias with a bidi override
    "Good Six,,,111,,",  # 18
])


def _prepared(database_url: str) -> None:
    """A candidate who has an X account and a name; an unowned Bilibili account from an ad-hoc crawl."""
    from storage.candidates import account_for_ref, add_candidate
    from records import AccountRef

    with session_scope(database_url) as session:
        add_candidate(session, "Existing Person", accounts=[AccountRef("x", handle="owned_one")])
        account_for_ref(session, AccountRef("bilibili", platform_user_id="777"))


def _row_by_row(text: str, database_url: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """What one transaction per row (register_candidate, the way every row was imported before
    batches) says for each row of the same file."""
    from crawler.candidates_csv import csv_records, parse_accounts
    from storage.candidates import register_candidate
    from storage.names import clean_name

    added, errors = [], []
    records = csv_records(text)
    header = next(records)[1]
    columns = {h: i for i, h in enumerate(header)}
    for number, row in records:
        if isinstance(row, str) or not any(v.strip() for v in row):
            continue
        if len(row) > len(header):
            errors.append((number, f"row has more fields ({len(row)}) than the header ({len(header)})"))
            continue
        if not row[0].strip():
            errors.append((number, "missing name"))
            continue
        try:
            name = clean_name(row[0])
            refs = parse_accounts({p: row[columns[p]] for p in ("bilibili", "x", "weibo")})
            candidate = register_candidate(database_url, name, aliases=[a for a in row[1].split("|") if a.strip()],
                                           notes=row[2] or None, accounts=refs)
            added.append((number, f"{candidate.id} {candidate.display_name}"))
        except Exception as exc:  # noqa: BLE001 - the message is what is compared
            errors.append((number, str(exc)))
    return added, errors


@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_batched_import_reports_what_one_row_at_a_time_reported(database_url: str, tmp_path: Path, batch: int) -> None:
    from storage.db import upgrade

    _prepared(database_url)
    report = import_rows(MIXED, database_url, batch=batch)
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(reference_url)
    _prepared(reference_url)
    added, errors = _row_by_row(MIXED, reference_url)
    assert report.added == added
    assert report.errors == errors
    assert [number for number, _ in report.errors] == [3, 4, 7, 8, 10, 12, 13, 14, 16, 17]
    assert "already belongs to candidate" in dict(report.errors)[7] and "Good Two" in dict(report.errors)[7]
    assert "already exists" in dict(report.errors)[10]
    with session_scope(database_url) as session:
        adopted = session.exec(select(Account).where(Account.platform_user_id == "777")).one()
        owner = session.get(Candidate, adopted.candidate_id)
        assert owner.display_name == "Adopts" and adopted.profile_url == "https://space.bilibili.com/777"
        assert len(session.exec(select(Account).where(Account.platform_user_id == "107")).all()) == 1
        assert session.exec(select(Candidate).where(Candidate.display_name == "Good One")).one().name_key == "good one"
    assert {name: sorted(accounts) for name, accounts in _accounts(database_url).items()} == \
           {name: sorted(accounts) for name, accounts in _accounts(reference_url).items()}


def test_a_namesake_is_imported_when_allowed(database_url: str) -> None:
    _prepared(database_url)
    report = import_rows("name,bilibili\nExisting Person,500\nexisting person,501\n", database_url, allow_same_name=True)
    assert report.errors == [] and [number for number, _ in report.added] == [2, 3]


# --------------------------------------------------------------------------- POST /candidates/import


def test_the_api_imports_a_csv_body_with_the_same_report_and_its_own_size_limit(database_url: str) -> None:
    """The body is the file: rows are reported as `candidates import` reports them, a GB18030
    file is read and said so, a bad encoding is 422; the upload limit is the route's own, every
    other route keeps the small body limit."""
    from fastapi.testclient import TestClient

    from crawler.service.app import create_app

    token = "test-token-0123456789"
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    _prepared(database_url)
    with TestClient(create_app(database_url, token=token, workers=1, max_body=1024, max_upload=4096)) as client:
        answer = client.post("/candidates/import", content=MIXED.encode(), headers=auth)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert [row["row"] for row in body["rejected"]] == [3, 4, 7, 8, 10, 12, 13, 14, 16, 17]
        assert [(row["row"], row["display_name"]) for row in body["added"]] == \
            [(2, "Good One"), (5, "Adopts"), (6, "Good Two"), (9, "Good Three"), (11, "Same Twice"), (18, "Good Six")]
        assert body["note"] is None
        hostile = "name\n<script>alert(1)</script>\n\"\"\"><img src=x onerror=alert(1)>\"\n李佳琦\n".encode("gb18030")
        answer = client.post("/candidates/import", content=hostile, headers=auth)
        assert answer.status_code == 200, answer.text
        assert [row["display_name"] for row in answer.json()["added"]] == \
            ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "李佳琦"]
        assert "GB18030" in answer.json()["note"]
        assert client.post("/candidates/import", params={"encoding": "nonsense"}, content=b"name\nx\n",
                           headers=auth).status_code == 422
        assert client.post("/candidates/import", content=b"name\n" + b"y" * 5000 + b"\n", headers=auth).status_code == 413
        assert client.post("/lookups", content=b"{" + b" " * 2000 + b"}",
                           headers={**auth, "Content-Type": "application/json"}).status_code == 413
        assert client.post("/candidates/import", content=b"name\nz\n", headers={"Content-Type": "text/csv"}).status_code == 401


def test_serve_takes_the_upload_limit_from_max_upload_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`wangzi serve --max-upload` (or WANGZI_API_MAX_UPLOAD) is the limit the service gets for
    CSV uploads, beside --max-body for every other request."""
    import uvicorn
    from typer.testing import CliRunner

    import crawler.service.app
    from crawler.cli import app

    given: list[dict[str, object]] = []
    monkeypatch.setattr(crawler.service.app, "create_app", lambda *args, **kwargs: given.append(kwargs))
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.delenv("WANGZI_API_MAX_UPLOAD", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["serve", "--no-auth", "--max-upload", "5000", "--max-body", "1024"]).exit_code == 0
    assert runner.invoke(app, ["serve", "--no-auth"], env={"WANGZI_API_MAX_UPLOAD": "7000"}).exit_code == 0
    assert [(kwargs["max_upload"], kwargs["max_body"]) for kwargs in given][0] == (5000, 1024)
    assert given[1]["max_upload"] == 7000
    assert runner.invoke(app, ["serve", "--no-auth", "--max-upload", "10"]).exit_code == 2  # below the minimum
