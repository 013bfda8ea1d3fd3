"""Live polls over real sockets: lifecycle, every kind, validation, visibility and a burst."""

import asyncio
import random
from collections import Counter

import pytest

from support import Client, joined

KINDS = {
    "single": {"kind": "single", "question": "Which day suits you?", "options": ["Mon", "Tue", "Wed"]},
    "multiple": {
        "kind": "multiple",
        "question": "Which topics?",
        "options": ["Waiting times", "Staffing", "Prevention", "Digital"],
        "max_choices": 2,
    },
    "rating": {"kind": "rating", "question": "How useful was today?", "scale_min": 0, "scale_max": 10},
    "word_cloud": {"kind": "word_cloud", "question": "One word for the NHS", "max_entries": 3},
    "open_text": {"kind": "open_text", "question": "What should the board hear?"},
    "ranking": {"kind": "ranking", "question": "Rank the priorities", "options": ["Access", "Quality", "Cost"]},
}


async def create_poll(server, code: str, spec: dict, **extra) -> dict:
    status, body = await server.api("POST", f"/api/events/{code}/polls", {**spec, **extra})
    assert status == 201, body
    return body["data"]


async def set_poll(server, code: str, poll_id: int, state: str) -> tuple[int, dict]:
    return await server.api("POST", f"/api/events/{code}/polls/{poll_id}/{state}")


async def staff_polls(server, code: str) -> dict[int, dict]:
    status, body = await server.api("GET", f"/api/events/{code}/polls")
    assert status == 200
    return {p["id"]: p for p in body["data"]}


async def test_lifecycle_draft_open_close_reopen(server, event):
    code = event["code"]
    voter = await joined(server, code, "in_room")
    poll = await create_poll(server, code, KINDS["single"])
    assert poll["state"] == "draft"
    assert (await voter.snapshot())["polls"] == []
    refused = await voter.call("answer", {"poll_id": poll["id"], "value": 0})
    assert refused["error"]["code"] == "not_found"

    status, body = await set_poll(server, code, poll["id"], "close")
    assert status == 409 and body["error"]["code"] == "conflict"
    status, body = await set_poll(server, code, poll["id"], "open")
    assert status == 200 and body["data"]["state"] == "open"
    opened = await voter.wait_for(lambda m: m["type"] == "poll")
    assert opened["poll"]["state"] == "open" and opened["poll"]["question"] == "Which day suits you?"
    status, _ = await set_poll(server, code, poll["id"], "open")
    assert status == 409

    first = await voter.ok("answer", {"poll_id": poll["id"], "value": 0})
    assert first == {"poll_id": poll["id"], "value": 0, "counted": True}
    await voter.ok("answer", {"poll_id": poll["id"], "value": 2})
    results = (await staff_polls(server, code))[poll["id"]]["results"]
    assert results["all"]["counts"] == [0, 0, 1]
    assert results["responses"] == {"all": 1, "in_room": 1, "remote": 0}
    snapshot = await voter.snapshot()
    assert snapshot["me"]["answers"] == {str(poll["id"]): {"value": 2, "counted": True}}

    await set_poll(server, code, poll["id"], "close")
    closed = await voter.call("answer", {"poll_id": poll["id"], "value": 1})
    assert closed["error"]["code"] == "closed"
    await set_poll(server, code, poll["id"], "open")
    await voter.ok("answer", {"poll_id": poll["id"], "value": 1})
    assert (await staff_polls(server, code))[poll["id"]]["results"]["all"]["counts"] == [0, 1, 0]
    await voter.close()


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("single", 3),
        ("single", -1),
        ("single", [0]),
        ("single", "0"),
        ("multiple", [0, 1, 2]),
        ("multiple", []),
        ("multiple", [1, 1]),
        ("multiple", [7]),
        ("multiple", 1),
        ("rating", 11),
        ("rating", -1),
        ("rating", "5"),
        ("ranking", [0, 1]),
        ("ranking", [0, 0, 1]),
        ("ranking", [0, 1, 3]),
        ("ranking", [2, 1, 0, 3]),
        ("word_cloud", ["a", "b", "c", "d"]),
        ("word_cloud", ["four words are many"]),
        ("word_cloud", ["x" * 41]),
        ("word_cloud", ["   "]),
        ("word_cloud", "not a list"),
        ("open_text", ""),
        ("open_text", "y" * 281),
        ("open_text", 5),
    ],
)
async def test_invalid_answers_are_refused_and_not_stored(server, event, kind, value):
    code = event["code"]
    poll = await create_poll(server, code, KINDS[kind])
    await set_poll(server, code, poll["id"], "open")
    client = await joined(server, code)
    reply = await client.call("answer", {"poll_id": poll["id"], "value": value})
    assert reply["ok"] is False and reply["error"]["code"] == "invalid", reply
    assert (await staff_polls(server, code))[poll["id"]]["results"]["responses"]["all"] == 0
    await client.close()


