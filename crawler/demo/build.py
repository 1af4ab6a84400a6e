"""Build ``demo.har`` from test fixtures: ``python -m crawler.demo.build``.

``manifest.toml`` lists, for every request the demo crawl makes, the URL and what answers
it: a fixture folder (``fixture``: its payload's bytes, unchanged, so the demo shows what real
platforms returned - real samples - or documented shapes - synthetic ones, marked so in their
``meta.json``), a file of the demo's own (``file``, under ``crawler/demo/``: the synthetic
press pages, marked in the manifest), or a short text (``body``: robots.txt). ``method``
defaults to GET, ``status`` and ``url`` to the fixture's.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

from crawler.replay import Exchange, write_har

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURES = REPO / "tests" / "fixtures"


def build(manifest: Path = HERE / "manifest.toml", out: Path = HERE / "demo.har") -> int:
    entries = tomllib.loads(manifest.read_text(encoding="utf-8"))["exchange"]
    exchanges = []
    for entry in entries:
        meta: dict[str, object] = {}
        if "fixture" in entry:
            folder = FIXTURES / entry["fixture"]
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            (payload,) = [p for p in folder.iterdir() if p.name.startswith("response.")]
            body = payload.read_bytes()
        elif "file" in entry:
            body = (HERE / entry["file"]).read_bytes()
        else:
            body = str(entry["body"]).encode("utf-8")
        exchanges.append(
            Exchange(
                url=entry.get("url") or str(meta["url"]),
                status=int(entry.get("status") or meta.get("status", 200)),  # type: ignore[call-overload]
                body=body,
                headers=dict(entry.get("headers", {})),
                method=entry.get("method", "GET"),
            )
        )
    write_har(out, exchanges)
    return len(exchanges)


if __name__ == "__main__":
    count = build()
    print(f"wrote {count} exchanges to {HERE / 'demo.har'}", file=sys.stderr)
