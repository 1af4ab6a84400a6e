"""Plant secrets (login cookies, tokens, an API key, a session cookie the server sets), run
crawls with --verbose and --log-json, `wangzi record`, failing requests and a bad secrets
file, then grep every log, recording, dead letter and the database for the planted values.

Counter-check: `wangzi record --keep-secrets` must contain them, so the grep can find a leak.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.db import upgrade
from tests.faults.catalogue import generic_faults
from tests.faults.crawl import FAST, register, secret_env
from tests.faults.server import Answer, FaultServer, Routes, success_fallbacks
from tests.helpers import run_wangzi

pytestmark = pytest.mark.slow

PLANTED = {
    "WANGZI_X_AUTH_TOKEN": "PLANTEDxauth9f3c2a7e51d04b8c",
    "WANGZI_X_CT0": "PLANTEDct0e4d1b7a9c3f25e60",
    "WANGZI_XIAOHONGSHU_COOKIE": "a1=PLANTEDxhsa1c0ffee77; web_session=PLANTEDxhssess0badf00d",
    "YOUTUBE_API_KEY": "PLANTEDytkeyAIzaSy0123456789",
}
SERVER_COOKIE = "PLANTEDservercookie5eed1e55"
NEEDLES = ["PLANTEDxauth9f3c2a7e51d04b8c", "PLANTEDct0e4d1b7a9c3f25e60", "PLANTEDxhsa1c0ffee77",
           "PLANTEDxhssess0badf00d", "PLANTEDytkeyAIzaSy0123456789"]


def _leaks(folder: Path, needles: list[str]) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(folder)}: {needle}" for needle in needles if needle.encode() in data]
    return found


def test_planted_secrets_never_reach_logs_recordings_errors_or_the_database(tmp_path: Path) -> None:
    platforms = ["x", "instagram", "xiaohongshu"]
    out = tmp_path / "out"
    out.mkdir()
    database_url = f"sqlite:///{out / 'wangzi.db'}"
    upgrade(database_url)
    fallbacks = {key: Answer(a.status, a.body, (*a.headers, ("Set-Cookie", f"sessionid={SERVER_COOKIE}; Path=/; HttpOnly")))
                 for key, a in success_fallbacks(platforms).items()}
    routes = Routes(fallback=fallbacks)
    faults = {f.name: f for f in generic_faults()}
    accounts: dict[str, list[tuple[str, str]]] = {"x": [("XDevelopers", "XDevelopers")]}
    for number, name in enumerate(("429", "connection reset", "500", "truncated JSON"), start=1):
        token = f"wzleak{number:03d}q"
        routes.tokens[token] = faults[name].answer
        accounts["x"].append((token, token))
    if "xiaohongshu" in platforms:
        accounts["xiaohongshu"] = [("https://www.xiaohongshu.com/user/profile/5a1b2c3d4e5f60718293a4b5", "5a1b2c3d4e5f60718293a4b5")]
    register(database_url, accounts)

    bad_secrets = tmp_path / "secrets.toml"
    bad_secrets.write_text('WANGZI_X_AUTH_TOKEN = "PLANTEDxauth9f3c2a7e51d04b8c"\n', encoding="utf-8")
    os.chmod(bad_secrets, 0o644)
    env = {"SCRAPY_SETTINGS_MODULE": "tests.faults.settings", "WANGZI_DEAD_LETTER_DIR": str(out / "dead-letters"),
           **secret_env(), **PLANTED}
    settings = [arg for name, value in FAST.items() for arg in ("-s", f"{name}={value}")]
    crawl_args = ["crawl", *[a for p in platforms for a in ("--platform", p)], *settings]
    with FaultServer(routes) as server:
        env["WANGZI_FAULT_SERVER"] = server.base_url
        runs = {
            "crawl-verbose": ([*crawl_args, "--verbose"], env),
            "crawl-json": ([*crawl_args, "--log-json"], env),
            "record": (["record", str(out / "session.har"), "--", *crawl_args, "--verbose"], env),
            "kept": (["record", str(tmp_path / "kept.har"), "--keep-secrets", "--", "crawl", "--platform", "x", *settings], env),
            "lookup": (["lookup", "x:XDevelopers", "--json", "--verbose", *settings], env),
            "bad-secrets-file": ([*crawl_args, "--verbose"], {**env, "WANGZI_X_AUTH_TOKEN": "", "WANGZI_SECRETS_FILE": str(bad_secrets)}),
        }
        for name, (args, run_env) in runs.items():
            done = run_wangzi(*args, database_url=database_url, cwd=out, env=run_env)
            (out / f"{name}.log").write_text(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}", encoding="utf-8")
            assert done.returncode in (0, 1, 2), (name, done.stderr[-2000:])

    logs = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.log")}
    assert "rate_limited" in logs["crawl-verbose.log"] and "network" in logs["crawl-verbose.log"]  # the errors did happen
    assert "Dumping Scrapy stats" in logs["crawl-verbose.log"]
    assert (out / "session.har").exists()
    # The detector works: kept on request, the values are in the recording.
    assert SERVER_COOKIE.encode() in (tmp_path / "kept.har").read_bytes()
    assert PLANTED["WANGZI_X_CT0"].encode() in (tmp_path / "kept.har").read_bytes()
    # And nowhere else.
    assert _leaks(out, [*NEEDLES, SERVER_COOKIE]) == []
