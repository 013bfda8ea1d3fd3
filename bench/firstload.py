"""`python -m bench firstload`: the participant page's first load on a poor line, in Chromium.

Starts `live serve` with an event holding a dozen questions and an open poll, throttles Debian's
chromium through the DevTools protocol, and times, from the start of navigation, when the
questions are visible, when a tap on Join has taken effect and when the page's script is live,
cold cache and warm, over N runs.
"""

import argparse
import asyncio
import datetime
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import aiohttp
import socketio
from playwright.async_api import async_playwright

from bench.runner import LIVE_ENV, ROOT, LiveTarget, machine

QUESTIONS = 12
TOPICS = ["the library's Sunday hours", "potholes on Mill Lane", "parking permits for carers",
          "street lighting in the park", "fortnightly recycling", "damp in the Tower Road flats",
          "the number 12 bus after seven", "the market's rents", "school crossings",
          "the swimming pool's repairs", "benches on the high street", "the town hall's ramp"]
DEFAULT_OUT = ROOT / "bench" / "results.jsonl"
#: The figures each run reports, in the order the table shows them.
METRICS = ("questions_ms", "joined_ms", "live_ms")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Every one of the event's questions is on the page and shown.
QUESTIONS_SHOWN = f"""() => [...document.querySelectorAll('#questions li')]
    .filter((li) => li.getClientRects().length).length >= {QUESTIONS}"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench firstload", description=__doc__)
    p.add_argument("--runs", type=int, default=5, help="cold and warm loads, each this many times")
    p.add_argument("--down-kbps", type=float, default=400)
    p.add_argument("--up-kbps", type=float, default=400)
    p.add_argument("--rtt-ms", type=float, default=400,
                   help="round-trip time added to each request")
    p.add_argument("--timeout", type=float, default=60, help="seconds allowed for one load")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--label", default="")
    return p.parse_args(argv)


async def prepare(target: LiveTarget) -> None:
    """A dozen questions from a dozen people, and an open poll, through the public interfaces."""
    url = f"http://127.0.0.1:{target.port}"
    for n in range(QUESTIONS):
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(url, auth={"event": target.code}, transports=["websocket"],
                          wait_timeout=10)
        try:
            for name, payload in (("join", {"attendance": "in_room", "name": f"Person {n + 1}"}),
                                  ("ask", {"text": f"What will the council do about "
                                                   f"{TOPICS[n % len(TOPICS)]}?",
                                           "allow_duplicate": True})):
                reply = await sio.call(name, payload, timeout=10)
                if not reply["ok"]:
                    raise RuntimeError(f"{name} refused: {reply}")
        finally:
            await sio.disconnect()
    headers = {"Authorization": f"Bearer {LIVE_ENV['LIVE_ORGANISER_TOKEN']}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        poll = {"kind": "single", "question": "Which item first?", "options": ["Parks", "Roads"]}
        async with http.post(f"{url}/api/events/{target.code}/polls", json=poll) as res:
            res.raise_for_status()
            poll_id = (await res.json())["data"]["id"]
        async with http.post(f"{url}/api/events/{target.code}/polls/{poll_id}/open") as res:
            res.raise_for_status()


async def load(context, url: str, conditions: dict, timeout_ms: float) -> dict:
    """One first visit in this context: ms from navigation until the questions show, and until
    a tap on "I'm in the room", made as soon as it can be, has brought the Ask box (by the form's
    POST and redirect when the script had not yet taken over, else by the socket), and until the
    page that shows it says it is online (its script connected: live updates from then on)."""
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", conditions)
    documents: list[str] = []
    page.on("framenavigated",
            lambda frame: frame == page.main_frame and documents.append(frame.url))
    try:
        start = time.monotonic()
        await page.goto(url, wait_until="commit", timeout=timeout_ms)
        await page.wait_for_function(QUESTIONS_SHOWN, polling="raf", timeout=timeout_ms)
        shown = time.monotonic()
        await page.get_by_role("button", name="I'm in the room").click(timeout=timeout_ms)
        await page.locator("#ask-text").wait_for(state="visible", timeout=timeout_ms)
        joined = time.monotonic()
        online = page.locator("#connection[data-state=online]")
        await online.wait_for(state="attached", timeout=timeout_ms)
        live = time.monotonic()
        return {"questions_ms": (shown - start) * 1000, "joined_ms": (joined - start) * 1000,
                "live_ms": (live - start) * 1000,
                "joined_by": "form" if len(documents) > 1 else "script"}
    finally:
        await page.close()


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": len(values)}


async def measure(args: argparse.Namespace, chromium: str) -> dict:
    target = LiveTarget([])
    conditions = {"offline": False, "latency": args.rtt_ms,
                  "downloadThroughput": args.down_kbps * 1000 / 8,
                  "uploadThroughput": args.up_kbps * 1000 / 8}
    runs: dict[str, list[dict]] = {"cold": [], "warm": []}
    try:
        target.start()
        await prepare(target)
        url = f"http://127.0.0.1:{target.port}/e/{target.code}"
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                for _ in range(args.runs):
                    context = await browser.new_context(viewport={"width": 360, "height": 740})
                    runs["cold"].append(await load(context, url, conditions, args.timeout * 1000))
                    await context.clear_cookies()
                    runs["warm"].append(await load(context, url, conditions, args.timeout * 1000))
                    await context.close()
            finally:
                await browser.close()
    finally:
        target.stop()
    return {cache: {metric: summary([r[metric] for r in done]) for metric in METRICS}
            for cache, done in runs.items()} | {"samples": runs}


def report(metrics: dict, args: argparse.Namespace) -> str:
    lines = [f"firstload: {args.down_kbps:g} kbps down, {args.up_kbps:g} kbps up, "
             f"{args.rtt_ms:g} ms RTT, {args.runs} runs each",
             "", "| cache | until | median ms | min ms | max ms |", "|---|---|---|---|---|"]
    names = {"questions_ms": "questions visible", "joined_ms": "Join has worked",
             "live_ms": "the script is live"}
    for cache in ("cold", "warm"):
        for metric in METRICS:
            s = metrics[cache][metric]
            lines.append(f"| {cache} | {names[metric]} | {s['median']:,.0f} | {s['min']:,.0f} "
                         f"| {s['max']:,.0f} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("firstload needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    metrics = asyncio.run(measure(args, chromium))
    print(report(metrics, args), flush=True)
    record = {
        "scenario": "firstload", "target": "live", "label": args.label,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "line": {"down_kbps": args.down_kbps, "up_kbps": args.up_kbps, "rtt_ms": args.rtt_ms},
        "metrics": metrics,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as out:
        out.write(json.dumps(record) + "\n")
    return 0
