"""A Redis that hangs (SIGSTOP) instead of dying: each worker's own clients never wait on it."""

import asyncio
import logging
import os
import signal
import time

from live.transport import broadcast
from support import Follower, RedisProcess, joined, running_server
from test_workers import converged, db_votes, healthz, workers

#: Seconds the tests keep Redis stopped: past the health check's interval plus its timeout.
HANG_SECONDS = 3.0
#: Generous bound on a worker's own news during the hang (target p99 0.1 s; before, each
#: broadcast waited out the publish timeout and the backlog grew by seconds).
LOCAL_NEWS_BOUND = 1.0
#: Generous bound on convergence after Redis resumes (target 1 s).
CONVERGENCE_SECONDS = 2.0
#: Event edits during one hang, at most.
MAX_EDITS = 20


def hang(redis: RedisProcess) -> None:
    assert redis.proc is not None
    os.kill(redis.proc.pid, signal.SIGSTOP)


def resume(redis: RedisProcess) -> None:
    assert redis.proc is not None
    os.kill(redis.proc.pid, signal.SIGCONT)


async def test_a_hung_redis_delays_no_local_news_counts_as_down_and_ends_in_a_resync(
    tmp_path, redis
):
    cluster = workers(tmp_path, redis, 2)
    try:
        servers = [w.server() for w in cluster]
        code = (await servers[0].create_event("Hung Redis"))["event"]["code"]
        here = await Follower(servers[0], code).connect()
        there = await Follower(servers[1], code).connect()
        asker = await joined(servers[0], code)
        await asyncio.sleep(0.3)  # both workers are subscribed
        before = await asker.ask("Does this cross before the hang?")
        await there.wait_for(lambda m: m.get("question", {}).get("id") == before["id"])

        hang(redis)
        try:
            hung_at = time.monotonic()
            delays = []
            while time.monotonic() - hung_at < HANG_SECONDS and len(delays) < MAX_EDITS:
                title = f"Edited during the hang, {len(delays)}"
                started = time.monotonic()
                status, _ = await servers[0].api("PATCH", f"/api/events/{code}", {"title": title})
                assert status == 200
                await here.wait_for(lambda m: m.get("event", {}).get("title") == title,
                                    timeout=10)
                delays.append(time.monotonic() - started)
                await asyncio.sleep(0.1)
            statuses = [(await healthz(worker))["redis"] for worker in cluster]
        finally:
            resume(redis)
        assert max(delays) < LOCAL_NEWS_BOUND, delays
        assert statuses == ["down", "down"]

        await converged([here, there], db_votes(cluster[0].db), CONVERGENCE_SECONDS)
        deadline = time.monotonic() + CONVERGENCE_SECONDS
        while there.replica.event["title"] != title or not (there.resyncs and here.resyncs):
            assert time.monotonic() < deadline, (there.replica.event, there.resyncs, here.resyncs)
            await asyncio.sleep(0.02)
        for worker in cluster:
            deadline = time.monotonic() + CONVERGENCE_SECONDS
            while (await healthz(worker))["redis"] != "ok":
                assert time.monotonic() < deadline, "Redis still counts as down"
                await asyncio.sleep(0.05)
        assert "Redis unavailable" in cluster[0].log.read_text()
        for client in (here, there, asker):
            await client.close()
    finally:
        for worker in cluster:
            worker.stop()


async def test_a_full_publish_queue_counts_as_a_lost_redis_and_every_worker_resyncs(
    settings, redis, monkeypatch, caplog
):
    """The queue limit lowered to 4: news past it is held back, so every worker's clients resync,
    even on a worker that never lost Redis (the hang is shorter than it would notice)."""
    monkeypatch.setattr(broadcast, "PUBLISH_QUEUE_LIMIT", 4)
    caplog.set_level(logging.WARNING, logger="live.redis")
    shared = settings.model_copy(update={"redis_url": redis.url})
    async with running_server(shared) as a, running_server(shared) as b:
        code = (await a.create_event("Full queue"))["event"]["code"]
        here = await Follower(a, code).connect()
        there = await Follower(b, code).connect()
        await asyncio.sleep(0.3)  # both managers are subscribed
        hang(redis)
        try:
            for n in range(6):  # each edit is two broadcasts: participants and screens
                status, _ = await a.api("PATCH", f"/api/events/{code}", {"title": f"Edit {n}"})
                assert status == 200
        finally:
            resume(redis)
        lost = [r.getMessage() for r in caplog.records if "Redis unavailable" in r.getMessage()]
        assert len(lost) == 1 and "publish queue full" in lost[0], lost
        deadline = time.monotonic() + CONVERGENCE_SECONDS
        while there.replica.event is None or there.replica.event["title"] != "Edit 5":
            assert time.monotonic() < deadline, there.replica.event
            await asyncio.sleep(0.02)
        assert there.resyncs >= 1
        await here.close()
        await there.close()
