"""Scrapy settings for Wangzi. Every ``WANGZI_*`` setting is documented next to its default.

This is the only place a default lives: the components (``crawler/middlewares/``,
``crawler/spidermiddlewares/``, ``crawler/pipelines/``, ``crawler/extensions/``) read their
settings with no fallback of their own, as Scrapy's own components read
``scrapy/settings/default_settings.py``. Override with ``scrapy crawl ... -s NAME=VALUE`` or,
for the ``wangzi`` CLI, with the environment variable of the same name (read in
:func:`crawler.runner.crawl_settings`).
"""

from __future__ import annotations

import os
import shutil

BOT_NAME = "wangzi"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Scrapy 2.13+ defaults; scrapy-playwright needs the asyncio reactor.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

# A current desktop Chrome User-Agent: Bilibili answers -412 to agents containing "python",
# and several platforms serve bot walls to Scrapy's default agent.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "application/json, text/plain, text/html;q=0.9, */*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
}

# Politeness. Profiles are public pages; we ask slowly, one host slot at a time.
# WANGZI_ROBOTSTXT_OBEY -> ROBOTSTXT_OBEY: platform APIs disallow everything in robots.txt,
# article sites are crawled with robots.txt obeyed by the press spiders themselves.
ROBOTSTXT_OBEY = os.environ.get("WANGZI_ROBOTSTXT_OBEY", "false").lower() in {"1", "true", "yes"}
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% random variation of DOWNLOAD_DELAY
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
COOKIES_ENABLED = True

# Retries: Scrapy's RetryMiddleware is replaced by BackoffRetryMiddleware, which honours
# Retry-After and backs off exponentially on 429/5xx.
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
#: First backoff delay in seconds; doubles on every retry, capped by WANGZI_BACKOFF_MAX.
WANGZI_BACKOFF_BASE = 2.0
#: Longest single backoff (seconds), including a server's Retry-After.
WANGZI_BACKOFF_MAX = 120.0

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.backoff.BackoffRetryMiddleware": 550,
    # Records what the network answered (`wangzi record`), before replay/rewriting.
    "crawler.middlewares.har_record.RecordMiddleware": 940,
    # Last before the download handler: rewrites requests to the loopback replay server.
    "crawler.middlewares.har_replay.ReplayMiddleware": 950,
}

ITEM_PIPELINES = {
    "crawler.pipelines.validation.ValidationPipeline": 100,
    # Stores the press spider's mentions; every other item passes through untouched.
    "crawler.pipelines.press.PressMentionPipeline": 400,
    "crawler.pipelines.storage.StoragePipeline": 500,
}

#: Database URL for the storage pipeline; empty means DATABASE_URL or sqlite:///wangzi.db.
WANGZI_DATABASE_URL = os.environ.get("DATABASE_URL", "")
#: CrawlRun.trigger for runs started by `scrapy crawl` (the CLI sets its own).
WANGZI_TRIGGER = "manual"
#: An existing CrawlRun id to resume/append to (set by the CLI); None creates a new run.
WANGZI_RUN_ID = None
#: Rows written per transaction by the storage pipeline.
WANGZI_STORAGE_BATCH = 200
#: How many recent posts each spider asks for per account.
WANGZI_RECENT_POSTS = 20
#: A HAR file to serve every request from (loopback replay); empty means live network.
WANGZI_REPLAY = os.environ.get("WANGZI_REPLAY", "")
#: A HAR file to record every exchange into (`wangzi record`).
WANGZI_RECORD = ""
#: Keep Cookie/Authorization/Set-Cookie values in recordings (default: redacted).
WANGZI_RECORD_SECRETS = False


# --------------------------------------------------------------------------- browser

