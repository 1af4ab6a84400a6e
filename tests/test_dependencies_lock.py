"""Reproducible installs: requirements.lock pins every dependency pyproject.toml names, and the
installed Scrapy still drives scrapy-redis the way distributed mode uses it.

Scrapy removed ``Spider.start_requests()`` (scrapy/scrapy#7490; Scrapy 2.19 no longer calls it),
while scrapy-redis 0.9's ``RedisMixin`` still starts a spider through it. Wangzi's workers
(``crawler.distributed``) therefore start with ``async start()`` and let ``RedisMixin`` feed
jobs when the spider goes idle (``spider_idle`` -> ``schedule_next_requests`` ->
``crawler.engine.crawl``, ``DontCloseSpider`` while Redis holds work). The second test drives
exactly that path with a plain scrapy-redis spider, so a Scrapy or scrapy-redis release that
breaks it fails loudly here, naming both versions, instead of leaving workers idle. The fix is
in requirements.lock (README, "Refreshing the lock").
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements.lock"


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalised as PEP 503 does."""
    name = re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", LOCK.read_text(encoding="utf-8"), re.MULTILINE)
    return {_name(name): version for name, version in pins}


def test_the_lock_pins_every_dependency_pyproject_names() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    locked = _locked()
    missing = sorted({_name(r) for r in wanted} - set(locked))
    assert not missing, f"requirements.lock does not pin {missing}: refresh it (README, 'Refreshing the lock')"
    assert "--hash=sha256:" in LOCK.read_text(encoding="utf-8"), "the lock must carry hashes (pip --require-hashes)"


PROBE = r'''
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis, scrapy, scrapy_redis
from importlib.metadata import version
from scrapy.crawler import CrawlerProcess
from scrapy_redis.spiders import RedisSpider


class Page(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<title>driven</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
threading.Thread(target=server.serve_forever, daemon=True).start()
page = f"http://127.0.0.1:{server.server_port}/page"
redis_url = sys.argv[1]
redis.Redis.from_url(redis_url).lpush("probe:start_urls", json.dumps({"url": page}))
seen = {"start_requests": False, "fed_on_idle": 0, "titles": []}


class Probe(RedisSpider):
    """Starts as Wangzi's workers do: no start requests; Redis feeds it when idle."""

    name = "probe"
    redis_key = "probe:start_urls"

    async def start(self):
        return
        yield

    def start_requests(self):
        seen["start_requests"] = True
        return super().start_requests()

    def schedule_next_requests(self):
        seen["fed_on_idle"] += 1
        return super().schedule_next_requests()

    def parse(self, response):
        seen["titles"].append(response.css("title::text").get())


process = CrawlerProcess({
    "REDIS_URL": redis_url, "MAX_IDLE_TIME_BEFORE_CLOSE": 2, "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
})
process.crawl(Probe)
process.start()
server.shutdown()
print(json.dumps({**seen, "scrapy": version("scrapy"), "scrapy_redis": version("scrapy-redis")}))
'''


@pytest.mark.redis
def test_the_installed_scrapy_still_drives_scrapy_redis(redis_url: str, tmp_path: Path) -> None:
    """A plain scrapy-redis spider starts from its Redis key and fetches what it was given."""
    done = subprocess.run([sys.executable, "-c", PROBE, redis_url], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    versions = f"Scrapy {seen['scrapy']} with scrapy-redis {seen['scrapy_redis']}"
    assert seen["fed_on_idle"] >= 1, (
        f"{versions}: scrapy-redis never fed the idle spider (spider_idle -> schedule_next_requests); "
        "distributed workers would start and read no job. Pin the last working pair in requirements.lock."
    )
    assert seen["titles"] == ["driven"], (
        f"{versions}: the URL pushed to Redis was not fetched through crawler.engine.crawl ({seen}); "
        "distributed workers would read jobs and never crawl them. Pin the last working pair in requirements.lock."
    )
