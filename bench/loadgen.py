"""A load-generator worker: holds a share of the clients and obeys JSON-line commands on stdin.

Run by bench.runner (several of these, pinned to the generator's core); it exits on end of input
or at its deadline, whichever comes first, so no run can leave it behind.
"""

import argparse
import asyncio
import json
import os
import sys
import time

from bench.pollclient import open_polling_client
from bench.wsclient import Peer, open_client

try:
    import uvloop
except ImportError:  # asyncio's own loop works too, at about half the frames per second
    uvloop = None

ERRORS_KEPT = 5
WORDS = ("budget", "transport", "housing", "schools", "parks", "water", "energy", "libraries",
         "cycling", "markets", "health", "trees", "noise", "museums", "bridges", "youth", "taxes",
         "elders", "bakeries", "festivals", "harbours", "sports", "rivers", "farms", "buses")


def question_text(k: int, long: bool = False) -> str:
    """Distinct, ordinary questions (the server refuses near-duplicates and holds odd text)."""
    a, b, c = WORDS[k % 25], WORDS[(k // 25) % 25], WORDS[(k * 7 + 3) % 25]
    text = f"What happens to {a} and {b} after {c} next year? #b{k}#"
    if long:
        text += f" Many of us in the {c} working group would like a clear answer on {a} soon."
    return text


class Worker:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.clients: list[Peer] = []
        self.errors: list[str] = []

    def _error(self, exc: object) -> None:
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(repr(exc)[:300])

    async def _open(self, code: str, deflate: bool, polling: bool) -> Peer:
        if not polling:
            return await open_client(self.host, self.port, code, deflate=deflate)
        return await open_polling_client(self.host, self.port, code)

    async def _one(self, code: str, deflate: bool, join: bool, snapshot: bool,
                   polling: bool) -> float | None:
        start = time.monotonic()
        try:
            client = await self._open(code, deflate, polling)
            self.clients.append(client)
            if join:
                _, reply = await client.call("join", {"attendance": "remote", "name": None})
                if not reply.get("ok"):
                    raise RuntimeError(f"join refused: {reply}")
            if snapshot:
                _, reply = await client.call("snapshot", {})
                if not reply.get("ok"):
                    raise RuntimeError(f"snapshot refused: {str(reply)[:200]}")
            return time.monotonic() - start
        except Exception as exc:  # noqa: BLE001 - counted and reported, never fatal
            self._error(exc)
            return None

    async def connect(self, code: str, n: int, concurrency: int = 25, deflate: bool = True,
                      join: bool = True, snapshot: bool = False, rate: float | None = None,
                      polling: bool = False) -> dict:
        """Open n clients (on long-polling only, if `polling`): with a bounded number in flight,
        or (rate) arriving at a fixed rate."""
        times: list[float | None] = []
        if rate:
            start = time.monotonic()

            async def arrive(i: int) -> None:
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                times.append(await self._one(code, deflate, join, snapshot, polling))

            await asyncio.gather(*(arrive(i) for i in range(n)))
        else:
            gate = asyncio.Semaphore(concurrency)

            async def bounded() -> None:
                async with gate:
                    times.append(await self._one(code, deflate, join, snapshot, polling))

            await asyncio.gather(*(bounded() for _ in range(n)))
        ok = [t for t in times if t is not None]
        return {"connected": len(ok), "failed": len(times) - len(ok), "times": ok,
                "errors": self.errors[:]}

    def reset(self, record_marks: bool = True, full: int = 0) -> dict:
        for i, c in enumerate(self.clients):
            c.marks = []
            c.record_marks = record_marks
            c.full = {} if i < full else None
            c.polls = {}
            c.gaps = c.stale = 0
        return {"clients": len(self.clients)}

    async def ask(self, count: int, interval: float, askers: int = 1, long: bool = False,
                  first: int = 0) -> dict:
        """The first `askers` clients take turns to ask `count` distinct questions (numbered from
        `first`), one every `interval` s (turns keep each under the per-participant flood limit);
        waits for the acks."""
        sent: list[tuple[int, float]] = []
        waits = []
        start = time.monotonic()
        for k in range(first, first + count):
            await asyncio.sleep(max(0.0, start + (k - first) * interval - time.monotonic()))
            fut = asyncio.get_running_loop().create_future()
            asker = self.clients[k % min(askers, len(self.clients))]
            t0 = asker.emit("ask", {"text": question_text(k, long), "allow_duplicate": True}, fut)
            sent.append((k, t0))
            waits.append(fut)
        replies = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 120)
        ids, acks, failed = [], [], 0
        for r in replies:
            if isinstance(r, BaseException):
                failed += 1
                continue
            latency, raw = r
            body = json.loads(raw)[0]
            if body.get("ok"):
                ids.append(body["data"]["question"]["id"])
                acks.append(latency)
            else:
                failed += 1
                self._error(body)
        return {"sent": sent, "ids": ids, "acks": acks, "failed": failed, "errors": self.errors[:]}

    def progress(self) -> dict:
        return {"marks": sum(len(c.marks) for c in self.clients),
                "open": sum(not c.closed for c in self.clients)}

    def marks(self) -> dict:
        by_k: dict[int, list[float]] = {}
        for c in self.clients:
            for k, t in c.marks:
                by_k.setdefault(k, []).append(t)
        return {"marks": by_k, "gaps": sum(c.gaps for c in self.clients),
                "stale": sum(c.stale for c in self.clients)}

    async def votes(self, voters: int, rate: float, duration: float, questions: list[int],
                    skip: int = 0, op_ids: bool = False) -> dict:
        """`voters` clients (after the `skip` askers, who may not vote on their own questions)
        toggle votes (upvote, then unvote) at `rate` per second; with `op_ids`, each carries its
        own op_id as the participant page sends them (every ack is then stored)."""
        crowd = self.clients[skip:skip + voters]
        voted = [set() for _ in crowd]
        cursor = [i % len(questions) for i in range(len(crowd))]
        latencies: list[float] = []
        refused: list[int] = [0]
        outstanding = [0]
        done = asyncio.Event()
        finished = [False]

        last_ack = [0.0]

        def acked(latency: float, raw: bytes) -> None:
            outstanding[0] -= 1
            last_ack[0] = time.monotonic()
            if b'"ok":true' in raw[:12]:
                latencies.append(latency)
            else:
                refused[0] += 1
                self._error(raw[:200])
            if finished[0] and outstanding[0] == 0:
                done.set()

        sent = 0
        start = time.monotonic()
        who = 0
        while (elapsed := time.monotonic() - start) < duration:
            due = int(rate * elapsed) - sent
            for _ in range(due):
                i = who % len(crowd)
                who += 1
                qid = questions[cursor[i]]
                cursor[i] = (cursor[i] + 1) % len(questions)
                up = qid not in voted[i]
                (voted[i].add if up else voted[i].discard)(qid)
                outstanding[0] += 1
                payload = {"question_id": qid, "op_id": f"vote-{sent}"} if op_ids else {"question_id": qid}
                crowd[i].emit("upvote" if up else "unvote", payload, acked)
                sent += 1
            await asyncio.sleep(0.005)
        finished[0] = True
        if outstanding[0]:
            try:
                await asyncio.wait_for(done.wait(), 30)
            except asyncio.TimeoutError:
                pass
        return {"sent": sent, "latencies": latencies, "refused": refused[0],
                "lost": outstanding[0], "last_ack": last_ack[0], "errors": self.errors[:]}

    async def answer(self, poll_id: int, options: int, seconds: float, first: int = 0) -> dict:
        """Every client answers the poll once, spread evenly over `seconds`; client k (counted
        from `first` across all workers) picks option k % options. Counts what was acked."""
        chosen = [0] * options
        latencies: list[float] = []
        refused = 0
        last_sent = 0.0
        start = time.monotonic()

        async def one(i: int, client: Peer) -> None:
            nonlocal refused, last_sent
            await asyncio.sleep(max(0.0, start + seconds * i / len(self.clients) - time.monotonic()))
            option = (first + i) % options
            last_sent = max(last_sent, time.monotonic())
            try:
                latency, reply = await client.call("answer", {"poll_id": poll_id, "value": option})
            except Exception as exc:  # noqa: BLE001 - counted and reported
                refused += 1
                self._error(exc)
                return
            if reply.get("ok"):
                chosen[option] += 1
                latencies.append(latency)
            else:
                refused += 1
                self._error(reply)

        await asyncio.gather(*(one(i, c) for i, c in enumerate(self.clients)))
        return {"chosen": chosen, "latencies": latencies, "refused": refused,
                "last_sent": last_sent, "errors": self.errors[:]}

    def reached(self, seq: int) -> dict:
        at = [c.last_seq_at for c in self.clients if c.last_seq >= seq]
        return {"n": len(self.clients), "reached": len(at), "times": at,
                "gaps": sum(c.gaps for c in self.clients),
                "stale": sum(c.stale for c in self.clients),
                "full": [c.full for c in self.clients if c.full is not None],
                "polls": [c.polls for c in self.clients if c.full is not None],
                "seqs": sorted({c.last_seq for c in self.clients})[:5]}

    async def snapshot(self) -> dict:
        _, reply = await self.clients[0].call("snapshot", {})
        return {"snapshot": reply.get("data"), "reply_ok": reply.get("ok")}

    def close(self, keep: int = 0) -> dict:
        """Close every client but the first `keep`, all at once."""
        leaving = self.clients[keep:]
        for c in leaving:
            c.close()
        return {"closed": len(leaving)}

    async def probe(self, seconds: float, interval: float) -> dict:
        """The first client asks for a snapshot every `interval` s for `seconds`, one at a time;
        how long each answer took."""
        latencies = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            latency, reply = await self.clients[0].call("snapshot", {})
            if not reply.get("ok"):
                raise RuntimeError(f"snapshot refused: {str(reply)[:200]}")
            latencies.append(latency)
            await asyncio.sleep(interval)
        return {"latencies": latencies}


async def serve(host: str, port: int, deadline: float) -> None:
    worker = Worker(host, port)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout.buffer
    end = time.monotonic() + deadline
    tasks: set[asyncio.Task] = set()

    async def run(request: dict) -> None:
        rid, cmd = request.pop("id"), request.pop("cmd")
        try:
            result = getattr(worker, cmd)(**request)
            if asyncio.iscoroutine(result):
                result = await result
            reply = {"id": rid, "ok": True, **result}
        except Exception as exc:  # noqa: BLE001 - reported to the runner
            reply = {"id": rid, "ok": False, "error": repr(exc)}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()

    while True:
        try:
            line = await asyncio.wait_for(reader.readline(), max(0.1, end - time.monotonic()))
        except asyncio.TimeoutError:
            break
        if not line:
            break
        task = asyncio.create_task(run(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    worker.close()


def generator_loop() -> str:
    """The event loop the workers run on: uvloop (from the test extra) keeps the generator from
    being what a 10,000-client run measures."""
    return "asyncio" if uvloop is None else f"uvloop {uvloop.__version__}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--deadline", type=float, default=600.0, help="exit after this many seconds")
    args = p.parse_args()
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass
    if uvloop is None:
        asyncio.run(serve(args.host, args.port, args.deadline))
    else:
        uvloop.run(serve(args.host, args.port, args.deadline))
    os._exit(0)


if __name__ == "__main__":
    main()
