"""HAR recordings: matching ignores volatile parameters, secrets are redacted, the loopback
server answers like the platform did, and a missing answer is a clear miss."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from crawler.replay import (
    Exchange, Recording, RecordingError, ReplayServer, load_har, loopback_url, real_url, request_key, write_har,
)


def test_signatures_and_timestamps_do_not_take_part_in_matching() -> None:
    signed = "https://api.bilibili.com/x/space/wbi/acc/info?mid=2&wts=1702204169&w_rid=abc"
    other = "https://api.bilibili.com/x/space/wbi/acc/info?w_rid=zzz&wts=1&mid=2"
    assert request_key("GET", signed) == request_key("get", other)
    assert request_key("GET", signed) != request_key("GET", signed.replace("mid=2", "mid=3"))
    assert request_key("GET", signed) != request_key("POST", signed)


def test_har_round_trip_keeps_bytes_and_binary_bodies(tmp_path: Path) -> None:
    exchanges = [
        Exchange(url="https://a.example/x?q=1", body='{"名字": "值"}'.encode()),
        Exchange(url="https://a.example/bin", body=bytes(range(256)), headers={"Content-Type": "image/png"}),
    ]
    path = write_har(tmp_path / "r.har", exchanges)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["log"]["version"] == "1.2"
    loaded = load_har(path)
    assert [e.body for e in loaded] == [e.body for e in exchanges]
    assert loaded[1].headers["Content-Type"] == "image/png"


def test_recordings_redact_cookies_authorization_and_api_keys(tmp_path: Path) -> None:
    secret = "s3cr3t-token-value"
    exchange = Exchange(
        url=f"https://youtube.googleapis.com/youtube/v3/channels?id=UC1&key={secret}",
        headers={"Set-Cookie": f"sid={secret}"},
        request_headers={"Cookie": f"SESSDATA={secret}", "Authorization": f"Bearer {secret}", "Accept": "*/*",
                         "X-Goog-Api-Key": secret},  # how the YouTube spider sends YOUTUBE_API_KEY
    )
    text = write_har(tmp_path / "r.har", [exchange]).read_text(encoding="utf-8")
    assert secret not in text
    assert "REDACTED" in text
    # ...and the redacted recording still answers the real request.
    assert Recording(load_har(tmp_path / "r.har")).has("GET", exchange.url)
    kept = write_har(tmp_path / "k.har", [exchange], keep_secrets=True).read_text(encoding="utf-8")
    assert secret in kept


def test_server_answers_with_recorded_status_headers_and_body() -> None:
    recording = Recording([
        Exchange(url="https://m.weibo.cn/api/x?a=1", status=418, body=b"teapot", headers={"X-Test": "yes"}),
        Exchange(url="https://www.example.com/old", status=302, headers={"Location": "/website-login/?x=1"}),
    ])
    with ReplayServer(recording) as server:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(loopback_url(server.base_url, "https://m.weibo.cn/api/x?a=1"))
        assert answer.value.code == 418
        assert answer.value.read() == b"teapot"
        assert answer.value.headers["X-Test"] == "yes"

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                return None

        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(loopback_url(server.base_url, "https://www.example.com/old"))
        # A Location stays on loopback (Chromium follows redirects itself) and maps back to the real URL.
        location = redirect.value.headers["Location"]
        assert location == loopback_url(server.base_url, "https://www.example.com/website-login/?x=1")
        assert real_url(location, server.base_url) == "https://www.example.com/website-login/?x=1"

        with pytest.raises(urllib.error.HTTPError) as miss:
            urllib.request.urlopen(loopback_url(server.base_url, "https://m.weibo.cn/api/other"))
        assert miss.value.code == 599
        assert b"https://m.weibo.cn/api/other" in miss.value.read()


def test_repeated_requests_get_the_recorded_answers_in_order() -> None:
    recording = Recording([Exchange(url="https://x.example/a", body=b"1"), Exchange(url="https://x.example/a", body=b"2")])
    assert [recording.answer("GET", "https://x.example/a").body for _ in range(3)] == [b"1", b"2", b"2"]


def test_a_broken_recording_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.har").write_text("{not json", encoding="utf-8")
    with pytest.raises(RecordingError, match="not a HAR"):
        load_har(tmp_path / "bad.har")
    with pytest.raises(RecordingError, match="does not exist"):
        load_har(tmp_path / "missing.har")
