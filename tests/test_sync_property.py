"""Applying broadcasts to a stale state gives the fresh snapshot, in the page's own sync.js too."""

import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from live.settings import Settings
from support import ORGANISER_TOKEN, Client, Replica, joined, running_server

POLLS = [
    {"kind": "single", "question": "Live", "options": ["a", "b", "c"]},
    {"kind": "word_cloud", "question": "After close", "visibility": "after_close"},
    {"kind": "ranking", "question": "Staff", "options": ["x", "y", "z"], "visibility": "staff"},
]
ANSWERS = [[0, 1, 2], [["care"], ["care", "time"], ["staff"]], [[0, 1, 2], [2, 1, 0], [1, 0, 2]]]
APPLY_SYNC = Path(__file__).parent / "js" / "apply_sync.js"
NODE = shutil.which("node")

operations = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), st.integers(0, 2)),
        st.tuples(st.just("upvote"), st.integers(0, 2), st.integers(0, 9)),
        st.tuples(st.just("unvote"), st.integers(0, 2), st.integers(0, 9)),
        st.tuples(st.just("withdraw"), st.integers(0, 2), st.integers(0, 9)),
        st.tuples(st.just("retitle"), st.text(min_size=1, max_size=20).filter(str.strip)),
        st.tuples(st.just("poll"), st.integers(0, 2), st.sampled_from(["open", "close"])),
        st.tuples(st.just("answer"), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=25,
)


def chained(since: int, updates: list[dict], until: int) -> bool:
    """Whether the updates, taken in seq order, reach `until` from `since` without a gap."""
    at = since
    for msg in sorted(updates, key=lambda m: m["seq"]):
        if msg["seq"] > at:
            if msg["prev"] > at:
                return False
            at = msg["seq"]
    return at >= until


async def play(tmp: Path, ops: list[tuple], redis_url: str = "") -> tuple[dict, list[dict], dict]:
    """Run the operations against a real server; return (stale snapshot, broadcasts, fresh).

    With `redis_url`, two workers share the database: people and organiser calls alternate
    between them, the watcher sits on the first and hears the second through Redis; votes are
    flushed slowly so that one worker's windows span the other's commits.
    """
    settings = Settings(db=tmp / "p.db", organiser_token=ORGANISER_TOKEN, ask_limit=100,
                        vote_flush_interval=0.3 if redis_url else 0.01, redis_url=redis_url)
    async with contextlib.AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(running_server(settings))
                   for _ in range(2 if redis_url else 1)]
        turns = itertools.cycle(servers)
        server = servers[0]
        event = (await server.create_event("Property"))["event"]
        people = [await joined(servers[i % len(servers)], event["code"]) for i in range(3)]
        seed = await people[0].ask("Already there")
        polls = [
            (await server.api("POST", f"/api/events/{event['code']}/polls", spec))[1]["data"]["id"]
            for spec in POLLS
        ]
        watcher = await Client(server, event["code"]).connect()
        stale = await watcher.snapshot()
        asked: list[int] = [seed["id"]]
        titles = 0
        for op in ops:
            if op[0] == "ask":
                reply = await people[op[1]].call("ask", {"text": f"Question {len(asked)}"})
                if reply["ok"]:
                    asked.append(reply["data"]["question"]["id"])
            elif op[0] == "poll":
                await next(turns).api("POST", f"/api/events/{event['code']}/polls/{polls[op[1]]}/{op[2]}")
            elif op[0] == "answer":
                value = ANSWERS[op[2]][op[3]]
                await people[op[1]].call("answer", {"poll_id": polls[op[2]], "value": value})
            elif op[0] == "retitle":
                titles += 1
                await next(turns).api("PATCH", f"/api/events/{event['code']}", {"title": op[1]})
            else:
                question_id = asked[op[2] % len(asked)]
                await people[op[1]].call(op[0], {"question_id": question_id})
        fresh = await watcher.snapshot()
        deadline = time.monotonic() + 5
        while not chained(stale["seq"], watcher.updates, fresh["seq"]):
            assert time.monotonic() < deadline, "broadcasts missing"
            await asyncio.sleep(0.01)
        updates = sorted(watcher.updates, key=lambda m: m["seq"])
        for client in [*people, watcher]:
            await client.close()
    return stale, updates, fresh


def run_sync_js(snapshot: dict, messages: list[dict]) -> dict:
    done = subprocess.run(
        [NODE, str(APPLY_SYNC)],
        input=json.dumps({"snapshot": snapshot, "messages": messages}),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def replayed(stale: dict, updates: list[dict]) -> Replica:
    replica = Replica()
    replica.load(stale)
    for msg in updates:
        assert replica.apply(msg) in {"applied", "stale"}
    return replica


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
# Votes on workers 0, 0, 1, 0: worker 0's second window would span worker 1's seq.
@example(ops=[("ask", 1), ("upvote", 2, 0), ("upvote", 0, 1), ("upvote", 1, 0), ("upvote", 2, 1)])
def test_two_workers_broadcasts_in_seq_order_give_the_fresh_snapshot(tmp_path_factory, redis_url, ops):
    """Each worker's windows cover only its own seqs, so together they chain without a gap."""
    stale, updates, fresh = asyncio.run(play(tmp_path_factory.mktemp("sync"), ops, redis_url))
    replica = replayed(stale, updates)
    assert replica.seq == fresh["seq"]
    assert replica.event == fresh["event"]
    assert replica.questions == {q["id"]: q for q in fresh["questions"]}
    assert replica.polls == {p["id"]: p for p in fresh["polls"]}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_broadcasts_applied_to_a_stale_state_give_the_fresh_snapshot(tmp_path_factory, ops):
    stale, updates, fresh = asyncio.run(play(tmp_path_factory.mktemp("sync"), ops))
    replica = replayed(stale, updates)
    assert replica.seq == fresh["seq"]
    assert replica.event == fresh["event"]
    assert replica.questions == {q["id"]: q for q in fresh["questions"]}
    assert replica.polls == {p["id"]: p for p in fresh["polls"]}

    again = replayed(stale, updates + updates)
    assert again.view() == replica.view()

    if NODE is None:
        pytest.skip("node is not installed: the page's sync.js was not exercised")
    page = run_sync_js(stale, updates + updates[:3])
    assert page["seq"] == fresh["seq"]
    assert page["event"] == fresh["event"]
    assert page["questions"] == fresh["questions"]
    assert page["polls"] == fresh["polls"]
    if len(updates) >= 2:
        dropped = run_sync_js(stale, updates[1:])
        assert dropped["results"][0] == "gap"
