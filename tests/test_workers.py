"""Many workers, one audience: real `live serve` processes fanned out through a real redis-server."""

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import socketio

from live.cli import _worker_command, parser
from live.settings import Settings
from live.store import db as db_module
from support import (
    ORGANISER_TOKEN,
    Client,
    Follower,
    RedisProcess,
    Server,
    ServerProcess,
    free_port,
    joined,
    running_server,
)

#: The issue's promise: after Redis returns, every client's view equals the database within this.
CONVERGENCE_SECONDS = 2.0
#: Ack wait in the fault tests: a command to a dead worker is retried elsewhere after this.
CALL_TIMEOUT = 2.0


def workers(tmp_path, redis: RedisProcess, n: int) -> list[ServerProcess]:
    env = {"LIVE_REDIS_URL": redis.url, "LIVE_ASK_LIMIT": "1000"}
    started = []
    for _ in range(n):
        worker = ServerProcess(tmp_path / "live.db", env)
        worker.start()
        started.append(worker)
    return started


@pytest.fixture
def cluster(tmp_path, redis):
    running = workers(tmp_path, redis, 3)
    try:
        yield running
    finally:
        for worker in running:
            worker.stop()


def db_votes(path) -> dict[int, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT id, votes FROM questions"))


async def converged(followers: list[Follower], truth: dict[int, int], timeout: float) -> float:
    """Seconds until every follower's vote counts equal `truth`; fails after `timeout`."""
    start = time.monotonic()
    while True:
        if all(f.votes() == truth for f in followers):
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(
                f"not converged in {timeout}s: truth {truth}, views {[f.votes() for f in followers]}"
            )
        await asyncio.sleep(0.02)


async def healthz(worker: ServerProcess) -> dict:
    return await healthz_at(worker.url)


async def healthz_at(url: str) -> dict:
    async with aiohttp.ClientSession() as http, http.get(url + "/healthz") as res:
        return (await res.json())["data"]


def children(pid: int) -> set[int]:
    """Live child processes of pid, from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
            if int(ppid) == pid and state != "Z":
                found.add(int(stat.parent.name))
    return found


async def test_questions_and_votes_reach_every_worker_and_add_up(cluster):
    servers = [w.server() for w in cluster]
    code = (await servers[0].create_event("Three workers"))["event"]["code"]
    watchers = [await Follower(s, code).connect() for s in servers]
    asker = await joined(servers[1], code)
    await asyncio.sleep(0.2)
    question = await asker.ask("Does a question asked on one worker reach all of them?")
    for watcher in watchers:
        await watcher.wait_for(lambda m: m["type"] == "question")
    voters = [await joined(servers[i % 3], code) for i in range(9)]
    acks = await asyncio.gather(
        *(v.ok("upvote", {"question_id": question["id"]}) for v in voters)
    )
    assert sorted(a["votes"] for a in acks) == list(range(1, 10))
    await converged(watchers, {question["id"]: 9}, CONVERGENCE_SECONDS)

    away = watchers[2]
    left_at = away.replica.seq
    await away.close()
    for i, voter in enumerate(voters):
        await voter.ok("unvote", {"question_id": question["id"]})
        await voter.ask(f"Asked while a phone was in a tunnel, number {i}", allow_duplicate=True)
    back = await Follower(servers[2], code).connect()
    truth = db_votes(cluster[0].db)
    await converged([back, *watchers[:2]], truth, CONVERGENCE_SECONDS)
    assert back.replica.seq >= left_at + 18
    fresh = await back.snapshot()
    assert back.replica.questions == {q["id"]: q for q in fresh["questions"]}

    for client in [*watchers[:2], back, asker, *voters]:
        await client.close()


async def test_a_duplicate_op_id_storm_across_workers_counts_once(cluster):
    servers = [w.server() for w in cluster]
    code = (await servers[0].create_event("Retries"))["event"]["code"]
    asker = await joined(servers[0], code)
    question = await asker.ask("Is a retried vote counted once?")
    voter = await joined(servers[1], code)
    devices = [await Client(s, code, voter.token).connect() for s in servers for _ in range(3)]
    replies = await asyncio.gather(
        *(d.call("upvote", {"question_id": question["id"], "op_id": "storm-1"})
          for d in devices for _ in range(5))
    )
    assert all(r == replies[0] for r in replies) and replies[0]["data"]["votes"] == 1
    asks = await asyncio.gather(
        *(d.call("ask", {"text": "Asked once, sent many times", "op_id": "storm-2"})
          for d in devices)
    )
    assert all(r == asks[0] and r["ok"] for r in asks)
    with sqlite3.connect(cluster[0].db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM votes").fetchone() == (1,)
        assert conn.execute(
            "SELECT COUNT(*) FROM questions WHERE text = 'Asked once, sent many times'"
        ).fetchone() == (1,)
    for client in [asker, voter, *devices]:
        await client.close()


class Voter:
    """A participant on a flaky phone: votes with unique op_ids, moving worker when one dies."""

    def __init__(self, servers, code: str, first: int) -> None:
        self.servers = servers
        self.code = code
        self.at = first
        self.client: Client | None = None
        self.token: str | None = None
        self.participant: int | None = None
        self.acked: set[int] = set()
        self.attempted: set[int] = set()

    async def connect(self) -> None:
        while True:
            server = self.servers[self.at % len(self.servers)]
            client = Client(server, self.code, self.token)
            try:
                await asyncio.wait_for(client.connect(), CALL_TIMEOUT)
                if self.token is None:
                    await client.join()
                    self.token, self.participant = client.token, client.me["id"]
                self.client = client
                return
            except Exception:
                self.at += 1

    async def vote(self, question_id: int) -> None:
        """Retry with the same op_id until acknowledged: applied once wherever it lands."""
        self.attempted.add(question_id)
        op_id = f"{self.participant}-{question_id}"
        while True:
            try:
                reply = await self.client.sio.call(
                    "upvote", {"question_id": question_id, "op_id": op_id}, timeout=CALL_TIMEOUT
                )
                assert reply["ok"], reply
                self.acked.add(question_id)
                return
            except (socketio.exceptions.SocketIOError, asyncio.TimeoutError):
                await self.client.sio.disconnect()
                self.at += 1
                await self.connect()


async def test_votes_survive_a_killed_worker_and_a_redis_restart(tmp_path, redis):
    """Jepsen-style set test: every acknowledged vote is in the database exactly once, and every
    connected client's view equals the database within two seconds of Redis returning."""
    began = time.monotonic()
    cluster = workers(tmp_path, redis, 3)
    try:
        servers = [w.server() for w in cluster]
        code = (await servers[0].create_event("Faults"))["event"]["code"]
        askers = [await joined(servers[0], code) for _ in range(2)]
        questions = [
            (await askers[i % 2].ask(f"Set test {i}", allow_duplicate=True))["id"] for i in range(6)
        ]
        voters = [Voter(servers, code, i) for i in range(9)]
        for voter in voters:
            await voter.connect()
        watchers = [await Follower(servers[i], code).connect() for i in (0, 1, 0, 1)]
        lone = await joined(servers[1], code)
        rounds = iter(questions)

        async def round_of_votes() -> None:
            question_id = next(rounds)
            started = time.monotonic()
            await asyncio.gather(*(v.vote(question_id) for v in voters))
            print(f"round {question_id}: {time.monotonic() - started:.2f}s")

        async def during_a_round(fault) -> None:
            voting = asyncio.create_task(round_of_votes())
            await asyncio.sleep(0.005)
            fault()
            await voting

        await round_of_votes()
        await during_a_round(cluster[2].kill)
        await during_a_round(redis.stop)
        await round_of_votes()  # acknowledged while Redis is down: each worker commits alone
        assert (await healthz(cluster[0]))["redis"] == "down"
        await asyncio.sleep(0.5)  # the round's news and the snapshots it caused have settled
        await lone.ok("upvote", {"question_id": questions[0]})  # unseen on worker 0 for now
        await asyncio.sleep(1.0)
        redis.start()
        truth = db_votes(cluster[0].db)
        stale = sum(w.votes() != truth for w in watchers)
        assert stale >= 2, "the views on worker 0 should miss the lone vote until they resync"
        after_restart = await converged(watchers, truth, CONVERGENCE_SECONDS)
        while (await healthz(cluster[0]))["redis"] != "ok":
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # every worker is subscribed again
        snapshots = [w.snapshots for w in watchers]
        await lone.ok("unvote", {"question_id": questions[0]})  # news crosses Redis again
        await converged(watchers, db_votes(cluster[0].db), CONVERGENCE_SECONDS)
        assert [w.snapshots for w in watchers] == snapshots

        await round_of_votes()
        await round_of_votes()
        after_last_write = await converged(watchers, db_votes(cluster[0].db), CONVERGENCE_SECONDS)
        print(f"{stale} of {len(watchers)} views stale when Redis restarted; converged "
              f"{after_restart:.2f}s after, {after_last_write:.2f}s after the last write; "
              f"whole test {time.monotonic() - began:.1f}s")

        with sqlite3.connect(cluster[0].db) as conn:
            rows = conn.execute("SELECT question_id, participant_id FROM votes").fetchall()
            recounted = dict(conn.execute(
                "SELECT q.id, COUNT(v.question_id) FROM questions q "
                "LEFT JOIN votes v ON v.question_id = q.id GROUP BY q.id"
            ))
        assert len(rows) == len(set(rows))
        acked = {(q, v.participant) for v in voters for q in v.acked}
        attempted = {(q, v.participant) for v in voters for q in v.attempted}
        assert acked <= set(rows) <= attempted
        assert db_votes(cluster[0].db) == recounted
        assert all(watcher.resyncs >= 1 for watcher in watchers)
        logs = cluster[0].log.read_text()
        assert "Redis unavailable" in logs and "Redis is back" in logs
        for client in [*askers, lone, *watchers, *(v.client for v in voters)]:
            await client.close()
    finally:
        for worker in cluster:
            worker.stop()


async def test_workers_share_one_port_are_replaced_and_drain_on_sigterm(tmp_path, redis):
    port = free_port()
    log = open(tmp_path / "workers.log", "wb")
    env = {"LIVE_REDIS_URL": redis.url, "LIVE_ORGANISER_TOKEN": ORGANISER_TOKEN}
    proc = subprocess.Popen(
        [sys.executable, "-m", "live", "serve", "--workers", "2", "--port", str(port),
         "--db", str(tmp_path / "live.db")],
        env={**os.environ, **env},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        server = Server(f"http://127.0.0.1:{port}", Settings(organiser_token=ORGANISER_TOKEN))
        deadline = time.monotonic() + 20
        while True:
            try:
                code = (await server.create_event("One port"))["event"]["code"]
                break
            except aiohttp.ClientError:
                assert time.monotonic() < deadline, "workers did not start"
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # the second worker is listening and subscribed
        clients = [await Follower(server, code).connect() for _ in range(8)]
        asker = await joined(server, code)
        await asyncio.sleep(0.2)
        await asker.ask("Served by whichever worker the kernel picked?")
        for client in clients:
            await client.wait_for(lambda m: m["type"] == "question")
        for client in clients:
            await client.close()

        first = children(proc.pid)
        assert len(first) == 2
        os.kill(min(first), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while len(now := children(proc.pid)) < 2 or now == first:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            await asyncio.sleep(0.1)
        assert (await healthz_at(server.url))["database"] == "ok"

        asker = await joined(server, code)
        disconnected = asyncio.Event()
        asker.sio.on("disconnect", lambda *a: disconnected.set())
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(disconnected.wait(), 5)
        while proc.poll() is None:
            assert time.monotonic() - started < 10, "the workers did not stop"
            await asyncio.sleep(0.05)
        assert proc.returncode == 0
        print(f"SIGTERM: clients told to reconnect after {time.monotonic() - started:.2f}s")
        await asker.close()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


def test_worker_commands_pass_the_shared_port(tmp_path):
    args = parser().parse_args(["serve", "--workers", "3", "--demo"])
    settings = Settings(port=9000, db=tmp_path / "x.db")
    first, other = (_worker_command(args, settings, first) for first in (True, False))
    assert "--reuse-port" in first and "--demo" in first and "--demo" not in other
    assert first[first.index("--workers") + 1] == "1"  # not LIVE_WORKERS again, inherited
    assert first[first.index("--port") + 1] == "9000"


@pytest.mark.sqlite_only
async def test_a_write_waits_out_another_process_holding_the_lock(settings, monkeypatch):
    """SQLITE_BUSY past the busy timeout is retried: the vote is applied once and acknowledged."""
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 50)
    async with running_server(settings) as server:
        code = (await server.create_event("Busy"))["event"]["code"]
        asker = await joined(server, code)
        question = await asker.ask("Does a busy database lose my vote?")
        voter = await joined(server, code)
        holder = sqlite3.connect(settings.db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        voting = asyncio.create_task(
            voter.call("upvote", {"question_id": question["id"], "op_id": "busy-1"}))
        await asyncio.sleep(0.12)  # past the busy timeout twice: the writer is retrying
        assert not voting.done()
        holder.execute("COMMIT")
        holder.close()
        reply = await voting
        assert reply["ok"] and reply["data"]["votes"] == 1
        assert db_votes(settings.db) == {question["id"]: 1}
        await asker.close()
        await voter.close()