async def test_malformed_answer_payloads(server, event):
    code = event["code"]
    poll = await create_poll(server, code, KINDS["single"])
    await set_poll(server, code, poll["id"], "open")
    client = await joined(server, code)
    for payload in ({}, {"poll_id": poll["id"]}, {"poll_id": "1", "value": 0}, {"poll_id": poll["id"], "value": {"a": 1}},
                    {"poll_id": poll["id"], "value": 0, "participant_id": 1}):
        reply = await client.call("answer", payload)
        assert reply["error"]["code"] == "invalid", payload
    assert (await client.call("answer", {"poll_id": 999, "value": 0}))["error"]["code"] == "not_found"
    await client.close()


async def test_in_room_poll_refuses_remote_participants(server, event):
    code = event["code"]
    poll = await create_poll(server, code, KINDS["single"], audience="in_room")
    await set_poll(server, code, poll["id"], "open")
    remote = await joined(server, code, "remote")
    room = await joined(server, code, "in_room")
    refused = await remote.call("answer", {"poll_id": poll["id"], "value": 0})
    assert refused["error"]["code"] == "forbidden"
    await room.ok("answer", {"poll_id": poll["id"], "value": 0})
    await remote.ok("join", {"attendance": "in_room"})
    await remote.ok("answer", {"poll_id": poll["id"], "value": 1})
    results = (await staff_polls(server, code))[poll["id"]]["results"]
    assert results["in_room"]["counts"] == [1, 1, 0] and results["remote"]["counts"] == [0, 0, 0]
    await remote.close()
    await room.close()


async def test_participants_cannot_manage_polls(server, event):
    code = event["code"]
    poll = await create_poll(server, code, KINDS["single"])
    client = await joined(server, code)
    for name in ("poll_open", "poll_close", "poll_create"):
        reply = await client.call(name, {"poll_id": poll["id"]})
        assert reply["ok"] is False and reply["error"]["code"] == "invalid"
    status, body = await server.api("POST", f"/api/events/{code}/polls/{poll['id']}/open", token=client.token)
    assert status == 403
    assert (await staff_polls(server, code))[poll["id"]]["state"] == "draft"
    await client.close()


async def test_hidden_results_never_reach_participants_before_close(server, event):
    code = event["code"]
    staff_only = await create_poll(server, code, KINDS["single"], visibility="staff")
    after_close = await create_poll(server, code, KINDS["rating"], visibility="after_close")
    live = await create_poll(server, code, KINDS["multiple"])
    for poll in (staff_only, after_close, live):
        await set_poll(server, code, poll["id"], "open")
    watcher = await joined(server, code)
    voters = [await joined(server, code) for _ in range(4)]
    for voter in voters:
        await voter.ok("answer", {"poll_id": staff_only["id"], "value": 1})
        await voter.ok("answer", {"poll_id": after_close["id"], "value": 7})
        await voter.ok("answer", {"poll_id": live["id"], "value": [0, 3]})
    await watcher.wait_for(
        lambda m: any(p["id"] == live["id"] and p["results"]["responses"]["all"] == 4 for p in m.get("polls", []))
    )
    hidden = {staff_only["id"], after_close["id"]}
    for msg in watcher.updates:
        for p in msg.get("polls", []):
            assert p["id"] not in hidden
        if msg["type"] == "poll":
            assert msg["poll"]["id"] not in hidden or msg["poll"]["results"] is None
    snapshot = {p["id"]: p for p in (await watcher.snapshot())["polls"]}
    assert snapshot[staff_only["id"]]["results"] is None
    assert snapshot[after_close["id"]]["results"] is None
    assert snapshot[live["id"]]["results"]["all"]["counts"] == [4, 0, 0, 4]

    await set_poll(server, code, after_close["id"], "close")
    await set_poll(server, code, staff_only["id"], "close")
    closed = await watcher.wait_for(lambda m: m["type"] == "poll" and m["poll"]["id"] == after_close["id"])
    assert closed["poll"]["results"]["all"]["mean"] == 7
    snapshot = {p["id"]: p for p in (await watcher.snapshot())["polls"]}
    assert snapshot[staff_only["id"]]["results"] is None
    assert snapshot[after_close["id"]]["results"]["all"]["counts"][7] == 4
    for client in [watcher, *voters]:
        await client.close()