def chromium_executable() -> str | None:
    """Debian's Chromium when installed (we never run ``playwright install``), else None
    so Playwright uses its own downloaded browser where one exists."""
    override = os.environ.get("WANGZI_CHROMIUM")
    if override:
        return override
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Requests with meta {"playwright": True} go through Chromium; all others through Scrapy's own
# HTTP client. Playwright itself starts only at the first browser request (crawler/handlers/browser.py).
DOWNLOAD_HANDLERS = {
    "http": "crawler.handlers.browser.LazyPlaywrightDownloadHandler",
    "https": "crawler.handlers.browser.LazyPlaywrightDownloadHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "headless": True,
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
    **({"executable_path": chromium_executable()} if chromium_executable() else {}),
}
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
#: One context per platform at most a few pages: memory stays flat over long crawls.
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_MAX_CONTEXTS = 4


def _abort_heavy_requests(request) -> bool:  # type: ignore[no-untyped-def]
    """Images, fonts and media are never needed to read a profile."""
    return request.resource_type in {"image", "media", "font"}


PLAYWRIGHT_ABORT_REQUEST = _abort_heavy_requests

EXTENSIONS = {
    # Replace configured secrets (cookies, tokens, API keys) in every log line.
    "crawler.extensions.redaction.RedactionExtension": 0,
    # Live progress on a terminal for `wangzi lookup`/`crawl` (set by the CLI).
    "crawler.extensions.progress.ProgressExtension": 500,
}
#: Show a live progress display on stderr (the CLI turns it on for terminals).
WANGZI_PROGRESS = False


# --------------------------------------------------------------------------- operations (issue 7)
# Scheduled crawls (`wangzi crawl --due`), distributed workers (`wangzi worker`), JSON logs.

#: Refresh policy TOML for `crawl --due` (crawler/schedule.py); empty means the bundled
#: crawler/data/refresh.toml.
WANGZI_REFRESH_POLICY = os.environ.get("WANGZI_REFRESH_POLICY", "")
#: The lease owner of a `crawl --due` run (set by the CLI); turns on the lease heartbeat.
WANGZI_LEASE_OWNER = ""
#: Seconds a crawl's leases last without being renewed (the CLI sets it from the policy).
WANGZI_LEASE_TTL = 1800.0
#: One JSON object per log line instead of text (`--log-json`).
WANGZI_LOG_JSON = False
#: Redis URL of the distributed job queue and shared rate limit (set by `wangzi worker`).
WANGZI_REDIS_URL = ""
#: Requests per second per platform, shared by every worker through Redis; "*" covers the
#: platforms not named; 0 means no shared limit. A JSON object in the environment.
WANGZI_RATE_LIMITS = {"*": 1.0}
#: Token-bucket size: requests that may leave at once after a quiet period.
WANGZI_RATE_BURST = 1.0
#: Seconds a worker may hold a job without renewing it before another worker takes it over.
WANGZI_JOB_VISIBILITY = 120.0
#: Deliveries of a job before it is parked in wangzi:<platform>:jobs:dead.
WANGZI_JOB_MAX_ATTEMPTS = 3
#: Finished jobs acknowledged together, after one storage transaction (also every 0.5 s).
WANGZI_JOB_ACK_BATCH = 50

# Renews the leases of a running `crawl --due` (off unless WANGZI_LEASE_OWNER is set).
EXTENSIONS["crawler.extensions.lease_heartbeat.LeaseHeartbeat"] = 510
# Shared per-platform token bucket in Redis (off unless WANGZI_REDIS_URL is set). Last, after
# the replay rewrite, so each request that reaches the network (or loopback) counts once.
DOWNLOADER_MIDDLEWARES["crawler.middlewares.rate_limit.RedisRateLimitMiddleware"] = 960
# Acknowledges a worker's Redis job once its items are stored (off unless WANGZI_REDIS_URL is set).
ITEM_PIPELINES["crawler.pipelines.job_ack.JobAckPipeline"] = 900
# With JOBDIR (Scrapy's pause/resume), accounts finished before a pause are not crawled again.
SPIDER_MIDDLEWARES = {"crawler.spidermiddlewares.resume.ResumeFinishedAccounts": 50}


# --------------------------------------------------------------------------- reliability (issue 8)

