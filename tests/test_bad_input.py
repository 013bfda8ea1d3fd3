"""Hostile and malformed input: each refused with the right code, nothing stored, nothing broken."""

import asyncio

import pytest

from live.settings import Settings
from support import ORGANISER_TOKEN, Client, connect_refusal, joined, running_server


@pytest.fixture
async def author(server, event):
    client = await joined(server, event["code"], "in_room", "Author")
    yield client
    await client.close()


async def refused(client: Client, name: str, payload: object, code: str) -> dict:
    reply = await client.call(name, payload)
    assert reply["ok"] is False, reply
    assert reply["error"]["code"] == code, reply
    assert reply["error"]["message"]
    return reply["error"]


async def assert_no_questions(client: Client) -> None:
    snapshot = await client.snapshot()
    assert snapshot["questions"] == []
    assert snapshot["me"] is None or snapshot["me"]["questions"] == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"text": None},
        {"text": 42},
        {"text": ["a list"]},
        {"text": ""},
        {"text": "   \n\t  "},
        {"text": "\x00\x01\x07\u200b\u202e"},
        {"text": "x" * 501},
        {"text": "y" * 5000},
        {"text": "fine", "extra": 1},
        {"text": "fine", "anonymous": "yes"},
        {"text": "fine", "op_id": ""},
        "just a string",
        ["text"],
        None,
    ],
)
async def test_invalid_questions_are_refused_and_not_stored(author, payload):
    error = await refused(author, "ask", payload, "invalid")
    assert "problems" in error["details"]
    await assert_no_questions(author)


async def test_500_characters_is_the_limit(author):
    accepted = await author.ask("z" * 500)
    assert len(accepted["text"]) == 500


async def test_control_characters_are_removed_from_text(author):
    question = await author.ask("Why\x00 is\u200b this\x1b[31m red?")
    assert question["text"] == "Why is this[31m red?"


async def test_markup_is_stored_verbatim(author):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    question = await author.ask(payload)
    assert question["text"] == payload
    assert (await author.snapshot())["questions"][0]["text"] == payload


async def test_several_arguments_are_refused(author):
    reply = await author.sio.call("ask", ("one", "two"), timeout=5)
    assert reply["error"]["code"] == "invalid"


async def test_unknown_question_ids(author):
    for name in ("upvote", "unvote", "withdraw"):
        await refused(author, name, {"question_id": 999}, "not_found")
        await refused(author, name, {"question_id": 0}, "invalid")
        await refused(author, name, {"question_id": "1"}, "invalid")
        await refused(author, name, {"question_id": 1.5}, "invalid")
        await refused(author, name, {"question_id": True}, "invalid")


async def test_vote_cannot_name_another_participant(server, event, author):
    question = await author.ask("Count me once")
    voter = await joined(server, event["code"])
    await refused(
        voter, "upvote", {"question_id": question["id"], "participant_id": author.me["id"]}, "invalid"
    )
    assert (await voter.snapshot())["questions"][0]["votes"] == 0
    await voter.close()


async def test_questions_of_another_event_are_not_found(server, event, author):
    other = (await server.create_event("Another day"))["event"]
    outsider = await joined(server, other["code"])
    question = await author.ask("Day one only")
    await refused(outsider, "upvote", {"question_id": question["id"]}, "not_found")
    await outsider.close()


async def test_writes_before_joining_are_forbidden(server, event, author):
    question = await author.ask("Hello")
    watcher = await Client(server, event["code"]).connect()
    await refused(watcher, "ask", {"text": "sneaky"}, "forbidden")
    await refused(watcher, "upvote", {"question_id": question["id"]}, "forbidden")
    await watcher.close()


async def test_forged_device_token_is_refused_at_connect(server, event, author):
    error = await connect_refusal(server, {"event": event["code"], "token": "forged-token-value"})
    assert error["code"] == "forbidden"


async def test_token_of_another_event_is_refused(server, event, author):
    other = (await server.create_event("Another day"))["event"]
    error = await connect_refusal(server, {"event": other["code"], "token": author.token})
    assert error["code"] == "forbidden"


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        (None, "invalid"),
        ({}, "invalid"),
        ({"event": ""}, "invalid"),
        ({"event": 5}, "invalid"),
        ({"event": "X" * 100}, "invalid"),
        ({"event": "ABCD", "token": 5}, "invalid"),
        ({"event": "NOPE99"}, "not_found"),
    ],
)
async def test_bad_connect_credentials_are_refused(server, auth, code):
    error = await connect_refusal(server, auth)
    assert error["code"] == code
    assert error["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"attendance": "on_the_moon"},
        {"attendance": "in_room", "name": "n" * 41},
        {"attendance": "in_room", "name": 7},
        {"name": "No attendance"},
    ],
)
async def test_invalid_join_is_refused(server, event, payload):
    client = await Client(server, event["code"]).connect()
    await refused(client, "join", payload, "invalid")
    assert (await client.snapshot())["me"] is None
    await client.close()


async def test_closed_event_refuses_writes_but_can_be_read(server, event, author):
    question = await author.ask("Before the close")
    voter = await joined(server, event["code"])
    status, _ = await server.api("POST", f"/api/events/{event['code']}/close")
    assert status == 200
    await voter.wait_for(lambda m: m["type"] == "event" and m["event"]["state"] == "closed")
    await refused(author, "ask", {"text": "After the close"}, "closed")
    await refused(voter, "upvote", {"question_id": question["id"]}, "closed")
    await refused(author, "withdraw", {"question_id": question["id"]}, "closed")
    newcomer = await Client(server, event["code"]).connect()
    await refused(newcomer, "join", {"attendance": "remote"}, "closed")
    snapshot = await newcomer.snapshot()
    assert snapshot["event"]["state"] == "closed"
    assert [q["text"] for q in snapshot["questions"]] == ["Before the close"]
    await voter.close()
    await newcomer.close()


async def test_asking_too_fast_is_rate_limited(author, settings):
    for n in range(settings.ask_limit):
        await author.ask(f"Question number {n}", allow_duplicate=True)
    await refused(author, "ask", {"text": "One too many"}, "rate_limited")
    snapshot = await author.snapshot()
    assert len(snapshot["questions"]) == settings.ask_limit


async def test_lowered_rate_limit_applies(tmp_path):
    settings = Settings(db=tmp_path / "l.db", organiser_token=ORGANISER_TOKEN, ask_limit=1)
    async with running_server(settings) as srv:
        ev = (await srv.create_event())["event"]
        client = await joined(srv, ev["code"])
        await client.ask("Only one")
        await refused(client, "ask", {"text": "Second"}, "rate_limited")
        await client.close()


async def test_oversized_socket_message_drops_only_that_connection(server, event, author):
    big = await joined(server, event["code"])
    disconnected = []
    big.sio.on("disconnect", lambda *a: disconnected.append(True))
    await big.sio.emit("ask", {"text": "x" * 200_000})
    for _ in range(50):
        if disconnected:
            break
        await asyncio.sleep(0.1)
    assert disconnected
    question = await author.ask("Still working")
    assert question["text"] == "Still working"
    assert [q["text"] for q in (await author.snapshot())["questions"]] == ["Still working"]


async def test_retried_op_id_is_applied_once(author):
    first = await author.ok("ask", {"text": "Retry me", "op_id": "op-1"})
    second = await author.ok("ask", {"text": "Retry me", "op_id": "op-1"})
    assert first == second
    assert len((await author.snapshot())["questions"]) == 1
