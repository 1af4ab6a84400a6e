"""Project settings for live press crawls aimed at a loopback server (``SCRAPY_SETTINGS_MODULE=tests.ssrf_settings``).

Only tests/test_press_ssrf.py uses this module. The project's settings stay as they are; the
feed and the public article hosts of the test are canned (``tests.ssrf_network``), test names
resolve from a table through the project's own resolver, and every other request really goes
out, so a request to the loopback "internal" server would reach it.
"""

import os

from crawler.settings import *  # noqa: F403 - the project's settings, unchanged
from crawler.settings import DOWNLOADER_MIDDLEWARES as _PROJECT_MIDDLEWARES

#: After the project's components that decide whether a request may leave (the lowest
#: numbers), before the record/replay rewrite (940, 950).
DOWNLOADER_MIDDLEWARES = {**_PROJECT_MIDDLEWARES, "tests.ssrf_network.CannedAnswersMiddleware": 930}
if os.environ.get("WANGZI_TEST_WITHOUT_GUARD"):
    # The DNS resolver alone must still keep the internal server unreached.
    DOWNLOADER_MIDDLEWARES["crawler.middlewares.public_hosts.PublicHostsMiddleware"] = None
TWISTED_DNS_RESOLVER = "tests.ssrf_network.MappedResolver"
AUTOTHROTTLE_ENABLED = False
DOWNLOAD_TIMEOUT = 5