#: Largest answer read (bytes); a bigger one is cancelled and stored as a ``network`` failure.
#: A profile page or API answer is well under 2 MB; Scrapy's default (1 GiB) would let a
#: misbehaving server fill memory.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
#: Log a warning for answers above this size.
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
#: Per-platform circuit breaker (crawler/middlewares/circuit.py): after THRESHOLD accounts in
#: a row end in one of KINDS, the platform's requests fail at once as ``blocked`` ("circuit
#: open") for COOLDOWN seconds, while the other platforms carry on. ENABLED false or a
#: THRESHOLD of 0 switches it off.
WANGZI_CIRCUIT_ENABLED = True
WANGZI_CIRCUIT_THRESHOLD = 5
WANGZI_CIRCUIT_COOLDOWN = 600.0
WANGZI_CIRCUIT_KINDS = ["rate_limited", "blocked", "captcha"]
DOWNLOADER_MIDDLEWARES["crawler.middlewares.circuit.CircuitBreakerMiddleware"] = 545
#: Items that could not be stored after retries are appended here as JSON lines
#: (crawler/deadletter.py); `wangzi crawl --retry-dead-letters` re-applies them.
WANGZI_DEAD_LETTER_DIR = os.environ.get("WANGZI_DEAD_LETTER_DIR", "dead-letters")
#: Attempts to store a batch before its items go to the dead-letter file.
WANGZI_STORAGE_RETRIES = 3
#: Seconds before the first storage retry (doubles each time).
WANGZI_STORAGE_RETRY_DELAY = 0.5
#: Scrapy's retried download errors, plus Playwright's errors (navigation timeout, net::ERR_*
#: such as a connection reset): a browser page is retried like an HTTP download (found by the
#: fault matrix: it was not).
from scrapy.settings.default_settings import RETRY_EXCEPTIONS as _SCRAPY_RETRY_EXCEPTIONS  # noqa: E402

RETRY_EXCEPTIONS = [*_SCRAPY_RETRY_EXCEPTIONS, "playwright._impl._errors.Error"]


# --------------------------------------------------------------------------- press (spiders/press.py)
# The press spider's settings (docs/press.md, "Configuration"). The spider reads them here
# with no default of its own; `wangzi` copies a same-named environment variable over each.

#: Query Google News RSS. Off: Google's terms allow its feeds for personal, non-commercial use only.
WANGZI_GOOGLE_NEWS_ENABLED = False
#: Google News editions searched (``lang-COUNTRY``); comma-separated in the environment.
WANGZI_NEWS_EDITIONS = ["en-US", "en-GB", "ja-JP", "ko-KR", "de-DE", "fr-FR", "es-ES"]
#: Query the GDELT DOC 2.0 API.
WANGZI_GDELT_ENABLED = True
#: Obey robots.txt on article hosts, also under replay (recordings then hold the robots.txt answers).
WANGZI_PRESS_ROBOTSTXT_OBEY = True
#: Without ``--since``, how many days back Google News is searched.
WANGZI_PRESS_LOOKBACK_DAYS = 365
#: A Google window whose feed has at least this many items is split in two (Google's search
#: feeds stop at ~100 items).
WANGZI_GOOGLE_NEWS_FEED_CAP = 100
#: Google News feed requests per alias and candidate, all editions and windows together.
WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS = 100
#: The last day searched (``YYYY-MM-DD``; tests, re-running a past search); empty means today in UTC.
WANGZI_PRESS_TODAY = ""
#: What a press number above falls back to, with a warning, when it is set to something that
#: is not a whole number ("lots"): its default, so a typo does not stop the search.
WANGZI_PRESS_DEFAULTS = {
    "WANGZI_PRESS_LOOKBACK_DAYS": WANGZI_PRESS_LOOKBACK_DAYS,
    "WANGZI_GOOGLE_NEWS_FEED_CAP": WANGZI_GOOGLE_NEWS_FEED_CAP,
    "WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS": WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS,
}


# --------------------------------------------------------------------------- parsing (issue 14, item 5)
# Owned by the spiders (spiders.base.parse_off_reactor, for AccountSpider and PressSpider):
# every answer is parsed in a worker thread, off the reactor. `wangzi parse` is not limited.

