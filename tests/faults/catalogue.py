"""The faults of the matrix, what each platform must make of them, and accounts to aim them at.

Generic faults apply to every platform. Platform block codes are taken from the platform's
own fixtures (real samples where they exist): the fixture's ``expected.json`` says which
failure kind the parser must give, so the matrix checks the spider end to end against the
same verdict the parser test pins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from records import AccountRef
from tests.faults.server import Answer, content_type, fixture_answer, fixture_cases

JSON = (("Content-Type", "application/json; charset=utf-8"),)
HTML = (("Content-Type", "text/html; charset=utf-8"),)

#: Statuses the crawl retries (crawler.settings RETRY_HTTP_CODES).
RETRIED = {429, 500, 502, 503, 504, 522, 524, 408}


@dataclass(frozen=True)
class Fault:
    name: str
    answer: Answer
    accept: frozenset[str]  # failure kinds that are a correct verdict
    retried: bool = False  # the server must see RETRY_TIMES + 1 attempts per URL
    page: tuple[str, Answer] | None = None  # (real URL, answer) a redirect leads to
    note: str = ""
    endpoint: str | None = None  # a fixture's URL path: the cell counts only if the spider asks it first


LOGIN_PAGE = b"<!doctype html><html><head><title>Log in</title></head><body><form action=/login><input name=password type=password></form></body></html>"
CAPTCHA_PAGE = (b"<!doctype html><html><head><title>Security verification</title></head><body>"
                b"<div id=captcha>Please verify you are human / \xe8\xaf\xb7\xe5\xae\x8c\xe6\x88\x90\xe5\xae\x89\xe5\x85\xa8\xe9\xaa\x8c\xe8\xaf\x81</div></body></html>")


def generic_faults() -> list[Fault]:
    return [
        Fault("429 + Retry-After", Answer(429, b'{"message":"Too Many Requests"}', (*JSON, ("Retry-After", "1"))),
              frozenset({"rate_limited"}), retried=True),
        Fault("429", Answer(429, b'{"message":"Too Many Requests"}', JSON), frozenset({"rate_limited"}), retried=True),
        Fault("500", Answer(500, b"<html><body>Internal Server Error</body></html>", HTML), frozenset({"http_error"}), retried=True),
        Fault("502", Answer(502, b"<html><body>Bad Gateway</body></html>", HTML), frozenset({"http_error"}), retried=True),
        Fault("503", Answer(503, b"<html><body>Service Unavailable</body></html>", HTML),
              frozenset({"http_error", "rate_limited"}), retried=True),
        Fault("truncated JSON", Answer(200, b'{"code":0,"message":"0","data":{"mid":1,"name":"x","follower":12345,"card":{"fans":123', JSON),
              frozenset({"unrecognized"})),
        Fault("JSON of the wrong shape", Answer(200, b'[{"unexpected": true, "followers": "12345"}]', JSON), frozenset({"unrecognized"})),
        Fault("HTML instead of JSON", Answer(200, b"<!doctype html><html><body><h1>Welcome</h1><p>12,345 followers</p></body></html>", HTML),
              frozenset({"unrecognized"})),
        Fault("10 s stall", Answer(action="stall"), frozenset({"network"}), note="DOWNLOAD_TIMEOUT=6"),
        Fault("connection reset", Answer(action="reset"), frozenset({"network"})),
        Fault("20 MB body", Answer(action="big"), frozenset({"network", "unrecognized"}), note="DOWNLOAD_MAXSIZE"),
        Fault("1 MB nested HTML", Answer(200, NESTED_PAGE, HTML), frozenset({"unrecognized"}),
              note="PageTexts / WANGZI_PARSE_TIMEOUT"),
    ]


def nested_page(size: int = 1_100_000) -> bytes:
    """About ``size`` bytes of ``<div>层<span>粉丝</span>`` nested inside each other (33k levels,
    66k elements, for 1.1 MB) and no number anywhere: a label reader that is quadratic in the
    depth ran for minutes on it (tests/test_parse_limits.py), and nothing on it is a count."""
    level = "<div>层<span>粉丝</span>"
    n = size // (len(level.encode()) + len("</div>"))
    return f"<!doctype html><html><body>{level * n}{'</div>' * n}</body></html>".encode()


NESTED_PAGE = nested_page()


# --------------------------------------------------------------------------- press


#: The candidate the press row searches for (one alias: one GDELT request).
PRESS_NAME = "Fault Press"
#: A public article host whose page redirects to the cloud metadata service.
SSRF_REDIRECT = "https://news.wangzi-fault.test/fault-press-moved"
#: What a hostile feed lists: every URL must be refused before anything is sent for it.
SSRF_URLS = (
    "http://127.0.0.1:6379/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/admin",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://localhost.localdomain/",
    "http://user:secret@news.wangzi-fault.test/a",
    "file:///etc/passwd",
    "http://intranet.private.wangzi-fault.test/fault-press",  # only DNS tells (tests.faults.resolver)
    SSRF_REDIRECT,
)


def gdelt_answer(urls: tuple[str, ...]) -> bytes:
    return json.dumps({"articles": [
        {"url": url, "url_mobile": "", "title": f"{PRESS_NAME} headline", "seendate": "20261102T081500Z",
         "socialimage": "", "domain": "wangzi-fault.test", "language": "English", "sourcecountry": "Japan"}
        for url in urls]}).encode()


def press_faults() -> list[Fault]:
    """The press spider's rows: a GDELT answer listing hostile URLs (SSRF). Under the fault
    server every request is rewritten to it, so a hostile URL that got through would be in its
    hits; ``page`` is the public article that redirects to the metadata service."""
    return [Fault("feed listing hostile URLs (SSRF)", Answer(200, gdelt_answer(SSRF_URLS), JSON), frozenset({"refused"}),
                  page=(SSRF_REDIRECT, Answer(302, b"", location="http://169.254.169.254/latest/meta-data/")),
                  note="GDELT answer; every URL refused, none asked, no mention")]


#: Platform block codes: fixture-name fragments of the platform's own samples.
BLOCK_FIXTURES: dict[str, list[tuple[str, str]]] = {
    "bilibili": [("Bilibili -412", "412"), ("Bilibili -352", "352"), ("Bilibili -509", "509")],
    "weibo": [("Weibo 418", "418"), ("Weibo 432", "432"), ("Weibo ok:-100", "100")],
    "xiaohongshu": [("Xiaohongshu 461", "461")],
    "instagram": [("Instagram 401 Please wait", "401_please_wait")],
    "x": [("X error 88", "error_88")],
}


def _error_case(platform: str, fragment: str, kind: str | None = None) -> tuple[dict, dict, bytes] | None:
    for name, meta, expected, payload in fixture_cases(platform):
        if isinstance(expected, dict) and "error" in expected and fragment in name and (kind is None or expected["error"] == kind):
            return meta, expected, payload
    return None


def platform_faults(platform: str) -> list[Fault]:
    """Block codes, login redirect and captcha for one platform (from its fixtures when it has them)."""
    faults = []
    for label, fragment in BLOCK_FIXTURES.get(platform, []):
        found = _error_case(platform, fragment)
        if found is None:
            continue
        meta, expected, payload = found
        answer = fixture_answer(meta, payload)
        faults.append(Fault(label, answer, frozenset({expected["error"]}), retried=answer.status in RETRIED,
                            note=f"fixture {platform}", endpoint=urlsplit(meta["url"]).path))
    for label, kind in (("account not found", "not_found"), ("private account", "private")):
        for name, meta, expected, payload in fixture_cases(platform):
            if isinstance(expected, dict) and expected.get("error") == kind and meta.get("url"):
                answer = fixture_answer(meta, payload)
                faults.append(Fault(label, answer, frozenset({kind}), retried=answer.status in RETRIED, note=f"fixture {name}",
                                    endpoint=urlsplit(meta["url"]).path))
                break
    faults.append(_redirect_fault(platform, "login redirect", "login_required", "login", LOGIN_PAGE))
    faults.append(_redirect_fault(platform, "captcha page", "captcha", "captcha", CAPTCHA_PAGE))
    return faults


def _redirect_fault(platform: str, label: str, kind: str, word: str, page: bytes) -> Fault:
    """A 302 to the platform's own login/captcha URL (from a fixture) and that page."""
    for name, meta, expected, payload in fixture_cases(platform):
        if (isinstance(expected, dict) and expected.get("error") == kind and meta.get("url")
                and word in urlsplit(meta["url"]).path.lower() + name):
            target = meta["url"]
            return Fault(label, Answer(302, b"", location=target), frozenset({kind}),
                         page=(target, Answer(200, payload, (("Content-Type", content_type(payload)),))),
                         note=f"to {urlsplit(target).netloc}{urlsplit(target).path}")
    for name, meta, expected, payload in fixture_cases(platform):  # e.g. Instagram's challenge_required
        if isinstance(expected, dict) and expected.get("error") == kind:
            return Fault(label, fixture_answer(meta, payload), frozenset({kind}), note=f"fixture {name}",
                         endpoint=urlsplit(meta["url"]).path)
    # The platform's samples show no such page: a generic one, where "unrecognized" is honest too.
    target = f"https://{word}.wangzi-fault.invalid/{word}?platform={platform}"
    return Fault(label, Answer(302, b"", location=target), frozenset({kind, "unrecognized"}),
                 page=(target, Answer(200, page, HTML)), note="generic page (no platform sample)")


