"""``wangzi serve``: the HTTP service for on-demand lookups (see crawler.service)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from crawler.cli._common import DATABASE_OPTION, USAGE, err, fail, line
from crawler.logging import install_json_logging
from crawler.service import DEFAULT_LOOKUP_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_UPLOAD, DEFAULT_WORKERS


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(DEFAULT_WORKERS, "--workers", min=1, max=64, envvar="WANGZI_API_WORKERS", help="Lookups crawling at once (each in its own process); the rest wait in a queue."),
    max_body: int = typer.Option(DEFAULT_MAX_BODY, "--max-body", min=256, envvar="WANGZI_API_MAX_BODY", help="Largest request body in bytes (413 above it)."),
    max_upload: int = typer.Option(DEFAULT_MAX_UPLOAD, "--max-upload", min=256, envvar="WANGZI_API_MAX_UPLOAD", help="Largest CSV upload in bytes (POST /candidates/import and the desk's import; 413 above it)."),
    lookup_timeout: float = typer.Option(DEFAULT_LOOKUP_TIMEOUT, "--lookup-timeout", min=1.0, help="Seconds a lookup may run before it is stopped and marked failed."),
    replay: Path = typer.Option(None, "--replay", help="Serve every crawl from this HAR recording (offline demos and tests)."),
    no_auth: bool = typer.Option(False, "--no-auth", help="Accept requests without a token (local development only)."),
    secure_cookies: bool = typer.Option(False, "--secure-cookies", envvar="WANGZI_DESK_SECURE_COOKIES", help="Mark the review desk's session cookie Secure (serve it behind HTTPS)."),
    log_json: bool = typer.Option(False, "--log-json", help="Log one JSON object per line on stderr."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Serve the review desk at / (log in with the token) and the JSON API: POST /lookups,
    GET /lookups/{id}, GET /candidates, GET /candidates/{id}/features, /shortlists (docs page at
    /docs, which asks for the token). Every API route but /health and /docs needs
    `Authorization: Bearer $WANGZI_API_TOKEN`."""
    # Imported here, not at the top: FastAPI and uvicorn would slow every `wangzi` command.
    import uvicorn

    from crawler.service.app import create_app

    # The API token is the serving process's configuration (not a crawl setting), read from
    # the environment; create_app reads the same variable.
    if not no_auth and not os.environ.get("WANGZI_API_TOKEN"):
        raise fail("set WANGZI_API_TOKEN (clients send it as `Authorization: Bearer ...`), or pass --no-auth for local use", USAGE)
    if replay is not None and not replay.exists():
        raise fail(f"recording {replay} does not exist", USAGE)
    log_config = None
    if log_json:
        install_json_logging("INFO")
    else:
        log_config = uvicorn.config.LOGGING_CONFIG
    app = create_app(database_url, workers=workers, max_body=max_body, max_upload=max_upload, replay=replay.resolve() if replay else None,
                     lookup_timeout=lookup_timeout, require_auth=not no_auth, secure_cookies=secure_cookies)
    err.print(line(f"Wangzi review desk on http://{host}:{port}/ (log in with WANGZI_API_TOKEN), API docs at /docs; "
                   f"{workers} lookup worker(s)"))
    uvicorn.run(app, host=host, port=port, log_config=log_config, access_log=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