#: Largest answer handed to a parser (bytes); a larger one is stored as ``unrecognized``
#: saying its size, unread. ~10x the largest page seen (a YouTube channel page, 866 KB) and
#: half DOWNLOAD_MAXSIZE; browser pages are not cut by DOWNLOAD_MAXSIZE, so this is their cap.
#: At this size the slowest parser (articles, dense text) takes ~40 s in its thread. 0: no limit.
WANGZI_PARSE_MAX_BYTES = 8 * 1024 * 1024
#: Seconds a parser may take on one answer (the slowest fixture takes 0.3 s); past it the
#: answer is stored as ``unrecognized`` and the crawl goes on while the thread runs out. 0: no limit.
WANGZI_PARSE_TIMEOUT = 5.0


# --------------------------------------------------------------------------- public hosts only (issue 14, item 1)
# Feeds name the URLs the press spider requests: http(s) to public hosts only, checked twice
# (docs/press.md, "Which URLs are requested"). The page-level check is
# spiders.pages.public_url; these are the network side's components, on for every spider.

# First of all downloader middlewares (before OffsiteMiddleware's 50 and RobotsTxtMiddleware's
# 100): refuses a request - robots.txt, retries and redirect hops included - whose URL is not
# http(s) to a public host or whose host resolves to a non-public address, as a typed
# ``refused`` failure. Under replay it checks the real URL and allows the loopback server.
DOWNLOADER_MIDDLEWARES["crawler.middlewares.public_hosts.PublicHostsMiddleware"] = 40
# Scrapy's caching resolver, refusing loopback/private/link-local/multicast/reserved/unspecified
# addresses when a connection is made (DNS rebinding; loopback allowed only under WANGZI_REPLAY).
TWISTED_DNS_RESOLVER = "crawler.dns.PublicAddressResolver"
# Only http(s) is ever fetched: no file://, s3://, ftp:// or data: download handler.
DOWNLOAD_HANDLERS.update({"file": None, "s3": None, "ftp": None, "data": None})


# --------------------------------------------------------------------------- raw archive, drift, probes (issue 16 items 4-6)
# Every answer a crawl receives is kept in WARC files indexed by payload hash (`wangzi reparse`
# re-reads them with today's parsers); answers a parser calls `unrecognized` are kept for
# `wangzi drift` / `wangzi fixtures add`; `wangzi health --probe` reads canaries per platform.

#: Keep every answer in WARC files (crawler/middlewares/archive.py); false: no archive.
WANGZI_ARCHIVE_ENABLED = True
#: Where the WARC files go, one folder per run (run-<id>/<spider>-<time>-<pid>.warc.gz).
WANGZI_ARCHIVE_DIR = os.environ.get("WANGZI_ARCHIVE_DIR", "archive")
#: Run folders older than this many days are deleted when a crawl ends (their index rows stay,
#: marked expired); 0 keeps everything.
WANGZI_ARCHIVE_DAYS = 30
# After HttpCompressionMiddleware (590) on the way back: the payload kept is the decoded one the
# parser reads; before RetryMiddleware/backoff (550) so retried answers are kept too.
DOWNLOADER_MIDDLEWARES["crawler.middlewares.archive.ArchiveMiddleware"] = 585
#: Keep answers a parser calls `unrecognized` (crawler/spidermiddlewares/drift_capture.py).
WANGZI_DRIFT_ENABLED = True
#: Largest payload a drift capture keeps (bytes); a longer one keeps its first bytes, marked
#: truncated (and `wangzi fixtures add` refuses it: a fixture is the answer byte for byte).
WANGZI_DRIFT_MAX_BYTES = 2 * 1024 * 1024
SPIDER_MIDDLEWARES["crawler.spidermiddlewares.drift_capture.DriftCaptureMiddleware"] = 100
#: Canaries of `wangzi health --probe` (per platform: a live account with its plausible
#: follower range, an absent id); empty means the bundled crawler/data/canaries.toml.
WANGZI_CANARIES = os.environ.get("WANGZI_CANARIES", "")


