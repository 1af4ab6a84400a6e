"""A handle is a name, never a path (issue 14, item 9).

``https://www.instagram.com/../../x`` was read as the handle ``..``: the crawl then asked
``https://www.instagram.com/../``. Every platform that takes handles refuses ``.``/``..``
as a handle and any link whose path has a ``.`` or ``..`` segment (percent-encoded too),
with its usual user-facing message; the same links in a bio suggest no account.
"""

from __future__ import annotations

import pytest

from spiders.pages.identity import recognize
from spiders.pages.registry import normalize_account

#: Platform -> (site, the profile path of the handle "{h}", the message's opening).
HANDLE_PLATFORMS = {
    "instagram": ("https://www.instagram.com", "{h}/", "is not an Instagram"),
    "tiktok": ("https://www.tiktok.com", "@{h}", "is not a TikTok"),
    "youtube": ("https://www.youtube.com", "@{h}", "is not a YouTube"),
    "x": ("https://x.com", "{h}", "is not an X"),
}

#: Inputs that are no profile on any platform: a bare "." or "..", relative paths, percent-encoded dots.
BARE = [".", "..", "...", "@..", "@.", "./x", "x/..", "../x", "%2e%2e", "%2E%2E", ".%2e", "@%2e%2e"]


def _links(platform: str) -> list[str]:
    site, path, _ = HANDLE_PLATFORMS[platform]
    x, y = path.format(h="x").rstrip("/"), path.format(h="y")
    return [
        f"{site}/../../x",  # the reported link
        *(f"{site}/{path.format(h=dots)}" for dots in ("..", ".", "...", "%2e%2e", "%2E%2E", ".%2e")),
        f"{site}/./{x}", f"{site}/%2e%2e/{x}", f"{site}/../{x}",
        f"{site}/{x}/..", f"{site}/{x}/../", f"{site}/{x}/%2e%2e", f"{site}/{x}/./", f"{site}/{x}/../{y}",
        f"{site.removeprefix('https://')}/{x}/..",  # scheme left out
    ]


CASES = [pytest.param(platform, text, id=f"{platform}:{text}")
         for platform in HANDLE_PLATFORMS for text in [*_links(platform), *BARE]]


@pytest.mark.parametrize(("platform", "text"), CASES)
def test_dot_segments_are_refused_with_the_platforms_message(platform: str, text: str) -> None:
    with pytest.raises(ValueError, match=HANDLE_PLATFORMS[platform][2]):
        normalize_account(platform, text)


@pytest.mark.parametrize("text", [
    "https://www.youtube.com/c/..", "https://www.youtube.com/user/.", "https://www.youtube.com/c/%2e%2e",
    "https://www.youtube.com/c/name/..", "https://www.youtube.com/channel/UCBR8-60-B28hp2BmDPdntcQ/..",
])
def test_youtubes_legacy_names_and_channel_links_refuse_dot_segments_too(text: str) -> None:
    with pytest.raises(ValueError, match="is not a YouTube"):
        normalize_account("youtube", text)


@pytest.mark.parametrize("text", ["https://x.com/./i/user/123456", "https://x.com/i/user/123456/..",
                                  "https://x.com/i/../user/123456"])
def test_x_user_id_links_refuse_dot_segments_too(text: str) -> None:
    with pytest.raises(ValueError, match="is not an X"):
        normalize_account("x", text)


@pytest.mark.parametrize(("platform", "text", "handle"), [
    ("instagram", "https://www.instagram.com/mia.chen_tokyo/", "mia.chen_tokyo"),
    ("instagram", "@mia.chen", "mia.chen"),
    ("tiktok", "https://www.tiktok.com/@mia.chen", "mia.chen"),
    ("tiktok", "._mia", "._mia"),  # dots inside or first are TikTok usernames; dots alone are not
    ("youtube", "https://www.youtube.com/@Mia.Chen-Tokyo", "Mia.Chen-Tokyo"),
    ("youtube", "https://www.youtube.com/c/MiaChen", "c/MiaChen"),
    ("x", "https://x.com/miachen_tokyo/", "miachen_tokyo"),
])
def test_handles_with_dots_inside_are_still_read(platform: str, text: str, handle: str) -> None:
    assert normalize_account(platform, text).handle == handle


@pytest.mark.parametrize("link", ["https://www.instagram.com/../../x", "https://www.tiktok.com/@..",
                                  "https://www.youtube.com/c/..", "https://x.com/x/../y"])
def test_a_bio_link_with_dot_segments_suggests_no_account(link: str) -> None:
    assert recognize(link) is None
