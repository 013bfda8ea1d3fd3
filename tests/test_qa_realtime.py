"""Q&A over real sockets: asking, voting, ordering, identity and the seq protocol."""

import asyncio

from support import Client, Replica, joined


async def test_question_reaches_every_participant(server, event):
    alice = await joined(server, event["code"], "in_room", "Alice")
    bob = await joined(server, event["code"], "remote")
    watcher = await Client(server, event["code"]).connect()

    asked = await alice.ask("  What   will change\nafter today? ")
    assert asked["text"] == "What will change after today?"
    assert asked["author_name"] == "Alice"
    assert asked["attendance"] == "in_room"
    for client in (alice, bob, watcher):
        msg = await client.wait_for(lambda m: m["type"] == "question")
        assert msg["question"] == asked
    for client in (alice, bob, watcher):
        await client.close()


async def test_anonymous_question_hides_the_name(server, event):
    alice = await joined(server, event["code"], "remote", "Alice")
    asked = await alice.ask("Who decides the budget?", anonymous=True)
    assert asked["author_name"] is None
    assert asked["attendance"] == "remote"
    snapshot = await alice.snapshot()
    assert snapshot["questions"][0]["author_name"] is None
    assert "participant_id" not in snapshot["questions"][0]
    await alice.close()


async def test_votes_are_one_per_participant_and_reorder_the_list(server, event):
    author = await joined(server, event["code"])
    voters = [await joined(server, event["code"]) for _ in range(3)]
    first = await author.ask("First question")
    second = await author.ask("Second question")

    for voter in voters[:2]:
        reply = await voter.ok("upvote", {"question_id": second["id"]})
        assert reply["voted"] is True
    again = await voters[0].ok("upvote", {"question_id": second["id"]})
    assert again == {"question_id": second["id"], "voted": True, "votes": 2}
    await voters[2].ok("upvote", {"question_id": first["id"]})

    await author.wait_for(
        lambda m: m["type"] == "votes" and [second["id"], 2] in m["counts"]
    )
    top = await author.snapshot("top")
    assert [q["id"] for q in top["questions"]] == [second["id"], first["id"]]
    assert [q["votes"] for q in top["questions"]] == [2, 1]
    recent = await author.snapshot("recent")
    assert [q["id"] for q in recent["questions"]] == [second["id"], first["id"]]

    removed = await voters[0].ok("unvote", {"question_id": second["id"]})
    assert removed == {"question_id": second["id"], "voted": False, "votes": 1}
    removed_again = await voters[0].ok("unvote", {"question_id": second["id"]})
    assert removed_again["votes"] == 1
    await voters[1].ok("unvote", {"question_id": second["id"]})
    top = await author.snapshot("top")
    assert [(q["id"], q["votes"]) for q in top["questions"]] == [
        (first["id"], 1),
        (second["id"], 0),
    ]
    for client in [author, *voters]:
        await client.close()


async def test_ties_keep_the_oldest_first(server, event):
    author = await joined(server, event["code"])
    ids = [(await author.ask(f"Question {n}", allow_duplicate=True))["id"] for n in range(3)]
    snapshot = await author.snapshot("top")
    assert [q["id"] for q in snapshot["questions"]] == ids
    await author.close()


async def test_own_question_cannot_be_upvoted(server, event):
    author = await joined(server, event["code"])
    question = await author.ask("Mine")
    reply = await author.call("upvote", {"question_id": question["id"]})
    assert reply["ok"] is False and reply["error"]["code"] == "forbidden"
    await author.close()


async def test_withdraw_removes_the_question_for_everyone(server, event):
    author = await joined(server, event["code"])
    other = await joined(server, event["code"])
    question = await author.ask("Never mind")
    refused = await other.call("withdraw", {"question_id": question["id"]})
    assert refused["error"]["code"] == "forbidden"
    withdrawn = await author.ok("withdraw", {"question_id": question["id"]})
    assert withdrawn["question"]["status"] == "withdrawn"
    msg = await other.wait_for(
        lambda m: m["type"] == "question" and m["question"]["status"] == "withdrawn"
    )
    assert msg["question"]["id"] == question["id"]
    assert (await other.snapshot())["questions"] == []
    mine = (await author.snapshot())["me"]["questions"]
    assert [(q["id"], q["status"]) for q in mine] == [(question["id"], "withdrawn")]
    await author.close()
    await other.close()


