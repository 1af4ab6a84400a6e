"""A mitmproxy addon for the proxy tests (runs inside mitmdump, in its own environment).

Logs every request the proxy carried as one JSON line (time, method, URL, the status it
answered) to ``--set wangzi_log=FILE``: the proxy's own record of which requests went through
it. With ``--set wangzi_ban_after=N`` it starts refusing after N requests, as a banned exit
address does: ``--set wangzi_ban=403`` (or 429) answers that status itself, ``reset`` kills
the connection."""

from __future__ import annotations

import json
import time

from mitmproxy import ctx, http


class WangziProxyLog:
    def __init__(self) -> None:
        self.seen = 0

    def load(self, loader) -> None:  # type: ignore[no-untyped-def]
        loader.add_option("wangzi_log", str, "", "JSON lines of every request carried")
        loader.add_option("wangzi_ban_after", int, 0, "refuse every request after this many (0: never)")
        loader.add_option("wangzi_ban", str, "403", "how to refuse: 403, 429 or reset")

    def _write(self, flow: http.HTTPFlow, status: object) -> None:
        if ctx.options.wangzi_log:
            with open(ctx.options.wangzi_log, "a", encoding="utf-8") as log:
                # When the proxy read the request's first byte (its own clock), not when it logs.
                started = flow.request.timestamp_start or time.time()
                log.write(json.dumps({"time": started, "method": flow.request.method, "url": flow.request.pretty_url,
                                      "status": status}) + "\n")

    def request(self, flow: http.HTTPFlow) -> None:
        self.seen += 1
        after = ctx.options.wangzi_ban_after
        if after and self.seen > after:
            if ctx.options.wangzi_ban == "reset":
                self._write(flow, "reset")
                flow.kill()
                return
            status = int(ctx.options.wangzi_ban)
            flow.metadata["wangzi_refused"] = True
            flow.response = http.Response.make(status, b"refused by the proxy", {"Content-Type": "text/plain"})
            self._write(flow, status)

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None and not flow.metadata.get("wangzi_refused"):
            self._write(flow, flow.response.status_code)


addons = [WangziProxyLog()]
