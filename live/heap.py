"""Garbage collection that does not stall a big audience.

A collection walks every tracked object of the generations it collects, with the event loop
stopped. With thousands of connected sockets a full collection is hundreds of thousands of
objects and up to half a second, every few seconds during a vote storm, while finding nothing to
free (sockets live as long as their connection). Here the survivors of each collection of the
middle generation, as of each full one, are frozen, so the next walks only what is newer; every
`THAW_INTERVAL` they are thawed, so cycles among old objects that have died since are still
found, at the cost of one long collection that often.

The youngest generation is collected less often: at CPython's default (every 700 new objects) a
server in a vote storm ran some forty collections a second, about a millisecond each whatever
they found, and spent over a tenth of its time in them; every `YOUNG_THRESHOLD` objects the same
storm spent under a thirtieth. The middle generation is collected more often instead: at
CPython's default, every tenth young collection, it held the survivors of ten, some 200,000
objects in a storm of joins where all survive, and each of its collections stopped the loop for
120–160 ms; every second one, 20–40 ms. The price: a garbage cycle among objects that outlived
two collections waits for the thaw, and the server makes few (in the bench's storms the
collector freed at most about a thousand objects a minute, against hundreds of thousands kept).
"""

import gc
import time

#: Seconds between two thaws: how long garbage cycles among long-lived objects may wait.
THAW_INTERVAL = 600.0
#: The oldest generation: a collection of it is a full one.
OLDEST = 2
#: New container objects (less those freed) between two collections of the youngest generation.
YOUNG_THRESHOLD = 20_000
#: Collections of the youngest generation between two of the middle one, less one.
MIDDLE_THRESHOLD = 1


class Heap:
    """Freezes the start-up heap, then the survivors of every collection but the youngest's
    (see the module)."""

    def __init__(self, thaw_interval: float = THAW_INTERVAL) -> None:
        self.thaw_interval = thaw_interval
        self._thawed_at = time.monotonic()
        #: Thawed, and no full collection since: nothing may be frozen before one has run.
        self._thawed = False
        self._thresholds = gc.get_threshold()

    def start(self) -> None:
        gc.collect()
        gc.freeze()
        gc.callbacks.append(self._collected)
        self._thresholds = gc.get_threshold()
        young, _, oldest = self._thresholds
        gc.set_threshold(max(YOUNG_THRESHOLD, young), MIDDLE_THRESHOLD, oldest)

    def stop(self) -> None:
        if self._collected in gc.callbacks:
            gc.callbacks.remove(self._collected)
            gc.set_threshold(*self._thresholds)

    def _collected(self, phase: str, info: dict) -> None:
        if phase != "stop" or info["generation"] == 0:
            return
        if info["generation"] == OLDEST:
            if self._thawed:
                self._thawed = False  # this collection walked everything once more
            elif time.monotonic() - self._thawed_at >= self.thaw_interval:
                gc.unfreeze()  # the next full collection walks everything once more
                self._thawed_at = time.monotonic()
                self._thawed = True
        if not self._thawed:
            gc.freeze()
