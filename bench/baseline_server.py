"""The yardstick: a minimal aiohttp WebSocket broadcast server speaking just enough Socket.IO.

Same wire format and the same commands as `live serve` (connect, join, snapshot, ask, upvote,
unvote), state in memory, no database, each broadcast encoded once and sent with a plain
`await ws.send_str(text)` loop: the cost of raw aiohttp fan-out that the real server is compared to.
Long-polling clients are served too, as minimally: a list per session that its next GET takes.
"""

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import time

from aiohttp import web

OPEN = '0{"sid":"%s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
FLUSH_INTERVAL = 0.1
PING_INTERVAL = 25.0  # a poll with nothing to say is answered with a ping after this long


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class Room:
    def __init__(self) -> None:
        self.sockets: set[web.WebSocketResponse] = set()
        self.polling: set[PollingSession] = set()
        self.seq = 0
        self.questions: dict[int, dict] = {}
        self.voters: dict[int, set[int]] = {}
        self.pending: dict[int, int] = {}
        self.pending_prev: int | None = None
        self.flushing = False
        self.next_participant = 0
        self.snapshot_cache: tuple[int, str] | None = None

    async def broadcast(self, message: dict) -> None:
        text = '42["update",' + dumps(message) + "]"
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.send_str(text)
        for session in self.polling:
            session.send(text)

    async def flush_later(self) -> None:
        await asyncio.sleep(FLUSH_INTERVAL)
        counts, prev = self.pending, self.pending_prev
        self.pending, self.pending_prev, self.flushing = {}, None, False
        await self.broadcast({"seq": self.seq, "prev": prev, "type": "votes",
                              "counts": [[q, v] for q, v in counts.items()]})

    def snapshot(self) -> str:
        if self.snapshot_cache is None or self.snapshot_cache[0] != self.seq:
            data = {"seq": self.seq, "event": {"title": "baseline"},
                    "questions": sorted(self.questions.values(), key=lambda q: -q["votes"])}
            self.snapshot_cache = (self.seq, dumps(data))
        return self.snapshot_cache[1]


ROOM = Room()


class Participant:
    """Who a connection joined as: the one piece of per-connection state the commands keep."""

    __slots__ = ("me",)

    def __init__(self) -> None:
        self.me: dict | None = None


class PollingSession(Participant):
    """A long-polling connection: broadcasts and acks wait in a list for its next GET."""

    __slots__ = ("sid", "queue", "wake")

    def __init__(self, sid: str) -> None:
        super().__init__()
        self.sid = sid
        self.queue: list[str] = []
        self.wake = asyncio.Event()

    def send(self, text: str) -> None:
        self.queue.append(text)
        self.wake.set()


SESSIONS: dict[str, PollingSession] = {}
SESSION_IDS = itertools.count()


async def command(who: Participant, text: str) -> str | None:
    """Run one EVENT packet ("42[id][...]"); the ACK packet to send back, if it asked for one."""
    i = 2
    while text[i] != "[":
        i += 1
    ack, (event, payload, *_) = text[2:i], json.loads(text[i:])
    me = who.me
    if event == "join":
        ROOM.next_participant += 1
        me = who.me = {"id": ROOM.next_participant, "name": payload.get("name"),
                       "attendance": payload.get("attendance")}
        reply = dumps({"ok": True, "data": {"me": me, "token": f"{id(who):x}"}})
    elif event == "snapshot":
        body = ROOM.snapshot()
        reply = '{"ok":true,"data":' + body[:-1] + ',"me":' + dumps(me) + "}}"
    elif event == "ask":
        ROOM.seq += 1
        q = {"id": len(ROOM.questions) + 1, "text": payload["text"], "votes": 0,
             "author_name": None, "attendance": "remote", "status": "published",
             "created_at": time.time()}
        ROOM.questions[q["id"]] = q
        ROOM.voters[q["id"]] = set()
        await ROOM.broadcast({"seq": ROOM.seq, "prev": ROOM.seq - 1, "type": "question",
                              "question": q})
        reply = dumps({"ok": True, "data": {"question": q}})
    elif event in ("upvote", "unvote"):
        qid = payload["question_id"]
        who_id = me["id"] if me else 0
        voters = ROOM.voters[qid]
        changed = (who_id not in voters) if event == "upvote" else (who_id in voters)
        if changed:
            (voters.add if event == "upvote" else voters.discard)(who_id)
            ROOM.seq += 1
            if ROOM.pending_prev is None:
                ROOM.pending_prev = ROOM.seq - 1
            ROOM.questions[qid]["votes"] = len(voters)
            ROOM.pending[qid] = len(voters)
            if not ROOM.flushing:
                ROOM.flushing = True
                asyncio.get_running_loop().create_task(ROOM.flush_later())
        reply = dumps({"ok": True, "data": {"question_id": qid,
                                            "voted": event == "upvote",
                                            "votes": len(voters)}})
    else:
        reply = dumps({"ok": False, "error": {"code": "invalid", "message": event}})
    return "43" + ack + "[" + reply + "]" if ack else None


async def handle(request: web.Request) -> web.StreamResponse:
    if request.query.get("transport") == "polling":
        return await poll(request)
    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    sid = f"{id(ws):x}"
    await ws.send_str(OPEN % sid)
    who = Participant()
    try:
        async for msg in ws:
            text = msg.data
            if not isinstance(text, str) or not text.startswith("4"):
                continue
            if text.startswith("40"):
                ROOM.sockets.add(ws)
                await ws.send_str('40{"sid":"%s"}' % sid)
                continue
            if not text.startswith("42"):
                continue
            reply = await command(who, text)
            if reply is not None:
                await ws.send_str(reply)
    finally:
        ROOM.sockets.discard(ws)
    return ws


async def poll(request: web.Request) -> web.Response:
    """A long-polling GET: a new session's OPEN packet, or whatever is queued (waiting for it)."""
    sid = request.query.get("sid")
    if sid is None:
        session = PollingSession(f"p{next(SESSION_IDS):x}")
        SESSIONS[session.sid] = session
        return web.Response(text=OPEN % session.sid)
    session = SESSIONS.get(sid)
    if session is None:
        raise web.HTTPBadRequest(text="unknown session")
    if not session.queue:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(session.wake.wait(), PING_INTERVAL)
    packets, session.queue = session.queue or ["2"], []
    session.wake.clear()
    return web.Response(text="\x1e".join(packets))


async def post(request: web.Request) -> web.Response:
    """A long-polling POST: the client's packets, answered through its next GET."""
    session = SESSIONS.get(request.query.get("sid", ""))
    if session is None:
        raise web.HTTPBadRequest(text="unknown session")
    for text in (await request.text()).split("\x1e"):
        if text.startswith("40"):
            ROOM.polling.add(session)
            session.send('40{"sid":"%s"}' % session.sid)
        elif text.startswith("42"):
            reply = await command(session, text)
            if reply is not None:
                session.send(reply)
        elif text == "1":
            ROOM.polling.discard(session)
            SESSIONS.pop(session.sid, None)
    return web.Response(text="ok")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    app = web.Application()
    app.router.add_get("/socket.io/", handle)
    app.router.add_post("/socket.io/", post)

    async def freeze(app: web.Application) -> None:
        gc.collect()
        gc.freeze()

    app.on_startup.append(freeze)
    print(f"baseline serving on {args.port}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, shutdown_timeout=1)


if __name__ == "__main__":
    main()
