"""Values derived from an event's public state, kept while the event's seq stands."""

import time
from collections import OrderedDict
from collections.abc import Hashable

#: Events whose public state is kept at once; the least recently used goes first.
MAX_EVENTS = 64


class BySeq:
    """The latest value per key, valid only at the seq it was computed at.

    Every change an audience can see advances the event's seq (Principle 1), so a value read in
    the same transaction as the seq stays right exactly as long as the seq does. A join storm
    then reads and builds the public state once per change instead of once per client.
    """

    def __init__(self, size: int = MAX_EVENTS) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[int, object]] = OrderedDict()

    def get(self, key: Hashable, seq: int) -> object | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != seq:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Hashable, seq: int, value: object) -> None:
        self._entries[key] = (seq, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


class Recent:
    """The latest value per key while it is younger than the given age: for values too costly
    to compute at every request of anyone who asks."""

    def __init__(self, size: int = MAX_EVENTS) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()

    def get(self, key: Hashable, max_age: float) -> object | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] >= max_age:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Hashable, value: object) -> None:
        self._entries[key] = (time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
