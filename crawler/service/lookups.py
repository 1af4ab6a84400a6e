"""Running the lookups the service accepted: each one a ``wangzi lookup ID --json``
subprocess (Scrapy's reactor cannot restart inside a process), ``workers`` at once, in
request order. Jobs are kept in the ``lookupjob`` table, so a restarted service picks up
the unfinished ones."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from storage.db import session_scope
from storage.lookup_jobs import lookup_job, requeue_unfinished, update_job
from storage.models import LookupJob

logger = logging.getLogger(__name__)

#: The checkout the service runs from: the subprocesses import the same code.
REPO_ROOT = Path(__file__).resolve().parents[2]


class LookupQueue:
    """Runs lookups in subprocesses, ``workers`` at a time, in request order."""

    def __init__(self, database_url: str, workers: int, replay: str | None, timeout: float) -> None:
        self.database_url = database_url
        self.workers = max(1, workers)
        self.replay = replay
        self.timeout = timeout
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []
        self.running: set[str] = set()

    async def start(self) -> None:
        def pending() -> list[str]:
            with session_scope(self.database_url) as session:
                return requeue_unfinished(session)

        for job_id in await asyncio.to_thread(pending):
            self.queue.put_nowait(job_id)
        self.tasks = [asyncio.create_task(self._work(), name=f"lookup-worker-{i}") for i in range(self.workers)]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def submit(self, job_id: str) -> None:
        """Queue a job (on the event loop: the queue is not thread-safe)."""
        self.queue.put_nowait(job_id)

    async def _work(self) -> None:
        while True:
            job_id = await self.queue.get()
            self.running.add(job_id)
            try:
                await self._run(job_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad job must not stop the worker
                logger.exception("lookup %s failed", job_id)
                await asyncio.to_thread(self._update, job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            finally:
                self.running.discard(job_id)
                self.queue.task_done()

    def _update(self, job_id: str, **values: Any) -> None:
        with session_scope(self.database_url) as session:
            update_job(session, job_id, **values)

    def _job(self, job_id: str) -> LookupJob | None:
        with session_scope(self.database_url) as session:
            return lookup_job(session, job_id)

    def command(self, candidate_id: int, platforms: list[str]) -> list[str]:
        args = [sys.executable, "-m", "crawler.cli", "lookup", str(candidate_id), "--json"]
        for platform in platforms:
            args += ["--platform", platform]
        if self.replay:
            args += ["--replay", self.replay]
        return args

    async def _run(self, job_id: str) -> None:
        job = await asyncio.to_thread(self._job, job_id)
        if job is None or job.status not in {"queued", "running"}:
            return
        await asyncio.to_thread(self._update, job_id, status="running")
        env = {**os.environ, "DATABASE_URL": self.database_url,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        process = await asyncio.create_subprocess_exec(
            *self.command(job.candidate_id, list(job.platforms or [])),  # type: ignore[arg-type]
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=str(REPO_ROOT),
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=self.timeout)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            await asyncio.to_thread(self._update, job_id, status="failed", error=f"lookup took longer than {self.timeout:.0f}s")
            return
        except asyncio.CancelledError:
            process.kill()
            raise
        try:
            summary = json.loads(stdout)
        except ValueError:
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            await asyncio.to_thread(
                self._update, job_id, status="failed",
                error=f"lookup exited with {process.returncode}: " + (" | ".join(tail) or "no output"),
            )
            return
        await asyncio.to_thread(self._update, job_id, status="finished", run_id=summary.get("run_id"), result=summary)
