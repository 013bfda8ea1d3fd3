"""Acknowledged writes survive a restart and a kill -9 of the server process."""

import asyncio

import pytest

from support import Client, ServerProcess, joined


@pytest.fixture
def process(tmp_path):
    proc = ServerProcess(tmp_path / "live.db")
    yield proc
    proc.stop()


async def test_everything_is_still_there_after_a_restart(process):
    process.start()
    server = process.server()
    event = (await server.create_event("Restart me"))["event"]
    author = await joined(server, event["code"], "remote", "Ada")
    voter = await joined(server, event["code"])
    question = await author.ask("Does this survive?")
    await voter.ok("upvote", {"question_id": question["id"]})
    before = await voter.snapshot()
    token = voter.token
    await author.close()
    await voter.close()
    process.stop()

    process.start()
    again = await Client(server, event["code"], token=token).connect()
    after = await again.snapshot()
    assert after == before
    assert after["me"]["votes"] == [question["id"]]
    await again.close()


async def test_acknowledged_writes_survive_kill_9(process):
    process.start()
    server = process.server()
    event = (await server.create_event("Crash me"))["event"]
    authors = [await joined(server, event["code"]) for _ in range(4)]
    voters = [await joined(server, event["code"]) for _ in range(6)]

    async def ask_all(client: Client, n: int) -> list[dict]:
        return [await client.ask(f"Question {n}.{i}", allow_duplicate=True) for i in range(4)]

    asked = [q for batch in await asyncio.gather(*(ask_all(a, n) for n, a in enumerate(authors))) for q in batch]

    async def vote_all(client: Client) -> list[int]:
        acked = []
        for q in asked:
            reply = await client.call("upvote", {"question_id": q["id"]})
            if reply["ok"]:
                acked.append(q["id"])
        return acked

    acked_votes = await asyncio.gather(*(vote_all(v) for v in voters))
    process.kill()
    for client in authors + voters:
        await client.sio.disconnect()

    process.start()
    watcher = await Client(server, event["code"]).connect()
    snapshot = await watcher.snapshot()
    stored = {q["id"]: q for q in snapshot["questions"]}
    assert set(stored) == {q["id"] for q in asked}
    for q in asked:
        expected = sum(q["id"] in acked for acked in acked_votes)
        assert stored[q["id"]]["votes"] == expected
    for voter, acked in zip(voters, acked_votes):
        resumed = await Client(server, event["code"], token=voter.token).connect()
        assert (await resumed.snapshot())["me"]["votes"] == sorted(acked)
        await resumed.close()
    await watcher.close()


async def test_kill_9_in_the_middle_of_a_burst_keeps_every_ack(process):
    process.start()
    server = process.server()
    event = (await server.create_event("Burst"))["event"]
    author = await joined(server, event["code"])
    question = await author.ask("Vote now")
    voters = [await joined(server, event["code"]) for _ in range(20)]
    acked: list[Client] = []

    async def vote(client: Client) -> None:
        try:
            reply = await client.sio.call("upvote", {"question_id": question["id"]}, timeout=2)
        except Exception:
            return
        if reply["ok"]:
            acked.append(client)

    tasks = [asyncio.create_task(vote(v)) for v in voters]
    await asyncio.sleep(0.01)
    process.kill()
    await asyncio.gather(*tasks)
    for client in voters + [author]:
        await client.sio.disconnect()

    process.start()
    watcher = await Client(server, event["code"]).connect()
    votes = (await watcher.snapshot())["questions"][0]["votes"]
    await watcher.close()
    assert votes >= len(acked)
    assert votes <= len(voters)
