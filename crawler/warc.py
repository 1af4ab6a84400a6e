"""The raw archive's files: WARC 1.1, gzip-compressed record by record, one folder per run.

The archive middleware (:mod:`crawler.middlewares.archive`) writes every answer a crawl
receives here with :class:`WarcFile`; ``wangzi reparse`` reads a record back with
:func:`read_payload`; :func:`prune` applies ``WANGZI_ARCHIVE_DAYS``. warcio
(webrecorder/warcio) does the format, so any WARC tool (``warcio index``, pywb, ...) reads
the files too.

Layout: ``<WANGZI_ARCHIVE_DIR>/run-<run id>/<spider>-<UTC time>-<pid>.warc.gz``: a new file per
spider and process of a run (a resumed run or a second worker never appends to a file another
process may have left half-written), so a run's folder is the unit of rotation and retention.
Each file starts with a ``warcinfo`` record; each answer is a ``response`` record (status
line, headers and the payload *as the parser saw it*: decoded, so ``Content-Encoding`` and
``Transfer-Encoding`` are dropped and ``Content-Length`` is the payload's) followed by the
``request`` record it answered (``WARC-Concurrent-To`` the response). Wangzi's own fields say
what the answer was for: ``Wangzi-Run``, ``Wangzi-Platform``, ``Wangzi-Source`` (the chain's
source, ``bilibili.card``), ``Wangzi-Account`` (JSON) and ``Wangzi-Payload-SHA256`` (the hash
the snapshots carry, of the payload before secrets were redacted).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import __version__
from crawler.replay import Exchange

#: Response headers that describe the bytes on the wire, not the (decoded) payload kept.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
#: A run's folder name.
RUN_FOLDER = "run-{run}"


@dataclass(frozen=True)
class WrittenRecord:
    """Where one answer went: the file (relative to the archive folder), the offset and length
    of its response record's gzip member, and the record's id."""

    warc_file: str
    offset: int
    length: int
    record_id: str


class WarcFile:
    """One WARC file being written by one spider of one run (opened on first use)."""

    def __init__(self, directory: Path, run_id: int | None, spider: str) -> None:
        self.directory = directory
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        self.relative = f"{RUN_FOLDER.format(run=run_id if run_id is not None else 'none')}/{spider}-{stamp}-{os.getpid()}.warc.gz"
        self.path = directory / self.relative
        self.run_id = run_id
        self.spider = spider
        self._file: IO[bytes] | None = None
        self._writer: WARCWriter | None = None

    def _open(self) -> WARCWriter:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - kept open for the crawl, closed by close()
            self._writer = WARCWriter(self._file, gzip=True)
            info = self._writer.create_warcinfo_record(self.path.name, {
                "software": f"wangzi/{__version__} (warcio)",
                "format": "WARC File Format 1.1",
                "wangzi-run": str(self.run_id),
                "wangzi-spider": self.spider,
                "description": "Answers as the parsers saw them (decoded); cookies, authorization, "
                               "secret parameters and configured secret values redacted",
            })
            self._writer.write_record(info)
        return self._writer

    def write(self, exchange: Exchange, *, payload_sha256: str, context: dict[str, Any]) -> WrittenRecord:
        """Append ``exchange`` (already redacted) as a response record and its request record."""
        writer = self._open()
        assert self._file is not None
        headers = [(k, v) for k, v in exchange.headers.items() if k.lower() not in _WIRE_HEADERS]
        headers.append(("Content-Length", str(len(exchange.body))))
        try:
            reason = HTTPStatus(exchange.status).phrase
        except ValueError:
            reason = ""
        extra = {
            "Wangzi-Payload-SHA256": payload_sha256,
            **{f"Wangzi-{k}": (v if isinstance(v, str) else json.dumps(v, ensure_ascii=True)) for k, v in context.items() if v is not None},
        }
        response = writer.create_warc_record(
            exchange.url, "response", payload=BytesIO(exchange.body),
            http_headers=StatusAndHeaders(f"{exchange.status} {reason}".strip(), headers, protocol="HTTP/1.1"),
            warc_headers_dict=extra,
        )
        response.rec_headers.replace_header("WARC-Date", exchange.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        offset = self._file.tell()
        writer.write_record(response)
        length = self._file.tell() - offset
        record_id = response.rec_headers.get_header("WARC-Record-ID")
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = list(exchange.request_headers.items())
        if not any(k.lower() == "host" for k, _ in request_headers):
            request_headers.insert(0, ("Host", parts.netloc))
        request = writer.create_warc_record(
            exchange.url, "request", payload=BytesIO(exchange.request_body or b""),
            http_headers=StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", request_headers, is_http_request=True),
            warc_headers_dict={"WARC-Concurrent-To": record_id},
        )
        writer.write_record(request)
        return WrittenRecord(self.relative, offset, length, record_id)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None


def read_payload(directory: Path, warc_file: str, offset: int) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, payload) of the response record at ``offset`` of ``warc_file``.

    Raises ``FileNotFoundError`` when retention deleted the file and ``ValueError`` when no
    response record starts there."""
    with open(directory / warc_file, "rb") as handle:
        handle.seek(offset)
        for record in ArchiveIterator(handle):
            if record.rec_type != "response":
                break
            status = int(record.http_headers.get_statuscode()) if record.http_headers else 0
            headers = dict(record.http_headers.headers) if record.http_headers else {}
            return status, headers, record.content_stream().read()
    raise ValueError(f"{warc_file}: no response record at offset {offset}")


def iter_records(path: Path) -> Iterator[Any]:
    """Every record of one WARC file (for tests and tools)."""
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            yield record


def prune(directory: Path, days: float, now: float | None = None) -> list[str]:
    """Delete the run folders whose newest file is older than ``days`` (0: keep everything);
    returns the deleted files, relative to ``directory``, for the index to mark them expired."""
    if days <= 0 or not directory.is_dir():
        return []
    cutoff = (now if now is not None else time.time()) - timedelta(days=days).total_seconds()
    deleted: list[str] = []
    for folder in sorted(directory.glob(RUN_FOLDER.format(run="*"))):
        files = [p for p in folder.rglob("*") if p.is_file()]
        try:
            newest = max((p.stat().st_mtime for p in files), default=folder.stat().st_mtime)
        except FileNotFoundError:  # another spider of this process pruned it meanwhile
            continue
        if newest >= cutoff:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        deleted += [p.relative_to(directory).as_posix() for p in files]
    return deleted


def archive_bytes(directory: Path, run_ids: list[int] | None = None) -> int:
    """Bytes on disk of the archive (or of these runs' folders)."""
    folders = [directory / RUN_FOLDER.format(run=r) for r in run_ids] if run_ids is not None else [directory]
    return sum(p.stat().st_size for folder in folders if folder.is_dir() for p in folder.rglob("*.warc.gz"))
