"""Refusals read as plain sentences: right for the command, grammatical, no validator internals."""

import pytest

from support import joined


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
