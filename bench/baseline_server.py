"""The yardstick: a minimal aiohttp WebSocket broadcast server speaking just enough Socket.IO.

Same wire format and the same commands as `live serve` (connect, join, snapshot, ask, upvote,
unvote), state in memory, no database, each broadcast encoded once and sent with a plain
`await ws.send_str(text)` loop: the cost of raw aiohttp fan-out that the real server is compared to.
"""

import argparse
import asyncio
import gc
import json
import time

from aiohttp import web

OPEN = '0{"sid":"%s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
FLUSH_INTERVAL = 0.1


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class Room:
    def __init__(self) -> None:
        self.sockets: set[web.WebSocketResponse] = set()
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


async def handle(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    sid = f"{id(ws):x}"
    await ws.send_str(OPEN % sid)
    me: dict | None = None
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
            i = 2
            while text[i] != "[":
                i += 1
            ack, (event, payload, *_) = text[2:i], json.loads(text[i:])
            if event == "join":
                ROOM.next_participant += 1
                me = {"id": ROOM.next_participant, "name": payload.get("name"),
                      "attendance": payload.get("attendance")}
                reply = dumps({"ok": True, "data": {"me": me, "token": sid}})
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
                who = me["id"] if me else 0
                voters = ROOM.voters[qid]
                changed = (who not in voters) if event == "upvote" else (who in voters)
                if changed:
                    (voters.add if event == "upvote" else voters.discard)(who)
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
            if ack:
                await ws.send_str("43" + ack + "[" + reply + "]")
    finally:
        ROOM.sockets.discard(ws)
    return ws


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    app = web.Application()
    app.router.add_get("/socket.io/", handle)

    async def freeze(app: web.Application) -> None:
        gc.collect()
        gc.freeze()

    app.on_startup.append(freeze)
    print(f"baseline serving on {args.port}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, shutdown_timeout=1)


if __name__ == "__main__":
    main()
