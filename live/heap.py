"""Garbage collection that does not stall a big audience.

A full collection walks every tracked object: with thousands of connected sockets that is
hundreds of thousands of objects and up to half a second with the event loop stopped, every few
seconds during a vote storm, while finding nothing to free (sockets live as long as their
connection). Here the survivors of each full collection are frozen, so the next one walks only
what is newer; every `THAW_INTERVAL` they are thawed, so cycles among old objects that have died
since are still found, at the cost of one long collection that often.

The youngest generation is also collected less often: at CPython's default (every 700 new
objects) a server in a vote storm ran some forty collections a second, about a millisecond each
whatever they found, and spent over a tenth of its time in them; every `YOUNG_THRESHOLD` objects
the same storm spent under a thirtieth.
"""

import gc
import time

#: Seconds between two thaws: how long garbage cycles among long-lived objects may wait.
THAW_INTERVAL = 600.0
#: The oldest generation: a collection of it is a full one.
OLDEST = 2
#: New container objects (less those freed) between two collections of the youngest generation.
YOUNG_THRESHOLD = 20_000


class Heap:
    """Freezes the start-up heap, then every full collection's survivors (see the module)."""

    def __init__(self, thaw_interval: float = THAW_INTERVAL) -> None:
        self.thaw_interval = thaw_interval
        self._thawed_at = time.monotonic()
        self._thresholds = gc.get_threshold()

    def start(self) -> None:
        gc.collect()
        gc.freeze()
        gc.callbacks.append(self._collected)
        self._thresholds = gc.get_threshold()
        gc.set_threshold(max(YOUNG_THRESHOLD, self._thresholds[0]), *self._thresholds[1:])

    def stop(self) -> None:
        if self._collected in gc.callbacks:
            gc.callbacks.remove(self._collected)
            gc.set_threshold(*self._thresholds)

    def _collected(self, phase: str, info: dict) -> None:
        if phase != "stop" or info["generation"] != OLDEST:
            return
        now = time.monotonic()
        if now - self._thawed_at >= self.thaw_interval:
            gc.unfreeze()  # the next full collection walks everything once more
            self._thawed_at = now
        else:
            gc.freeze()
