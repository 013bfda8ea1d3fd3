"""Several hosts, one PostgreSQL: real `live serve` processes standing in for hosts, sharing a
throwaway PostgreSQL cluster of the test's own and a real redis-server, through a killed host and
a database restart in the middle of a storm of asks and votes."""

import asyncio
import os
import time

import asyncpg
import pytest
import socketio

from support import Client, Cluster, Follower, ServerProcess, joined
from test_workers import CALL_TIMEOUT, CONVERGENCE_SECONDS, Voter, converged

#: Seconds PostgreSQL stays down in the middle of the storm.
OUTAGE_SECONDS = 1.5


@pytest.fixture
def cluster():
    try:
        cluster = Cluster()
    except FileNotFoundError:
        if os.environ.get("CI"):
            pytest.fail("initdb is required in CI: .ci/run installs the Debian postgresql package")
        pytest.skip("PostgreSQL's initdb is not installed (apt-get install postgresql)")
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


class Participant(Voter):
    """A voter that also asks, and that meets `unavailable` while the database is down: it
    waits and sends the same command again with the same op_id, as the page does."""

    def __init__(self, servers, code: str, first: int) -> None:
        super().__init__(servers, code, first)
        self.asked: set[str] = set()
        self.tried: set[str] = set()
        self.refusals = 0

    async def connect(self) -> None:
        """Connect (and join, the first time) to this host or the next one that answers."""
        while True:
            client = Client(self.servers[self.at % len(self.servers)], self.code, self.token)
            try:
                await asyncio.wait_for(client.connect(), CALL_TIMEOUT)
                if self.token is None:
                    await client.join()
                    self.token, self.participant = client.token, client.me["id"]
                self.client = client
                return
            except Exception:
                self.at += 1
                await asyncio.sleep(0.05)

    async def _until_acknowledged(self, name: str, payload: dict) -> dict:
        while True:
            try:
                reply = await self.client.sio.call(name, payload, timeout=CALL_TIMEOUT)
            except (socketio.exceptions.SocketIOError, asyncio.TimeoutError):
                await self.client.sio.disconnect()
                self.at += 1
                await self.connect()
                continue
            if reply["ok"]:
                return reply["data"]
            assert reply["error"]["code"] == "unavailable", reply
            self.refusals += 1
            await asyncio.sleep(0.1)

    async def vote(self, question_id: int) -> None:
        self.attempted.add(question_id)
        op_id = f"vote-{self.participant}-{question_id}"
        await self._until_acknowledged("upvote", {"question_id": question_id, "op_id": op_id})
        self.acked.add(question_id)

    async def ask(self, text: str) -> None:
        self.tried.add(text)
        await self._until_acknowledged(
            "ask", {"text": text, "op_id": f"ask-{text}", "allow_duplicate": True}
        )
        self.asked.add(text)


async def stored(url: str) -> tuple[list[tuple[int, int]], dict[int, int], list[str], dict[int, int]]:
    conn = await asyncpg.connect(url)
    try:
        votes = [tuple(r) for r in await conn.fetch("SELECT question_id, participant_id FROM votes")]
        counts = dict(await conn.fetch("SELECT id, votes FROM questions"))
        texts = [r[0] for r in await conn.fetch("SELECT text FROM questions")]
        derived = dict(await conn.fetch(
            "SELECT q.id, count(v.participant_id) FILTER (WHERE v.participant_id != q.participant_id) "
            "FROM questions q LEFT JOIN votes v ON v.question_id = q.id GROUP BY q.id"
        ))
        return votes, counts, texts, derived
    finally:
        await conn.close()


async def test_hosts_survive_a_killed_host_and_a_database_restart_mid_storm(cluster, redis, tmp_path):
    """Jepsen-style set test across hosts: every acknowledged vote and question is stored exactly
    once, nothing unacknowledged is stored twice, writes during the outage are refused as
    `unavailable` (never acknowledged), and every client converges to the database."""
    env = {"LIVE_DATABASE_URL": cluster.url, "LIVE_REDIS_URL": redis.url, "LIVE_ASK_LIMIT": "1000"}
    hosts = [ServerProcess(tmp_path / f"host{n}.db", env) for n in range(3)]
    for host in hosts:
        host.start()
    try:
        servers = [h.server() for h in hosts]
        code = (await servers[0].create_event("Across hosts"))["event"]["code"]
        askers = [await joined(servers[0], code), await joined(servers[1], code)]
        questions = [
            (await askers[i % 2].ask(f"Host set test {i}", allow_duplicate=True))["id"]
            for i in range(6)
        ]
        people = [Participant(servers, code, i) for i in range(9)]
        for person in people:
            await person.connect()
        watchers = [await Follower(servers[i], code).connect() for i in (0, 1, 0, 1)]
        rounds = iter(questions)

        async def storm(asking: bool = False) -> None:
            """A vote from everyone on the next question, and a question from everyone if asked
            (three at most: the flood filter holds a fourth within a minute)."""
            question_id = next(rounds)
            await asyncio.gather(
                *(p.vote(question_id) for p in people),
                *(p.ask(f"Asked by {p.participant} in round {question_id}")
                  for p in people if asking),
            )

        async def truth() -> dict[int, int]:
            return (await stored(cluster.url))[1]

        await storm()
        killing = asyncio.create_task(storm(asking=True))
        await asyncio.sleep(0.005)
        hosts[2].kill()
        await killing
        await storm()
        after_kill = await converged(watchers, await truth(), CONVERGENCE_SECONDS)

        await asyncio.to_thread(cluster.stop)
        outage = asyncio.create_task(storm(asking=True))
        await asyncio.sleep(OUTAGE_SECONDS)
        assert not outage.done(), "a write was acknowledged while the database was down"
        await asyncio.to_thread(cluster.start)
        back = time.monotonic()
        await outage
        recovered = time.monotonic() - back
        assert sum(p.refusals for p in people) >= len(people)

        await storm(asking=True)
        await storm()
        after_restart = await converged(watchers, await truth(), CONVERGENCE_SECONDS)
        for watcher in watchers:
            fresh = await watcher.snapshot()
            assert {q["id"]: q["votes"] for q in fresh["questions"]} == watcher.votes()

        votes, counts, texts, derived = await stored(cluster.url)
        assert len(votes) == len(set(votes)), "a vote stored twice"
        acked = {(q, p.participant) for p in people for q in p.acked}
        attempted = {(q, p.participant) for p in people for q in p.attempted}
        assert acked <= set(votes) <= attempted
        assert acked == attempted  # every storm ended with every vote acknowledged
        assert counts == derived, "a count differs from its rows"
        asked = {t for p in people for t in p.asked}
        assert asked <= set(texts) and len(texts) == len(set(texts)), "a question stored twice"
        print(f"converged {after_kill:.2f}s after the kill's last write, {after_restart:.2f}s after "
              f"the restart's; writes acknowledged again {recovered:.2f}s after PostgreSQL started; "
              f"{sum(p.refusals for p in people)} 'unavailable' acks during the outage")
        for client in [*askers, *watchers, *(p.client for p in people)]:
            await client.close()
    finally:
        for host in hosts:
            host.stop()
