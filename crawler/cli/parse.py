"""``wangzi parse``: run a platform's pure parser on a saved response."""

from __future__ import annotations

import inspect
import json
import logging
import sys
from pathlib import Path
from typing import Any

import typer

from crawler.cli._common import OK, PROBLEM, USAGE, fail
from records import Failure, PostPage, Profile
from records.leads import SearchPage
from spiders.pages.article import ArticlePage
from spiders.pages.google_news import ArticleSignature, GoogleLink
from spiders.pages.news import NewsFeed
from spiders.pages.parsing import safe_parse
from spiders.pages.registry import UnknownPlatform, platform_module

#: Every record a platform's or news source's parser answers with (besides a ``Failure``):
#: what this command prints.
PRINTED: tuple[type, ...] = (Profile, PostPage, NewsFeed, ArticleSignature, GoogleLink, ArticlePage, SearchPage)


def parse(
    platform: str = typer.Argument(..., help="bilibili, weibo, xiaohongshu, douyin, taobao_live, youku, youtube, "
                                              "instagram, tiktok, x, google_news, gdelt, article, or a "
                                              "search answer: bilibili_search, weibo_search, xiaohongshu_search, "
                                              "youtube_search."),
    file: Path = typer.Argument(..., help="The saved response body (JSON, HTML, XML), or - for stdin."),
    url: str = typer.Option(None, "--url", help="The URL it was fetched from (picks the endpoint parser)."),
    status: int = typer.Option(200, "--status", help="The HTTP status it came with."),
    alias: list[str] = typer.Option(None, "--alias", help="article only: a name to confirm (repeatable)."),
) -> None:
    """Print the parsed record as one JSON object; a failure prints {"error": KIND, ...} and exits 1.

    Nothing is fetched and nothing is stored: this is the parser the spiders use.
    """
    try:
        module = platform_module(platform)
    except UnknownPlatform as exc:
        raise fail(str(exc), USAGE) from None
    try:
        payload = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}", USAGE) from None

    kwargs: dict[str, Any] = {}
    if alias:
        if "aliases" not in inspect.signature(module.parse).parameters:
            raise fail(f"--alias applies to article pages, not to {platform}", USAGE)
        kwargs["aliases"] = list(alias)
    # A parser that raises is printed as an ``unrecognized`` failure, as a crawl stores it;
    # the traceback safe_parse logs for crawl logs is not printed here.
    logging.getLogger("spiders.pages.parsing").addHandler(logging.NullHandler())
    result = safe_parse(module.parse, payload, url, status, expected=PRINTED, **kwargs)
    typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    raise typer.Exit(PROBLEM if isinstance(result, Failure) else OK)


def register(app: typer.Typer) -> None:
    app.command("parse")(parse)