async def test_device_token_resumes_identity_and_votes(server, event):
    author = await joined(server, event["code"])
    question = await author.ask("Will this be recorded?")
    first = await joined(server, event["code"], "remote", "Sam")
    await first.ok("upvote", {"question_id": question["id"]})
    token, participant_id = first.token, first.me["id"]
    await first.close()

    again = await Client(server, event["code"], token=token).connect()
    snapshot = await again.snapshot()
    assert snapshot["me"]["id"] == participant_id
    assert snapshot["me"]["name"] == "Sam"
    assert snapshot["me"]["attendance"] == "remote"
    assert snapshot["me"]["votes"] == [question["id"]]
    same = await again.ok("upvote", {"question_id": question["id"]})
    assert same["votes"] == 1
    updated = await again.ok("join", {"attendance": "in_room", "name": "Sam"})
    assert "token" not in updated
    assert updated["me"] == {"id": participant_id, "name": "Sam", "attendance": "in_room"}
    for client in (author, again):
        await client.close()


async def test_every_broadcast_carries_the_next_seq(server, event):
    watcher = await Client(server, event["code"]).connect()
    start = (await watcher.snapshot())["seq"]
    author = await joined(server, event["code"])
    voter = await joined(server, event["code"])
    q1 = await author.ask("One")
    await voter.ok("upvote", {"question_id": q1["id"]})
    q2 = await author.ask("Two")
    await author.ok("withdraw", {"question_id": q2["id"]})
    await watcher.wait_for(lambda m: m["type"] == "question" and m["question"]["status"] == "withdrawn")

    replica = Replica()
    replica.load({"seq": start, "event": None, "questions": []})
    expected_prev = start
    for msg in watcher.updates:
        assert msg["prev"] == expected_prev
        assert msg["seq"] > msg["prev"]
        assert replica.apply(msg) == "applied"
        expected_prev = msg["seq"]
    fresh = await watcher.snapshot()
    assert replica.seq == fresh["seq"] == start + 4
    assert replica.questions == {q["id"]: q for q in fresh["questions"]}
    for client in (watcher, author, voter):
        await client.close()


async def test_vote_storm_is_coalesced_into_absolute_counts(server, event, settings):
    author = await joined(server, event["code"])
    watcher = await Client(server, event["code"]).connect()
    question = await author.ask("Storm")
    voters = [await joined(server, event["code"]) for _ in range(30)]
    await watcher.wait_for(lambda m: m["type"] == "question")
    await asyncio.gather(*(v.ok("upvote", {"question_id": question["id"]}) for v in voters))
    final = await watcher.wait_for(
        lambda m: m["type"] == "votes" and [question["id"], 30] in m["counts"]
    )
    vote_messages = [m for m in watcher.updates if m["type"] == "votes"]
    assert len(vote_messages) < 30
    assert final["seq"] == (await watcher.snapshot())["seq"]
    for client in [author, watcher, *voters]:
        await client.close()


async def test_a_client_that_missed_broadcasts_converges_with_a_snapshot(server, event):
    author = await joined(server, event["code"])
    voter = await joined(server, event["code"])
    watcher = await Client(server, event["code"]).connect()
    replica = Replica()
    replica.load(await watcher.snapshot())
    q1 = await author.ask("Seen")
    await watcher.wait_for(lambda m: m["type"] == "question")
    assert replica.apply(watcher.updates[0]) == "applied"

    q2 = await author.ask("Missed")
    await voter.ok("upvote", {"question_id": q1["id"]})
    await author.ok("withdraw", {"question_id": q1["id"]})
    q3 = await author.ask("After the gap")
    await watcher.wait_for(lambda m: m["type"] == "question" and m["question"]["id"] == q3["id"])

    outcome = replica.apply(watcher.updates[-1])
    assert outcome == "gap"
    replica.load(await watcher.snapshot())
    for msg in watcher.updates:
        assert replica.apply(msg) in {"stale", "applied"}
    assert set(replica.questions) == {q2["id"], q3["id"]}
    for client in (author, voter, watcher):
        await client.close()


async def test_long_polling_clients_take_part(server, event):
    polling = Client(server, event["code"], transport="polling")
    await polling.connect()
    await polling.join("remote")
    ws = await joined(server, event["code"])
    question = await ws.ask("Can the stream hear us?")
    msg = await polling.wait_for(lambda m: m["type"] == "question")
    assert msg["question"]["id"] == question["id"]
    reply = await polling.ok("upvote", {"question_id": question["id"]})
    assert reply["votes"] == 1
    await polling.close()
    await ws.close()
