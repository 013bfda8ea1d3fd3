"""Refusals read as plain sentences: right for the command, grammatical, no validator internals."""

import pytest

from moderators import moderator
from support import Client, joined
from test_polls import create_poll, set_poll


async def refusal(client: Client, name: str, payload: dict, code: str) -> str:
    reply = await client.call(name, payload)
    assert reply["ok"] is False and reply["error"]["code"] == code, reply
    return reply["error"]["message"]


async def test_voting_on_your_own_question_is_refused_in_words_that_fit_both_commands(server, event):
    author = await joined(server, event["code"])
    question = await author.ask("Who keeps the minutes?")
    for command in ("upvote", "unvote"):
        message = await refusal(author, command, {"question_id": question["id"]}, "forbidden")
        assert "own question" in message and "upvote" not in message, message
    await author.close()


async def test_status_names_take_the_right_article(server):
    created = await server.create_event()
    code = created["event"]["code"]
    author = await joined(server, code)
    mod = await moderator(server, created)
    kept = await author.ask("Who keeps the minutes?")
    asked = await author.ask("When does the library open on Sundays?")
    archived = await mod.act("archive", await mod.question(asked["id"]))
    ref = {"question_id": archived["id"], "version": archived["version"]}
    messages = [
        await refusal(mod, "answer", ref, "invalid"),
        await refusal(mod, "edit", {**ref, "text": "Reworded"}, "invalid"),
        await refusal(mod, "dispose", {**ref, "disposition": "referred", "referred_to": "The board"}, "invalid"),
    ]
    target = await mod.question(kept["id"])
    messages.append(await refusal(mod, "merge", {"question_id": kept["id"], "version": target["version"], "into": archived["id"]}, "invalid"))
    published = await mod.question(kept["id"])
    messages.append(await refusal(mod, "dispose", {"question_id": kept["id"], "version": published["version"], "disposition": "answered_live", "response": "Done."}, "invalid"))
    poll = await create_poll(server, code, {"kind": "single", "question": "Useful?", "options": ["Yes", "No"]})
    await set_poll(server, code, poll["id"], "open")
    messages.append(await refusal(mod, "poll_open", {"poll_id": poll["id"]}, "conflict"))
    for message in messages:
        assert message.startswith("An "), messages
    for client in (author, mod):
        await client.close()


@pytest.mark.parametrize("value", [2**40, [1, "a"], {"choice": 1}, 1.5, None, True, [[1]], "x" * 2001])
async def test_a_malformed_poll_answer_names_no_validator_internals(server, event, value):
    voter = await joined(server, event["code"])
    reply = await voter.call("answer", {"poll_id": 1, "value": value})
    assert reply["ok"] is False and reply["error"]["code"] == "invalid", reply
    message = reply["error"]["message"]
    assert message.startswith("value"), message
    assert "constrained" not in message and "[" not in message, message
    for problem in reply["error"]["details"]["problems"]:
        assert "constrained" not in problem["field"], problem
    await voter.close()


async def test_refusals_from_our_own_rules_carry_no_value_error_prefix(server, event):
    author = await joined(server, event["code"])
    reply = await author.call("ask", {"text": "   "})
    assert reply["ok"] is False and reply["error"]["code"] == "invalid", reply
    assert reply["error"]["message"].startswith("text: a question has 1 to 500 characters"), reply
    assert reply["error"]["details"]["problems"][0]["message"].startswith("a question has"), reply
    await author.close()
