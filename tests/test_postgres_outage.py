"""PostgreSQL going away and coming back: writes meanwhile are refused as `unavailable`, never
acknowledged falsely, and the same server recovers without a restart."""

import os

import pytest

from live.settings import Settings
from support import ORGANISER_TOKEN, Cluster, joined, running_server


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


async def test_writes_during_an_outage_are_unavailable_and_the_server_recovers(cluster, tmp_path):
    settings = Settings(db=tmp_path / "unused.db", database_url=cluster.url, port=0,
                        organiser_token=ORGANISER_TOKEN)
    async with running_server(settings) as server:
        code = (await server.create_event("Through an outage"))["event"]["code"]
        asker = await joined(server, code, "remote")
        voter = await joined(server, code, "in_room")
        question = await asker.ask("Will the consultation be extended?")

        cluster.stop()
        during = await voter.call("upvote", {"question_id": question["id"], "op_id": "vote-1"})
        assert during["ok"] is False and during["error"]["code"] == "unavailable", during
        asked = await asker.call("ask", {"text": "Is anyone there?", "op_id": "ask-1"})
        assert asked["ok"] is False and asked["error"]["code"] == "unavailable", asked
        status, body = await server.api("GET", "/healthz", token=None)
        assert status == 503 and body["error"]["code"] == "unavailable"
        status, body = await server.api("POST", "/api/events", {"title": "During"})
        assert status == 503 and body["error"]["code"] == "unavailable"

        cluster.start()
        status, body = await server.api("GET", "/healthz", token=None)
        assert status == 200 and body["data"]["database"] == "ok", body
        again = await voter.call("upvote", {"question_id": question["id"], "op_id": "vote-1"})
        assert again["ok"] is True, again
        assert (await voter.call("upvote", {"question_id": question["id"], "op_id": "vote-1"})) == again
        snapshot = await voter.snapshot()
        assert [q["votes"] for q in snapshot["questions"]] == [1]
        assert (await asker.call("ask", {"text": "Is anyone there?", "op_id": "ask-1"}))["ok"] is True
        for client in (asker, voter):
            await client.close()
