"""A snapshot's public part is built once per seq and sort, encoded once, and dies with its seq."""

import json

import pytest
import socketio

from live.domain.model import Attendance, Sort
from live.services import cache
from live.services.events import EventService
from live.services.polls import PollService
from live.services.qa import Identity, QAService
from live.settings import Settings
from live.store import Database
from live.transport.fragments import Fragment, FragmentPacket, Shared


@pytest.fixture
async def services(tmp_path):
    db = Database(tmp_path / "cache.db")
    await db.open()
    events = EventService(db, lambda changes: None)
    qa = QAService(db, Settings(db=tmp_path / "cache.db"), lambda changes: None)
    created = await events.create(title="Cached")
    yield qa, PollService(db, lambda changes: None), created.event["id"]
    await db.close()


async def person(qa: QAService, event_id: int) -> Identity:
    participant, _ = await qa.join(Identity(event_id), Attendance.REMOTE, None)
    return Identity(event_id, participant["id"])


async def test_snapshots_at_one_seq_read_the_questions_once(services):
    """Built once per (event, seq, sort): the same list object is handed to every reader."""
    qa, polls, event_id = services
    author, voter = await person(qa, event_id), await person(qa, event_id)
    asked = await qa.ask(author, "Will the slides be shared after the talk?", False, None)
    first = await qa.snapshot(author)
    second = await qa.snapshot(voter)
    assert second["questions"] is first["questions"]
    assert first["questions"] == second["questions"]
    assert first["me"]["id"] != second["me"]["id"]
    recent = await qa.snapshot(voter, Sort.RECENT)
    assert recent["sort"] == "recent" and recent["questions"] is not first["questions"]

    await qa.vote(voter, asked["question"]["id"], True, None)
    after = await qa.snapshot(voter)
    assert after["questions"] is not first["questions"]
    assert after["seq"] > first["seq"]
    assert after["questions"][0]["votes"] == 1
    assert first["questions"][0]["votes"] == 0
    assert after["me"]["votes"] == [asked["question"]["id"]]
    assert (await polls.for_audience(voter))["polls"] == []


def test_the_cache_keeps_the_latest_seq_of_the_most_recently_used_events():
    kept = cache.BySeq(size=2)
    kept.put(1, 5, "one")
    kept.put(2, 7, "two")
    assert kept.get(1, 5) == "one" and kept.get(1, 6) is None
    kept.put(3, 1, "three")
    assert kept.get(2, 7) is None
    assert kept.get(1, 5) == "one" and kept.get(3, 1) == "three"


def test_a_shared_fragment_is_encoded_once_and_spliced_into_each_reply():
    questions = [{"id": 1, "text": 'Quote " and \x00 and "\\u0000fragment-x-0"'}]
    shared = Shared()
    fragment = shared(("questions", 1, "top"), questions)
    assert shared(("questions", 1, "top"), questions) is fragment
    assert shared(("questions", 1, "top"), list(questions)) is not fragment
    reply = {"ok": True, "data": {"questions": fragment, "me": {"id": 2}, "polls": Fragment([])}}
    encoded = FragmentPacket(socketio.packet.ACK, data=[reply], id=7).encode()
    assert json.loads(encoded[2:]) == [
        {"ok": True, "data": {"questions": questions, "me": {"id": 2}, "polls": []}}
    ]