def faults_for(platform: str) -> list[Fault]:
    """Every fault for one platform, ``retried`` as that platform's spider retries: X and
    Instagram leave 429 out of their RETRY_HTTP_CODES (a spent window is refused again)."""
    retried = retried_statuses(platform)
    return [replace(f, retried=f.retried and f.answer.status in retried)
            for f in generic_faults() + platform_faults(platform)]


def retried_statuses(platform: str) -> frozenset[int]:
    """The statuses the platform's crawl retries: its spider's RETRY_HTTP_CODES, else the project's."""
    from crawler.runner import spider_class

    codes = (spider_class(platform).custom_settings or {}).get("RETRY_HTTP_CODES")
    return frozenset(int(c) for c in codes) if codes is not None else frozenset(RETRIED)


# --------------------------------------------------------------------------- accounts


def account_input(platform: str, number: int) -> tuple[str, str]:
    """(what a user types, the token every URL of that account contains) for cell ``number``.

    Tries a lowercase handle, a numeric id and a 24-hex id (Xiaohongshu) until the platform's
    ``normalize_account`` accepts one and keeps the token."""
    from spiders.pages.registry import normalize_account

    forms = [f"wzfault{number:03d}q", f"77{number:05d}3", f"fa{number:04x}" + "0" * 16 + "ab",
             f"MS4wLjABAAAAwzfault{number:04d}zzzzzzzzzz"]  # Douyin sec_uid
    for text in forms:
        try:
            ref: AccountRef = normalize_account(platform, text)
        except ValueError:
            continue
        if text in {ref.handle, ref.platform_user_id}:
            return text, text
    raise LookupError(f"{platform}: none of {forms} is a valid account")
