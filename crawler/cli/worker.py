"""``wangzi worker``: consume the distributed job queue in Redis (see crawler.distributed)."""

from __future__ import annotations

from pathlib import Path

import typer

from crawler.cli._common import (
    OK,
    PROBLEM,
    chosen_platforms,
    err,
    fail,
    friendly_errors,
    json_log_overrides,
    log_overrides,
    setting_overrides,
)


def worker(
    redis: str = typer.Option(..., "--redis", metavar="REDIS_URL", envvar="WANGZI_REDIS_URL", help="The Redis that `crawl --due --distributed` queues into, e.g. redis://HOST:6379/0."),
    platform: list[str] = typer.Option(None, "--platform", "-p", help="Only these platforms' jobs (repeatable). Default: all."),
    max_idle: int = typer.Option(0, "--max-idle", min=0, help="Exit after this many seconds with no job queued or in flight anywhere (0: run until stopped)."),
    replay: Path = typer.Option(None, "--replay", help="Serve every request from this HAR recording (offline)."),
    setting: list[str] = typer.Option(None, "--set", "-s", help="Scrapy/Wangzi setting NAME=VALUE (repeatable), e.g. -s 'WANGZI_RATE_LIMITS={\"bilibili\": 2}'."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Scrapy's INFO log instead of warnings only."),
    log_json: bool = typer.Option(False, "--log-json", help="Log one JSON object per line on stderr."),
    database_url: str = typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Database every worker writes to (PostgreSQL when workers run on several machines)."),
) -> None:
    """Crawl the accounts queued in Redis by `wangzi crawl --due --distributed`, as many
    workers as you like on any machines. Requests per platform are limited across all
    workers by a shared token bucket (WANGZI_RATE_LIMITS). A job is acknowledged once its
    data is stored; the jobs of a worker that dies are taken over by the others."""
    # Imported here, not at the top: Redis, scrapy-redis and Scrapy would slow every `wangzi` command.
    from redis.exceptions import RedisError

    from crawler.distributed.worker import run_worker

    with friendly_errors():
        platforms = chosen_platforms(platform)
        overrides = {**log_overrides(verbose, False), **json_log_overrides(log_json), **setting_overrides(setting)}
        try:
            run_id = run_worker(redis, platforms, database_url=database_url, replay=replay, max_idle=max_idle, overrides=overrides)
        except RedisError as exc:
            raise fail(f"cannot use Redis at {redis}: {exc}", PROBLEM) from None
    err.print(f"worker run {run_id} stopped")
    raise typer.Exit(OK)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
