"""A big audience spaces vote-count broadcasts so they cost a bounded number of socket writes."""

import asyncio
import time

from live.domain.changes import VoteCount
from live.fanout import Fanout


async def flush_times(audience: int, rate: float, votes: int = 25) -> list[float]:
    """Publish a vote every 20 ms and note when each coalesced broadcast leaves."""
    sent: list[float] = []

    async def emit(name: str, message: dict, room: str) -> None:
        sent.append(time.monotonic())

    fanout = Fanout(emit, 0.05, audience=lambda event_id: audience, delivery_rate=rate)
    await fanout.start()
    for seq in range(1, votes + 1):
        fanout.publish([VoteCount(1, seq, 7, seq)])
        await asyncio.sleep(0.02)
    await fanout.stop()
    return sent


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


async def test_a_small_audience_gets_counts_at_the_flush_interval():
    fanout = Fanout(lambda *a: None, 0.05, audience=lambda event_id: 100, delivery_rate=20000)
    assert fanout.interval(1) == 0.05
    sent = await flush_times(audience=100, rate=20000)
    assert len(sent) >= 8
    assert min(gaps(sent[:-1])) >= 0.045  # the last one is the flush at stop


async def test_a_big_audience_gets_counts_further_apart():
    fanout = Fanout(lambda *a: None, 0.05, audience=lambda event_id: 4000, delivery_rate=20000)
    assert fanout.interval(1) == 0.2
    sent = await flush_times(audience=4000, rate=20000)
    assert 3 <= len(sent) <= 5
    assert min(gaps(sent[:-1])) >= 0.19


async def test_no_delivery_rate_means_the_flush_interval_alone():
    fanout = Fanout(lambda *a: None, 0.05, audience=lambda event_id: 10**6, delivery_rate=0)
    assert fanout.interval(1) == 0.05
