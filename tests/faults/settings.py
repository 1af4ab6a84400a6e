"""Project settings plus the fault-server rewrite (``SCRAPY_SETTINGS_MODULE=tests.faults.settings``).

Only the fault-injection tests use this module; besides the rewrite it only answers DNS from
a rule (``tests.faults.resolver``: nothing asks the system's DNS, the fault server's loopback
address is allowed as the replay server's is under ``--replay``)."""

from crawler.settings import *  # noqa: F403 - the project's settings, unchanged
from crawler.settings import DOWNLOADER_MIDDLEWARES as _PROJECT_MIDDLEWARES

import os

DOWNLOADER_MIDDLEWARES = {**_PROJECT_MIDDLEWARES, "tests.faults.middleware.FaultServerMiddleware": 950}
#: Base URL of the running tests.faults.server.FaultServer.
WANGZI_FAULT_SERVER = os.environ.get("WANGZI_FAULT_SERVER", "")
#: Offline DNS: names resolve from a rule, the fault server's loopback address is allowed.
TWISTED_DNS_RESOLVER = "tests.faults.resolver.FaultResolver"