async def test_word_cloud_and_open_text_are_normalised_and_filtered(server, event):
    code = event["code"]
    cloud = await create_poll(server, code, KINDS["word_cloud"])
    text = await create_poll(server, code, KINDS["open_text"])
    for poll in (cloud, text):
        await set_poll(server, code, poll["id"], "open")
    a = await joined(server, code, "in_room")
    b = await joined(server, code, "remote")
    await a.ok("answer", {"poll_id": cloud["id"], "value": ["Free  at point", "CARE"]})
    await b.ok("answer", {"poll_id": cloud["id"], "value": ["care", "Free at point "]})
    held = await b.ok("answer", {"poll_id": text["id"], "value": "Call me on 07700 900123"})
    assert held["counted"] is False and "personal_data" in held["reasons"]
    await a.ok("answer", {"poll_id": text["id"], "value": "More  evening clinics"})
    polls = await staff_polls(server, code)
    assert polls[cloud["id"]]["results"]["all"]["words"] == [["care", 2], ["free at point", 2]]
    assert polls[cloud["id"]]["results"]["remote"]["words"] == [["care", 1], ["free at point", 1]]
    assert polls[text["id"]]["results"]["all"] == {"answers": ["More evening clinics"]}
    assert polls[text["id"]]["results"]["responses"]["all"] == 1
    await a.close()
    await b.close()


def expected_results(kind: str, spec: dict, answers: list[tuple[str, object]]) -> dict:
    """The tallies the test expects, computed independently of the server's code."""

    def tally(values: list) -> dict:
        if kind == "single":
            return {"counts": [sum(v == i for v in values) for i in range(len(spec["options"]))]}
        if kind == "multiple":
            return {"counts": [sum(i in v for v in values) for i in range(len(spec["options"]))]}
        if kind == "rating":
            scale = list(range(spec["scale_min"], spec["scale_max"] + 1))
            mean = round(sum(values) / len(values), 3) if values else None
            return {"scale": scale, "counts": [values.count(s) for s in scale], "mean": mean}
        if kind == "ranking":
            n = len(spec["options"])
            return {
                "scores": [sum(n - 1 - v.index(i) for v in values) for i in range(n)],
                "positions": [[sum(v[p] == i for v in values) for p in range(n)] for i in range(n)],
            }
        if kind == "word_cloud":
            words = Counter(w for v in values for w in v)
            return {"words": sorted(([w, c] for w, c in words.items()), key=lambda x: (-x[1], x[0])), "distinct": len(words)}
        raise AssertionError(kind)

    split = {a: [v for at, v in answers if at == a] for a in ("in_room", "remote")}
    return {
        "responses": {"all": len(answers), "in_room": len(split["in_room"]), "remote": len(split["remote"])},
        "all": tally([v for _, v in answers]),
        "in_room": tally(split["in_room"]),
        "remote": tally(split["remote"]),
    }


def random_answer(kind: str, spec: dict, rng: random.Random) -> object:
    if kind == "single":
        return rng.randrange(len(spec["options"]))
    if kind == "multiple":
        return sorted(rng.sample(range(len(spec["options"])), rng.randint(1, spec["max_choices"])))
    if kind == "rating":
        return rng.randint(spec["scale_min"], spec["scale_max"])
    if kind == "ranking":
        order = list(range(len(spec["options"])))
        rng.shuffle(order)
        return order
    return sorted(set(rng.sample(["care", "staff", "time", "kindness", "access"], rng.randint(1, 3))))


async def test_burst_of_200_clients_gives_exact_tallies_for_every_kind(server, event):
    code = event["code"]
    kinds = ["single", "multiple", "rating", "ranking", "word_cloud"]
    polls = {kind: await create_poll(server, code, KINDS[kind]) for kind in kinds}
    for poll in polls.values():
        await set_poll(server, code, poll["id"], "open")
    rng = random.Random(20261124)

    async def connect(n: int) -> Client:
        return await joined(server, code, "in_room" if n % 3 else "remote")

    clients: list[Client] = []
    for start in range(0, 200, 50):
        clients += await asyncio.gather(*(connect(n) for n in range(start, start + 50)))
    final: dict[str, dict[int, tuple[str, object]]] = {kind: {} for kind in kinds}

    async def answer_all(client: Client) -> None:
        for kind in kinds:
            spec = KINDS[kind]
            changes = 2 if rng.random() < 0.25 else 1
            for _ in range(changes):
                value = random_answer(kind, spec, rng)
                reply = await client.ok("answer", {"poll_id": polls[kind]["id"], "value": value, "op_id": f"{kind}-{rng.random()}"})
                final[kind][client.me["id"]] = (client.me["attendance"], reply["value"])

    await asyncio.gather(*(answer_all(c) for c in clients))
    stored = await staff_polls(server, code)
    watcher = clients[0]
    for kind in kinds:
        expected = expected_results(kind, KINDS[kind], list(final[kind].values()))
        assert stored[polls[kind]["id"]]["results"] == expected, kind
        assert expected["responses"]["all"] == 200
        poll_id = polls[kind]["id"]
        await watcher.wait_for(
            lambda m: any(p["id"] == poll_id and p["results"] == expected for p in m.get("polls", [])), timeout=10
        )
    snapshot = {p["id"]: p for p in (await watcher.snapshot())["polls"]}
    for kind in kinds:
        assert snapshot[polls[kind]["id"]]["results"] == stored[polls[kind]["id"]]["results"]
    await asyncio.gather(*(c.close() for c in clients))