# --------------------------------------------------------------------------- access at scale (issue 17)
# Proxies, logged-in sessions and their rates (docs/operations.md, "Proxies and sessions").
# Proxy URLs and sessions' cookies are secrets: they come from the environment or the
# secrets file through spiders/credentials.py (WANGZI_PROXIES / WANGZI_PROXIES_FILE,
# WANGZI_<PLATFORM>_SESSIONS / [sessions.<platform>.<name>]), never from these settings.

# Chooses a logged-in session for each request that needs one, keeps its per-endpoint windows,
# locks it on a rate limit until the window resets, marks it expired on a login wall (off for
# spiders without sessions). Before Scrapy's CookiesMiddleware (700), which sends the chosen
# session's cookies from its own jar, and before the proxy middleware: a session names its proxy.
DOWNLOADER_MIDDLEWARES["crawler.middlewares.sessions.SessionMiddleware"] = 690
# Sends every request through the least-used healthy proxy (off without configured proxies),
# quarantines a proxy that keeps being refused on a platform and reroutes its requests. Before
# Scrapy's HttpProxyMiddleware (750), which does the proxying itself.
DOWNLOADER_MIDDLEWARES["crawler.middlewares.proxies.ProxyMiddleware"] = 740
#: Requests per second through one proxy on one platform ("*" for the platforms not named; 0:
#: no limit beyond the spider's per-host politeness, which holds per proxy too). Shared by every
#: worker through Redis (wangzi:rate:<platform>:proxy:<name>), else held in each process.
WANGZI_PROXY_RATES = {"*": 1.0}
#: Refusals in a row (blocked, captcha, rate_limited, a proxy's 403/407/429, a reset or refused
#: connection) after which a proxy is quarantined for that platform.
WANGZI_PROXY_BAN_THRESHOLD = 3
#: First quarantine (seconds); each next one of the same proxy and platform doubles, up to MAX.
WANGZI_PROXY_COOLDOWN = 300.0
WANGZI_PROXY_MAX_COOLDOWN = 6 * 3600.0
#: How many times a refused request is sent again through another proxy (or session).
WANGZI_PROXY_RETRIES = 3
#: A proxy's own answers that mean "this proxy is refused" (rerouted at once, not retried on it).
WANGZI_PROXY_REFUSAL_STATUSES = [403, 407, 429]
#: Per-endpoint windows of a logged-in session: source name -> [requests, seconds] (X's
#: GraphQL limits are per session and per 15 minutes). A session whose window is spent, or that
#: got a rate limit (429, X code 88), is locked for that endpoint until the window resets
#: (X's x-rate-limit-reset header when it sends one); the next session carries on.
WANGZI_SESSION_WINDOWS = {
    "x.user_by_screen_name": [95, 900],
    "x.user_by_rest_id": [95, 900],
    "x.about_account": [50, 900],
    "x.user_tweets": [50, 900],
}
#: Seconds a request may wait for a session to come out of its lock before the account is
#: left for a later run (nothing stored for it: nothing was asked).
WANGZI_SESSION_MAX_WAIT = 60.0


# --------------------------------------------------------------------------- discovery (issue 19)
# `wangzi discover` (docs/discovery.md): search spiders (spiders/<platform>_search.py) ask
# each platform's public search, one request at a time, with the platform's own politeness.

#: Requests a `wangzi discover` run may make in all (split evenly between the platforms it
#: searches; a platform's prelude, such as Bilibili's nav, counts too). `--max-requests` wins.
WANGZI_DISCOVERY_MAX_REQUESTS = 200
#: Pages asked per query at most (while the answer names a next page).
WANGZI_DISCOVERY_MAX_PAGES = 2
#: Graph hops followed from what a search finds or a seed creator shows (1: the accounts a
#: hit's bio links to or @mentions; 0: none).
WANGZI_DISCOVERY_MAX_HOPS = 1
#: The seeds TOML `wangzi discover` reads when no --seed is given; empty: crawler/data/seeds.toml.
WANGZI_DISCOVERY_SEEDS = ""
#: Stores the leads search spiders find (records.leads.LeadItem); every other item (their failed
#: searches too, stored with the other failures) passes through untouched. Before the storage
#: pipeline (500).
ITEM_PIPELINES["crawler.pipelines.leads.LeadPipeline"] = 450
