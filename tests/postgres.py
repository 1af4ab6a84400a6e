"""A real PostgreSQL server for the tests, started from Debian's binaries on loopback.

``PostgresServer.start()`` runs ``initdb`` into a fresh temporary directory and starts
``postgres`` on 127.0.0.1 and a free port (tuned for tests: no fsync). PostgreSQL refuses
to run as root, so when the tests run as root the cluster belongs to the ``postgres``
system user (created by the Debian package) and its commands run through ``runuser``.
Each test gets its own database, cloned from a migrated template, so tests never see
each other's rows.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

#: Environment variable naming an existing server to use instead (e.g. a CI service):
#: ``postgresql+psycopg://user:pass@host:5432/postgres`` (a database that may CREATE DATABASE).
EXTERNAL_URL_ENV = "WANGZI_TEST_POSTGRES_URL"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (the message says why)."""


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has initdb and postgres."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0
    )
    for path in reversed(candidates):
        if (Path(path) / "initdb").exists() and (Path(path) / "postgres").exists():
            return Path(path)
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).parent
    raise PostgresUnavailable("PostgreSQL server binaries not found (apt-get install postgresql)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One throwaway cluster; ``url(db)`` builds SQLAlchemy URLs for it."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.port = free_port()
        self.user = "wangzi"
        self.root = Path(tempfile.mkdtemp(prefix="wangzi-pg-"))
        self.data = self.root / "data"
        self.process: subprocess.Popen[bytes] | None = None
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and there is no 'postgres' system user to run the server") from None
            if not shutil.which("runuser"):
                raise PostgresUnavailable("running as root and `runuser` is missing")
            self.run_as = "postgres"

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *args] if self.run_as else list(args)

    def start(self) -> "PostgresServer":
        if self.run_as:
            shutil.chown(self.root, user=self.run_as)
            os.chmod(self.root, 0o700)
        initdb = subprocess.run(
            self._command(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
                          "-E", "UTF8", "--locale=C", "--no-sync"),
            capture_output=True, text=True,
        )
        if initdb.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {initdb.stderr.strip()[-500:]}")
        self.process = subprocess.Popen(
            self._command(
                str(self.bindir / "postgres"), "-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.port),
                "-k", str(self.root), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=300", "-c", "timezone=UTC", "-c", "shared_buffers=64MB",
            ),
            stdout=subprocess.DEVNULL, stderr=open(self.root / "server.log", "wb"),  # noqa: SIM115
        )
        self._wait()
        return self

    def _wait(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                log = (self.root / "server.log").read_text(errors="replace")[-800:]
                raise PostgresUnavailable(f"postgres exited with {self.process.returncode}: {log}")
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise PostgresUnavailable("postgres did not accept connections within 30s") from None
                time.sleep(0.1)

    def dsn(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # "fast" shutdown: disconnects the clients (pooled connections of this process).
            subprocess.run(self._command(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w"),
                           capture_output=True, timeout=60)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


class Databases:
    """Hands out fresh, migrated databases on a server (cloned from one migrated template)."""

    TEMPLATE = "wangzi_template"

    def __init__(self, admin_dsn: str, url_for: "callable") -> None:  # type: ignore[valid-type]
        self.admin_dsn = admin_dsn
        self.url_for = url_for
        self.template_ready = False

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as connection:
            connection.execute(sql)

    def create(self) -> str:
        from storage.db import upgrade

        if not self.template_ready:
            self._execute(f"DROP DATABASE IF EXISTS {self.TEMPLATE}")
            self._execute(f"CREATE DATABASE {self.TEMPLATE}")
            upgrade(self.url_for(self.TEMPLATE))
            from storage.db import get_engine

            get_engine(self.url_for(self.TEMPLATE)).dispose()  # a template must have no connections
            self.template_ready = True
        name = f"t_{uuid.uuid4().hex[:16]}"
        self._execute(f"CREATE DATABASE {name} TEMPLATE {self.TEMPLATE}")
        return self.url_for(name)


def start_databases() -> tuple[Databases, PostgresServer | None]:
    """Fresh-database factory on an external server (``WANGZI_TEST_POSTGRES_URL``) or on one
    started here; raises :class:`PostgresUnavailable` with the reason otherwise."""
    external = os.environ.get(EXTERNAL_URL_ENV)
    if external:
        base, _, _ = external.rpartition("/")
        dsn = external.replace("postgresql+psycopg://", "postgresql://")
        return Databases(dsn, lambda name: f"{base}/{name}"), None
    server = PostgresServer().start()
    return Databases(server.dsn("postgres"), server.url), server
