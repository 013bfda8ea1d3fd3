"""Failed sign-ins per address and per target, counted in memory and refused before any hash."""

import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from live.domain import errors
from live.domain.errors import LiveError

log = logging.getLogger(__name__)

#: Keys one window remembers; beyond this the least recently failed key is forgotten.
MAX_TRACKED_KEYS = 10_000

T = TypeVar("T")


class SlidingWindow:
    """At most `limit` hits per key in any `window` seconds, over a bounded number of keys."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may try again, or None when it may now."""
        hits = self._hits.get(key)
        if hits is None:
            return None
        now = time.monotonic()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits[0] + self.window - now if len(hits) >= self.limit else None

    def hit(self, key: str) -> bool:
        """Count one hit; True when it is the one that reaches the limit."""
        hits = self._hits.setdefault(key, deque(maxlen=self.limit))
        self._hits.move_to_end(key)
        hits.append(time.monotonic())
        while len(self._hits) > MAX_TRACKED_KEYS:
            self._hits.popitem(last=False)
        return len(hits) == self.limit

    def forgive(self, key: str) -> None:
        """Take back the latest hit of `key`: the attempt it counted did not fail."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()
            if not hits:
                del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


class SignInGuard:
    """Guessing a secret costs the guesser a wait, not the server a hash per guess."""

    def __init__(self, per_address: int, per_target: int, window: float) -> None:
        self.addresses = SlidingWindow(per_address, window)
        self.targets = SlidingWindow(per_target, window)

    async def attempt(
        self, address: str, target: str, check: Callable[[], Awaitable[T]], *, costly: bool = False
    ) -> T:
        """Run `check` unless the address or the target failed too often; only a refusal
        (`forbidden`) stays counted. A costly check (a password hash) is counted while it runs,
        so a burst of guesses cannot all start hashing before the first is refused; a cheap one
        only once refused, so an organiser's concurrent requests are never held back."""
        waits = [w for w in (self.addresses.retry_after(address), self.targets.retry_after(target))
                 if w is not None]
        if waits:
            wait = math.ceil(max(waits))
            raise LiveError(
                errors.RATE_LIMITED,
                f"Too many failed sign-ins; try again in {wait} seconds.",
                {"retry_after": wait},
            )
        if costly:
            self._count(address, target)
        try:
            result = await check()
        except LiveError as exc:
            if exc.code == errors.FORBIDDEN and not costly:
                self._count(address, target)
            elif exc.code != errors.FORBIDDEN and costly:
                self._forgive(address, target)
            raise
        except BaseException:
            if costly:
                self._forgive(address, target)
            raise
        if costly:
            self._forgive(address, target)
        return result

    def _count(self, address: str, target: str) -> None:
        if self.addresses.hit(address):
            log.warning("sign-ins from one address are now refused for a while (target %s)", target)
        if self.targets.hit(target):
            log.warning("sign-ins to %s are now refused for a while", target)

    def _forgive(self, address: str, target: str) -> None:
        self.addresses.forgive(address)
        self.targets.forgive(target)

    def tracked(self) -> int:
        """Keys held in memory, bounded by MAX_TRACKED_KEYS per window."""
        return len(self.addresses) + len(self.targets)
