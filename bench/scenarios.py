"""The scenarios: each starts its own target, runs bounded in count and time, returns metrics."""

import asyncio
import math
import time
from dataclasses import dataclass

import aiohttp

from bench.runner import LIVE_ENV, Generator, Target, cpu_seconds, pct, rss_bytes

MS = 1000.0
ASKERS = 50  # participants taking turns to ask: each stays under the flood limit (5 a minute)
LEAVE_PROBE_SECONDS = 3.0  # how long the one staying client probes after the others left


@dataclass
class Options:
    clients: list[int]
    asks: int = 20
    interval: float = 0.5
    watchers: int = 5000
    voters: int = 500
    vote_rate: float = 2000.0
    vote_seconds: float = 30.0
    vote_op_ids: bool = False
    questions: int = 20
    joins: int = 5000
    join_seconds: float = 10.0
    join_questions: int = 200
    memory_clients: int = 5000
    poll_clients: int = 5000
    poll_seconds: float = 2.0
    poll_options: int = 4
    polling_clients: int = 2000
    polling_ws_clients: int = 3000
    per_worker: int = 2500
    deflate: bool = True
    deadline: float = 240.0


def polling_workers(opts: Options) -> int:
    """Generator workers of their own for the long-polling scenario's long-polling clients."""
    return max(1, math.ceil(opts.polling_clients / opts.per_worker))


def workers_for(n: int, opts: Options, scenario: str = "") -> int:
    """Generator workers for n clients; the vote storm's voters get one of their own, and so do
    the long-polling clients (n counts the websocket ones)."""
    if scenario == "longpoll":
        return max(1, math.ceil(n / opts.per_worker)) + polling_workers(opts)
    watching = max(1, math.ceil((n - opts.voters if scenario == "votes" else n) / opts.per_worker))
    return watching + (1 if scenario == "votes" else 0)


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * MS, 1)


