"""Build ``demo.har`` from test fixtures: ``python -m crawler.demo.build``.

``manifest.toml`` lists, for every request the demo crawl makes, the URL and the fixture
folder whose payload answers it. Payloads are the fixtures' bytes, unchanged, so the demo
shows what real platforms returned (real samples) or documented shapes (synthetic ones).
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
        folder = FIXTURES / entry["fixture"]
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        (payload,) = [p for p in folder.iterdir() if p.name.startswith("response.")]
        exchanges.append(
            Exchange(
                url=entry.get("url") or meta["url"],
                status=int(entry.get("status") or meta.get("status", 200)),
                body=payload.read_bytes(),
                headers=dict(entry.get("headers", {})),
            )
        )
    write_har(out, exchanges)
    return len(exchanges)


if __name__ == "__main__":
    count = build()
    print(f"wrote {count} exchanges to {HERE / 'demo.har'}", file=sys.stderr)
