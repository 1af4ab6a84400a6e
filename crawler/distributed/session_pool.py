"""The session pool: several logged-in sessions of one platform, each with per-endpoint rate
windows, rotated, locked on a rate limit until their window resets, and marked expired on a
login wall (as twscrape keeps its accounts).

A session serves only its own platform (a pool holds one platform's sessions) and always goes
out through the same proxy (:func:`sticky_proxy`), so the platform sees one session at one
address. Values (cookies, tokens) never leave the :class:`~spiders.credentials.SessionConfig`:
logs, stats and the ``identitystate`` table name a session by its configured name.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from spiders.credentials import SessionConfig

logger = logging.getLogger(__name__)

#: A locked endpoint without a known reset and without a configured window stays locked this long.
DEFAULT_LOCK = 900.0


def sticky_proxy(session: SessionConfig, proxies: Sequence[str]) -> str | None:
    """The proxy a session always goes out through: the one it names, else the proxy the
    session's name hashes highest with (rendezvous hashing: adding a proxy moves few sessions)."""
    if not proxies:
        return None
    if session.proxy:
        return session.proxy if session.proxy in proxies else None

    def weight(proxy: str) -> bytes:
        return hashlib.sha256(f"{session.platform}/{session.name}/{proxy}".encode()).digest()

    return max(proxies, key=weight)


@dataclass
class SessionState:
    expired: bool = False
    locks: dict[str, float] = field(default_factory=dict)  # endpoint -> until (time.time())
    sent: dict[str, deque[float]] = field(default_factory=dict)  # endpoint -> send times in the window
    requests: int = 0
    refused: int = 0
    last_used: float = 0.0
    last_failure: str | None = None
    last_failure_at: float | None = None
    last_ok_at: float | None = None
    changed: bool = True


class SessionPool:
    """Sessions of one platform and their windows (``windows``: endpoint -> (requests, seconds))."""

    def __init__(self, sessions: list[SessionConfig], windows: dict[str, tuple[int, float]],
                 clock: Callable[[], float] = time.time) -> None:
        self.sessions = {s.name: s for s in sessions}
        self.windows = windows
        self.clock = clock
        self.states = {s.name: SessionState() for s in sessions}

    def _free_at(self, name: str, endpoint: str, now: float) -> float:
        """When ``name`` may next send to ``endpoint`` (``now`` or later); inf when expired."""
        state = self.states[name]
        if state.expired:
            return float("inf")
        free = max(now, state.locks.get(endpoint, 0.0))
        window = self.windows.get(endpoint)
        if window:
            limit, seconds = window
            sent = state.sent.setdefault(endpoint, deque())
            while sent and sent[0] <= now - seconds:
                sent.popleft()
            if len(sent) >= limit:
                free = max(free, sent[len(sent) - limit] + seconds)
        return free

    def choose(self, endpoint: str, avoid: Collection[str] = ()) -> tuple[SessionConfig | None, float | None]:
        """(session, None) for the least recently used session free now; else (None, seconds
        until one is free), or (None, None) when none ever will be (all expired or avoided)."""
        now = self.clock()
        candidates = [n for n in self.sessions if n not in avoid and not self.states[n].expired]
        if not candidates:
            return None, None
        free = {n: self._free_at(n, endpoint, now) for n in candidates}
        ready = [n for n in candidates if free[n] <= now]
        if not ready:
            return None, min(free.values()) - now
        name = min(ready, key=lambda n: self.states[n].last_used)
        state = self.states[name]
        state.last_used = now
        state.requests += 1
        state.sent.setdefault(endpoint, deque()).append(now)
        state.changed = True
        return self.sessions[name], None

    def answered(self, name: str, endpoint: str, remaining: int | None = None, reset: float | None = None) -> None:
        state = self.states[name]
        state.last_ok_at = self.clock()
        state.changed = True
        if remaining == 0 and reset:  # the platform says the window is spent: rest until it resets
            state.locks[endpoint] = reset

    def rate_limited(self, name: str, endpoint: str, reset: float | None = None) -> float:
        """Lock ``name`` for ``endpoint`` until ``reset`` (else the window's length); returns until."""
        state = self.states[name]
        now = self.clock()
        window = self.windows.get(endpoint)
        until = reset if reset and reset > now else now + (window[1] if window else DEFAULT_LOCK)
        state.locks[endpoint] = until
        state.refused += 1
        state.last_failure, state.last_failure_at, state.changed = "rate_limited", now, True
        logger.warning("session %s locked for %s until %s (rate limited)", name, endpoint,
                       time.strftime("%H:%M:%S", time.localtime(until)))
        return until

    def expired(self, name: str) -> None:
        state = self.states[name]
        if not state.expired:
            logger.warning("session %s expired (a login wall while logged in): not used again", name)
        state.expired = True
        state.refused += 1
        state.last_failure, state.last_failure_at, state.changed = "login_required", self.clock(), True

    def status(self, name: str) -> tuple[str, float | None, str | None]:
        """(ok | locked | expired, locked until, endpoint) for display and storage."""
        state = self.states[name]
        if state.expired:
            return "expired", None, None
        now = self.clock()
        locked = {e: t for e, t in state.locks.items() if t > now}
        if locked:
            endpoint = max(locked, key=lambda e: locked[e])
            return "locked", locked[endpoint], endpoint
        return "ok", None, None