async def _connect(gen: Generator, target: Target, n: int, opts: Options,
                   askers: int = ASKERS, among: int | None = None, **extra) -> dict:
    """The askers (worker 0's first clients) plus the rest of n joined participants, spread
    over every worker or the first `among`."""
    askers = min(n, askers)
    first = await gen.one(0, "connect", code=target.code, n=askers, deflate=opts.deflate, **extra)
    if first["connected"] != askers:
        raise RuntimeError(f"could not connect to {target.name}: {first['errors']}")
    conc = max(5, 100 // gen.workers)
    rest = await gen.all("connect", per_worker=lambda i: {"n": gen.share(n - askers, i, among)},
                         first=among, code=target.code, concurrency=conc, deflate=opts.deflate,
                         **extra)
    return {"connected": askers + sum(r["connected"] for r in rest),
            "failed": sum(r["failed"] for r in rest),
            "errors": [e for r in rest for e in r["errors"]][:3]}


async def fanout(target: Target, gen: Generator, opts: Options, n: int, asks: int | None = None) -> dict:
    """N joined clients; a question every `interval` s; ask-to-receipt at every client."""
    asks = opts.asks if asks is None else asks
    rss0 = rss_bytes(target.pid)
    start = time.monotonic()
    conn = await _connect(gen, target, n, opts)
    connect_s = time.monotonic() - start
    await asyncio.sleep(1.0)
    rss1 = rss_bytes(target.pid)
    metrics = {"clients": conn["connected"], "failed": conn["failed"], "errors": conn["errors"],
               "connect_s": round(connect_s, 2),
               "idle_kb_per_client": round((rss1 - rss0) / 1000 / max(1, conn["connected"]), 1),
               "rss_mib": round(rss1 / 2**20, 1)}
    if not asks:
        return metrics
    await gen.all("reset")
    cpu0 = cpu_seconds(target.pid)
    asking = asyncio.create_task(gen.one(0, "ask", count=asks, interval=opts.interval,
                                         askers=ASKERS))
    expected = conn["connected"] * asks
    deadline = time.monotonic() + asks * opts.interval + 60
    received = 0
    while time.monotonic() < deadline:
        received = sum(p["marks"] for p in await gen.all("progress"))
        if received >= expected and asking.done():
            break
        await asyncio.sleep(0.05)
    cpu1 = cpu_seconds(target.pid)
    asked = await asking
    sent = dict((k, t) for k, t in asked["sent"])
    marks = await gen.all("marks")
    deliveries: list[float] = []
    last: list[float] = []
    for k, t0 in sent.items():
        times = [t for m in marks for t in m["marks"].get(str(k), [])]
        if times:
            lat = [t - t0 for t in times]
            deliveries += lat
            last.append(max(lat) if len(times) >= conn["connected"] else float("inf"))
    finite_last = [v for v in last if v != float("inf")]
    metrics.update({
        "asks": asks, "interval_ms": opts.interval * MS,
        "deliveries": len(deliveries), "expected": expected,
        "incomplete_broadcasts": len(last) - len(finite_last) + (asks - len(last)),
        "delivery_p50_ms": ms(pct(deliveries, 50)), "delivery_p99_ms": ms(pct(deliveries, 99)),
        "last_p50_ms": ms(pct(finite_last, 50)), "last_p99_ms": ms(pct(finite_last, 99)),
        "last_max_ms": ms(max(finite_last) if finite_last else None),
        "ask_ack_p50_ms": ms(pct(asked["acks"], 50)),
        "cpu_us_per_delivery": round((cpu1 - cpu0) * 1e6 / max(1, len(deliveries)), 2),
        "gaps": sum(m["gaps"] for m in marks), "stale": sum(m["stale"] for m in marks),
    })
    return metrics


async def memory(target: Target, gen: Generator, opts: Options, n: int) -> dict:
    """N idle joined clients: the server's memory for them; then all but one leave at once (the
    end of a session, a venue's Wi-Fi dropping) while the one left keeps asking for snapshots."""
    metrics = await fanout(target, gen, opts, n, asks=0)
    closed = await gen.all("close", per_worker=lambda i: {"keep": 1 if i == 0 else 0})
    probe = await gen.one(0, "probe", seconds=LEAVE_PROBE_SECONDS, interval=0.01)
    metrics["left"] = sum(c["closed"] for c in closed)
    metrics["leave_stall_ms"] = ms(max(probe["latencies"]))
    return metrics


async def votes(target: Target, gen: Generator, opts: Options) -> dict:
    """V votes/s from a subset while the rest watch; acks, convergence and the final counts.

    The voters are the last generator worker's clients, and that worker runs first on the
    generator's core, so an ack is read when it arrives, not after the watchers' workers have
    parsed their share of the latest broadcast.
    """
    voting = gen.workers - 1
    askers = min(ASKERS, opts.questions, opts.watchers)
    watchers = await _connect(gen, target, opts.watchers, opts, askers=askers, among=voting)
    voters = await gen.one(voting, "connect", code=target.code, n=opts.voters,
                           concurrency=max(5, 100 // gen.workers), deflate=opts.deflate)
    conn = {"connected": watchers["connected"] + voters["connected"],
            "failed": watchers["failed"] + voters["failed"]}
    gen.prioritise(voting)
    await gen.all("reset", record_marks=False, full=2)
    asked = await gen.one(0, "ask", count=opts.questions, interval=0.0, askers=askers)
    ids = asked["ids"]
    await asyncio.sleep(0.5)
    cpu0 = cpu_seconds(target.pid)
    storm = await gen.one(voting, "votes", timeout=opts.vote_seconds + 120,
                          voters=opts.voters, skip=0, rate=opts.vote_rate,
                          duration=opts.vote_seconds, questions=ids, op_ids=opts.vote_op_ids)
    last_vote = storm["last_ack"]
    truth = target.database()
    snap = (await gen.one(0, "snapshot"))["snapshot"]
    final_seq = truth["seq"] if truth else snap["seq"]
    truth_votes = truth["votes"] if truth else {q["id"]: q["votes"] for q in snap["questions"]}
    deadline = time.monotonic() + 10
    while True:
        reached = await gen.all("reached", seq=final_seq)
        done = sum(r["reached"] for r in reached)
        if done >= conn["connected"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    cpu1 = cpu_seconds(target.pid)
    converge = [t - last_vote for r in reached for t in r["times"]]
    lat = storm["latencies"]
    fulls = [f for r in reached for f in r["full"]]
    snap_votes = {q["id"]: q["votes"] for q in snap["questions"]}
    return {
        "watchers": opts.watchers, "voters": opts.voters, "clients": conn["connected"],
        "failed": conn["failed"], "rate_target": opts.vote_rate, "seconds": opts.vote_seconds,
        "op_ids": opts.vote_op_ids,
        "votes_sent": storm["sent"],
        "votes_per_s": round(storm["sent"] / opts.vote_seconds, 1),
        "acked": len(lat), "refused": storm["refused"],
        "lost": storm["lost"],
        "ack_p50_ms": ms(pct(lat, 50)), "ack_p99_ms": ms(pct(lat, 99)), "ack_max_ms": ms(max(lat, default=None)),
        "final_seq": final_seq, "reached_final": done,
        "converge_p50_ms": ms(pct(converge, 50)), "converge_p99_ms": ms(pct(converge, 99)),
        "converge_max_ms": ms(max(converge)) if done >= conn["connected"] and converge else None,
        "counts_equal_db": bool(truth) and snap_votes == truth_votes and truth["stored"] == truth_votes,
        "watchers_equal_db": bool(fulls) and all(
            {int(k): v for k, v in f.items()} == {k: v for k, v in truth_votes.items()} for f in fulls),
        "gaps": sum(r["gaps"] for r in reached), "stale": sum(r["stale"] for r in reached),
        "cpu_s": round(cpu1 - cpu0, 2),
        "errors": storm["errors"][:3],
    }


async def join(target: Target, gen: Generator, opts: Options) -> dict:
    """N clients arrive over T seconds, join, and receive the snapshot of a 200-question event."""
    first = await gen.one(0, "connect", code=target.code, n=ASKERS, deflate=opts.deflate)
    if first["connected"] != ASKERS:
        raise RuntimeError(f"could not connect: {first['errors']}")
    asked = await gen.one(0, "ask", count=opts.join_questions, interval=0.0, askers=ASKERS,
                          long=True)
    rate = opts.joins / opts.join_seconds
    cpu0 = cpu_seconds(target.pid)
    start = time.monotonic()
    res = await gen.all("connect", timeout=opts.join_seconds + 180,
                        per_worker=lambda i: {"n": gen.share(opts.joins, i),
                                              "rate": rate / gen.workers},
                        code=target.code, deflate=opts.deflate, snapshot=True)
    elapsed = time.monotonic() - start
    cpu1 = cpu_seconds(target.pid)
    times = [t for r in res for t in r["times"]]
    return {
        "joins": opts.joins, "over_s": opts.join_seconds, "questions": len(asked["ids"]),
        "ok": len(times), "failed": sum(r["failed"] for r in res),
        "join_p50_ms": ms(pct(times, 50)), "join_p99_ms": ms(pct(times, 99)),
        "join_max_ms": ms(max(times, default=None)), "elapsed_s": round(elapsed, 2),
        "cpu_ms_per_join": round((cpu1 - cpu0) * MS / max(1, len(times)), 2),
        "errors": [e for r in res for e in r["errors"]][:3],
    }


async def _organiser(target: Target, method: str, path: str, body: dict | None = None) -> object:
    """Call the organiser HTTP API of the live server under test."""
    headers = {"Authorization": f"Bearer {LIVE_ENV['LIVE_ORGANISER_TOKEN']}"}
    url = f"http://127.0.0.1:{target.port}/api/events/{target.code}{path}"
    async with aiohttp.ClientSession() as http:
        async with http.request(method, url, json=body, headers=headers) as response:
            reply = await response.json()
    if not reply.get("ok"):
        raise RuntimeError(f"{method} {path}: {reply}")
    return reply["data"]


async def poll(target: Target, gen: Generator, opts: Options) -> dict:
    """N joined clients answer one single-choice poll within T s; tallies against the database
    and the time from the last answer sent until every client holds the final results."""
    conn = await _connect(gen, target, opts.poll_clients, opts, askers=1)
    sizes = [r["clients"] for r in await gen.all("reset", record_marks=False, full=2)]
    options = [f"Option {k + 1}" for k in range(opts.poll_options)]
    created = await _organiser(target, "POST", "/polls", {
        "kind": "single", "question": "Which should come first?", "options": options})
    await _organiser(target, "POST", f"/polls/{created['id']}/open")
    await asyncio.sleep(0.5)
    cpu0 = cpu_seconds(target.pid)
    answered = await gen.all(
        "answer", timeout=opts.poll_seconds + 120,
        per_worker=lambda i: {"first": sum(sizes[:i])},
        poll_id=created["id"], options=opts.poll_options, seconds=opts.poll_seconds)
    last_answer = max(r["last_sent"] for r in answered)
    expected = [sum(r["chosen"][k] for r in answered) for k in range(opts.poll_options)]
    final_seq = target.database()["seq"]
    deadline = time.monotonic() + 10
    while True:
        reached = await gen.all("reached", seq=final_seq)
        done = sum(r["reached"] for r in reached)
        if done >= conn["connected"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    cpu1 = cpu_seconds(target.pid)
    stored = next(p for p in await _organiser(target, "GET", "/polls") if p["id"] == created["id"])
    seen = [w[str(created["id"])]["all"]["counts"] for r in reached for w in r["polls"]
            if str(created["id"]) in w]
    lat = [x for r in answered for x in r["latencies"]]
    converge = [t - last_answer for r in reached for t in r["times"]]
    return {
        "clients": conn["connected"], "failed": conn["failed"], "seconds": opts.poll_seconds,
        "acked": len(lat), "refused": sum(r["refused"] for r in answered),
        "answers_per_s": round(len(lat) / opts.poll_seconds, 1),
        "ack_p50_ms": ms(pct(lat, 50)), "ack_p99_ms": ms(pct(lat, 99)),
        "ack_max_ms": ms(max(lat, default=None)),
        "final_seq": final_seq, "reached_final": done,
        "final_p50_ms": ms(pct(converge, 50)), "final_p99_ms": ms(pct(converge, 99)),
        "final_max_ms": ms(max(converge)) if done >= conn["connected"] and converge else None,
        "tallies_exact": stored["results"]["all"]["counts"] == expected
        and stored["results"]["responses"]["all"] == len(lat),
        "watchers_exact": bool(seen) and all(counts == expected for counts in seen),
        "gaps": sum(r["gaps"] for r in reached), "stale": sum(r["stale"] for r in reached),
        "cpu_s": round(cpu1 - cpu0, 2),
        "errors": [e for r in answered for e in r["errors"]][:3],
    }


async def _ask_and_collect(gen: Generator, target: Target, opts: Options, first: int,
                           expected: int) -> tuple[dict, list[dict], float]:
    """Ask `opts.asks` questions (numbered from `first`), one every interval, until every
    client holds them all or a minute after the last; the asks, each worker's marks, and the
    server's CPU seconds meanwhile."""
    await gen.all("reset")
    cpu0 = cpu_seconds(target.pid)
    asking = asyncio.create_task(gen.one(0, "ask", count=opts.asks, interval=opts.interval,
                                         askers=ASKERS, first=first))
    deadline = time.monotonic() + opts.asks * opts.interval + 60
    while time.monotonic() < deadline:
        received = sum(p["marks"] for p in await gen.all("progress"))
        if received >= expected and asking.done():
            break
        await asyncio.sleep(0.05)
    cpu = cpu_seconds(target.pid) - cpu0
    return await asking, await gen.all("marks"), cpu


def _arrivals(asked: dict, marks: list[dict], clients: int) -> tuple[list[float], list[float]]:
    """Every delivery's latency, and per question the latency to the last of `clients`
    (infinite where one never got it)."""
    deliveries: list[float] = []
    last: list[float] = []
    for k, t0 in asked["sent"]:
        lat = [t - t0 for m in marks for t in m["marks"].get(str(k), [])]
        deliveries += lat
        last.append(max(lat) if lat and len(lat) >= clients else float("inf"))
    return deliveries, last


async def longpoll(target: Target, gen: Generator, opts: Options) -> dict:
    """Websocket clients and, beside them in the same event, clients on HTTP long-polling only
    (as behind a proxy that blocks WebSockets); a question every `interval` s, twice: first to
    the websocket clients alone, then with the long-polling ones connected. Delivery to the last
    long-polling client, none dropped, and the server's CPU per long-polling delivery: the second
    round's CPU less what its websocket deliveries cost in the first, per long-polling delivery."""
    lp = polling_workers(opts)
    ws = gen.workers - lp
    conn = await _connect(gen, target, opts.polling_ws_clients, opts, among=ws)
    if conn["connected"] != opts.polling_ws_clients:
        raise RuntimeError(f"websocket clients failed to connect: {conn['errors']}")
    ws_expected = conn["connected"] * opts.asks
    _, ws_marks, ws_cpu = await _ask_and_collect(gen, target, opts, 0, ws_expected)
    ws_alone = sum(len(t) for m in ws_marks for t in m["marks"].values())
    rss0 = rss_bytes(target.pid)
    start = time.monotonic()
    polled = await asyncio.gather(*(
        gen.one(ws + i, "connect", code=target.code, n=gen.share(opts.polling_clients, i, lp),
                concurrency=max(5, 100 // lp), polling=True)
        for i in range(lp)))
    connect_s = time.monotonic() - start
    lp_clients = sum(r["connected"] for r in polled)
    await asyncio.sleep(1.0)
    rss1 = rss_bytes(target.pid)
    for i in range(lp):
        gen.prioritise(ws + i)
    asked, marks, cpu = await _ask_and_collect(
        gen, target, opts, opts.asks, ws_expected + lp_clients * opts.asks)
    open_after = [r["open"] for r in await gen.all("progress")]
    lp_deliveries, lp_last = _arrivals(asked, marks[ws:], lp_clients)
    ws_deliveries, ws_last = _arrivals(asked, marks[:ws], conn["connected"])
    finite = [v for v in lp_last if v != float("inf")]
    ws_cost = ws_cpu / max(1, ws_alone)
    return {
        "ws_clients": conn["connected"], "lp_clients": lp_clients,
        "lp_failed": sum(r["failed"] for r in polled),
        "errors": [e for r in polled for e in r["errors"]][:3],
        "lp_connect_s": round(connect_s, 2),
        "lp_idle_kb_per_client": round((rss1 - rss0) / 1000 / max(1, lp_clients), 1),
        "asks": opts.asks, "interval_ms": opts.interval * MS,
        "lp_deliveries": len(lp_deliveries), "lp_expected": lp_clients * opts.asks,
        "lp_dropped": lp_clients * opts.asks - len(lp_deliveries),
        "lp_open_after": sum(open_after[ws:]),
        "lp_incomplete_broadcasts": len(lp_last) - len(finite) + (opts.asks - len(lp_last)),
        "lp_delivery_p50_ms": ms(pct(lp_deliveries, 50)),
        "lp_delivery_p99_ms": ms(pct(lp_deliveries, 99)),
        "lp_last_p50_ms": ms(pct(finite, 50)), "lp_last_p99_ms": ms(pct(finite, 99)),
        "lp_last_max_ms": ms(max(finite) if finite else None),
        "ws_deliveries": len(ws_deliveries),
        "ws_last_p99_ms": ms(pct([v for v in ws_last if v != float("inf")], 99)),
        "ws_cpu_us_per_delivery": round(ws_cost * 1e6, 2),
        "cpu_us_per_delivery": round(cpu * 1e6 / max(1, len(lp_deliveries) + len(ws_deliveries)), 2),
        "lp_cpu_us_per_delivery": round(
            (cpu - ws_cost * len(ws_deliveries)) * 1e6 / max(1, len(lp_deliveries)), 2),
        "gaps": sum(m["gaps"] for m in marks), "stale": sum(m["stale"] for m in marks),
    }
