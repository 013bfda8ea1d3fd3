"""`python -m bench [SCENARIO ...]`: run scenarios against `live serve`, the raw baseline and Node.

Prints a markdown table and appends one JSON line per scenario and target to --out.
`python -m bench firstload` times the participant page's first load in Chromium instead.
"""

import argparse
import asyncio
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import firstload, scenarios
from bench.loadgen import generator_loop
from bench.runner import (ROOT, BaselineTarget, Generator, LiveTarget, NodeTarget, Target,
                          install_node_modules, machine, node_missing, node_versions, pinning,
                          raise_fd_limit)

SCENARIOS = ("fanout", "votes", "join", "poll", "memory", "longpoll")
KINDS = ("live", "live-pg", "baseline", "node")
REFERENCES = ("baseline", "node")  # what live's figures are reported as ratios to
DEFAULT_OUT = ROOT / "bench" / "results.jsonl"

# (scenario, metric, target, comparison) for the report's verdict column
TARGETS = {
    ("fanout", "cpu_us_per_delivery"): ("≤ 1.5× baseline", "ratio", 1.5),
    ("fanout", "last_p99_ms"): ("≤ 250 ms at 10,000", "value", 250.0),
    ("votes", "ack_p99_ms"): ("≤ 100 ms", "value", 100.0),
    ("votes", "converge_max_ms"): ("≤ 500 ms", "value", 500.0),
    ("join", "join_p99_ms"): ("≤ 2,000 ms", "value", 2000.0),
    ("memory", "idle_kb_per_client"): ("≤ 30 KB", "value", 30.0),
    ("longpoll", "lp_last_p99_ms"): ("≤ 500 ms", "value", 500.0),
    ("longpoll", "lp_cpu_us_per_delivery"): ("≤ Node", "node", 1.0),
}
SHOWN = {
    "fanout": ["clients", "connect_s", "delivery_p50_ms", "delivery_p99_ms", "last_p50_ms",
               "last_p99_ms", "last_max_ms", "cpu_us_per_delivery", "idle_kb_per_client",
               "incomplete_broadcasts", "gaps"],
    "votes": ["clients", "votes_per_s", "acked", "refused", "lost", "ack_p50_ms", "ack_p99_ms",
              "converge_p50_ms", "converge_max_ms", "reached_final", "counts_equal_db",
              "watchers_equal_db", "gaps", "cpu_s"],
    "join": ["ok", "failed", "elapsed_s", "join_p50_ms", "join_p99_ms", "join_max_ms",
             "cpu_ms_per_join"],
    "memory": ["clients", "idle_kb_per_client", "rss_mib", "left", "leave_stall_ms"],
    "poll": ["clients", "acked", "refused", "ack_p50_ms", "ack_p99_ms", "final_p50_ms",
             "final_max_ms", "reached_final", "tallies_exact", "watchers_exact", "gaps", "cpu_s"],
    "longpoll": ["ws_clients", "lp_clients", "lp_failed", "lp_connect_s", "lp_idle_kb_per_client",
                 "lp_deliveries", "lp_dropped", "lp_open_after", "lp_delivery_p50_ms",
                 "lp_delivery_p99_ms", "lp_last_p50_ms", "lp_last_p99_ms", "lp_last_max_ms",
                 "ws_last_p99_ms", "ws_cpu_us_per_delivery", "lp_cpu_us_per_delivery", "gaps"],
}


def git_rev() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


async def run_case(kind: str, scenario: str, opts: scenarios.Options, n: int | None,
                   pins: tuple[list[str], list[str]], env: dict[str, str], postgres: str) -> dict:
    target: Target = (LiveTarget(pins[0], env) if kind == "live"
                      else LiveTarget(pins[0], env, postgres) if kind == "live-pg"
                      else NodeTarget(pins[0]) if kind == "node" else BaselineTarget(pins[0]))
    size = {"fanout": n, "memory": n, "votes": opts.watchers + opts.voters,
            "join": opts.joins, "poll": opts.poll_clients,
            "longpoll": opts.polling_ws_clients}[scenario]
    gen = Generator(0, scenarios.workers_for(size, opts, scenario), pins[1], opts.deadline)
    try:
        target.start()
        gen.port = target.port
        await gen.start()
        if scenario == "fanout":
            run = scenarios.fanout(target, gen, opts, n)
        elif scenario == "memory":
            run = scenarios.memory(target, gen, opts, n)
        elif scenario == "votes":
            run = scenarios.votes(target, gen, opts)
        elif scenario == "poll":
            run = scenarios.poll(target, gen, opts)
        elif scenario == "longpoll":
            run = scenarios.longpoll(target, gen, opts)
        else:
            run = scenarios.join(target, gen, opts)
        return await asyncio.wait_for(run, opts.deadline)
    except Exception as exc:  # noqa: BLE001 - a failed case is reported, the suite goes on
        return {"error": repr(exc)[:500]}
    finally:
        await gen.stop()
        target.stop()


def chosen_scenarios(named: list[str]) -> list[str]:
    """The scenarios to run, in the suite's order: none named, or "all", means every one."""
    if not named or "all" in named:
        return list(SCENARIOS)
    return [s for s in SCENARIOS if s in named]


def fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def ratio(value: object, reference: object) -> float | None:
    numeric = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value, reference)]
    return value / reference if all(numeric) and reference else None


def report(results: list[dict]) -> str:
    """A markdown table: live's figures beside each reference that ran, and live as a ratio to each."""
    refs = [k for k in REFERENCES if any(r["target"] == k for r in results)]
    lines = ["| scenario | metric | live | " + "".join(f"{k} | " for k in refs)
             + "".join(f"live / {k} | " for k in refs) + "target | met |",
             "|---|---|---:|" + "---:|" * (2 * len(refs)) + "---|---|"]
    cases: dict[tuple, dict[str, dict]] = {}
    for r in results:
        cases.setdefault((r["scenario"], r.get("n")), {})[r["target"]] = r["metrics"]
    blank = " |" * (1 + 2 * len(refs) + 2)
    for (scenario, n), by in cases.items():
        label = f"{scenario} {n:,}" if n else scenario
        live = by.get("live", {})
        for kind in ("live", *refs):
            if "error" in by.get(kind, {}):
                lines.append(f"| {label} | {kind} error | {by[kind]['error']} |" + blank[2:])
        for metric in SHOWN[scenario]:
            lv = live.get(metric)
            values = [by.get(k, {}).get(metric) for k in refs]
            ratios = [ratio(lv, v) for v in values]
            goal, how, limit = TARGETS.get((scenario, metric), ("", None, None))
            met = ""
            to_reference = ratio(lv, by.get("node" if how == "node" else "baseline", {}).get(metric))
            if how in ("ratio", "node") and to_reference is not None:
                met = "yes" if to_reference <= limit else "no"
            elif how == "value" and isinstance(lv, (int, float)):
                if scenario != "fanout" or n == 10000:
                    met = "yes" if lv <= limit else "no"
            lines.append(f"| {label} | {metric} | {fmt(lv)} | "
                         + "".join(f"{fmt(v)} | " for v in values)
                         + "".join("– | " if q is None else f"{q:.2f}× | " for q in ratios)
                         + f"{goal} | {met} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help=f"any of {', '.join(SCENARIOS)} (default: all)")
    p.add_argument("--clients", default="500,2000,10000", help="fan-out sizes, comma-separated")
    p.add_argument("--targets", default="baseline,live,node",
                   help="any of baseline, live, live-pg (live on PostgreSQL), node, comma-separated"
                        " (node is skipped where it is not installed)")
    p.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite",
                   help="postgresql: run live on SQLite and on PostgreSQL (adds the live-pg target)")
    p.add_argument("--postgres", default=os.environ.get(
                       "LIVE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"),
                   help="PostgreSQL server for live-pg; each case gets a throwaway database on it")
    p.add_argument("--asks", type=int, default=20)
    p.add_argument("--interval-ms", type=float, default=500)
    p.add_argument("--watchers", type=int, default=5000)
    p.add_argument("--voters", type=int, default=500)
    p.add_argument("--vote-rate", type=float, default=2000)
    p.add_argument("--vote-seconds", type=float, default=30)
    p.add_argument("--questions", type=int, default=20, help="questions voted on in the storm")
    p.add_argument("--vote-op-ids", action="store_true",
                   help="each vote carries an op_id, as the participant page sends them")
    p.add_argument("--joins", type=int, default=5000)
    p.add_argument("--join-seconds", type=float, default=10)
    p.add_argument("--join-questions", type=int, default=200)
    p.add_argument("--memory-clients", type=int, default=5000)
    p.add_argument("--poll-clients", type=int, default=5000)
    p.add_argument("--poll-seconds", type=float, default=2.0,
                   help="the poll burst's answers are spread over this many seconds")
    p.add_argument("--polling-clients", type=int, default=2000,
                   help="longpoll: clients on HTTP long-polling only")
    p.add_argument("--polling-ws-clients", type=int, default=3000,
                   help="longpoll: websocket clients beside them in the same event")
    p.add_argument("--per-worker", type=int, default=2500, help="clients per generator process")
    p.add_argument("--no-deflate", action="store_true",
                   help="clients do not offer permessage-deflate (browsers do)")
    p.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    p.add_argument("--deadline", type=float, default=240, help="seconds allowed per case")
    p.add_argument("--env", action="append", default=[], help="extra LIVE_*=value for the server")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON lines appended here")
    p.add_argument("--label", default="", help="free text stored with the results")
    args = p.parse_args(argv)
    unknown = set(args.scenarios) - {*SCENARIOS, "all"}
    if unknown:
        p.error(f"unknown scenario {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    args.kinds = [t.strip() for t in args.targets.split(",") if t.strip()]
    if args.store == "postgresql" and "live-pg" not in args.kinds:
        args.kinds.insert(args.kinds.index("live") + 1 if "live" in args.kinds else 0, "live-pg")
    unknown = set(args.kinds) - set(KINDS)
    if unknown:
        p.error(f"unknown target {', '.join(sorted(unknown))}; choose from {', '.join(KINDS)}")
    return args


def available(kinds: list[str]) -> tuple[list[str], str | None]:
    """The targets that can run here, and why Node cannot where it is missing."""
    why = node_missing() if "node" in kinds else None
    return [k for k in kinds if k != "node" or why is None], why


def store_ratios(results: list[dict]) -> str:
    """live on PostgreSQL against live on SQLite, measured in the same run."""
    lines = []
    by = {(r["scenario"], r.get("n"), r["target"]): r["metrics"] for r in results}
    for (scenario, n, target), metrics in by.items():
        if target != "live-pg" or (scenario, n, "live") not in by:
            continue
        for metric in SHOWN[scenario]:
            q = ratio(metrics.get(metric), by[(scenario, n, "live")].get(metric))
            if metric.endswith(("_ms", "_s", "per_delivery")) and q is not None:
                lines.append(f"{scenario} {metric}: PostgreSQL / SQLite = {q:.2f}×")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["firstload"]:
        return firstload.main(argv[1:])
    args = parse_args(argv)

    chosen = chosen_scenarios(args.scenarios)
    opts = scenarios.Options(
        clients=[int(c) for c in args.clients.split(",") if c],
        asks=args.asks, interval=args.interval_ms / 1000, watchers=args.watchers,
        voters=args.voters, vote_rate=args.vote_rate, vote_seconds=args.vote_seconds,
        vote_op_ids=args.vote_op_ids, questions=args.questions, joins=args.joins, join_seconds=args.join_seconds,
        join_questions=args.join_questions, memory_clients=args.memory_clients,
        poll_clients=args.poll_clients, poll_seconds=args.poll_seconds,
        polling_clients=args.polling_clients, polling_ws_clients=args.polling_ws_clients,
        per_worker=args.per_worker, deflate=not args.no_deflate, deadline=args.deadline,
    )
    pins = ([], []) if args.no_pin else pinning()
    env = dict(e.split("=", 1) for e in args.env)
    raise_fd_limit()
    info = {"machine": machine(), "git": git_rev(), "label": args.label,
            "pinned": bool(pins[0]), "deflate_offered": opts.deflate,
            "generator_loop": generator_loop()}
    kinds, skipped = available(args.kinds)
    if skipped:
        print(f"# node target skipped: {skipped}", file=sys.stderr, flush=True)
    if "node" in kinds:
        install_node_modules()
        info["node"] = node_versions()
    results = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for scenario in chosen:
        sizes = opts.clients if scenario == "fanout" else (
            [opts.memory_clients] if scenario == "memory" else [None])
        for n in sizes:
            for kind in [k for k in kinds if k == "live"] if scenario == "poll" else kinds:
                started = time.monotonic()
                metrics = asyncio.run(run_case(kind, scenario, opts, n, pins, env, args.postgres))
                record = {"at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                          "scenario": scenario, "n": n, "target": kind, "metrics": metrics,
                          "seconds": round(time.monotonic() - started, 1), **info,
                          "options": {k: v for k, v in vars(opts).items()}}
                results.append(record)
                with args.out.open("a") as out:
                    out.write(json.dumps(record) + "\n")
                print(f"# {scenario} {n or ''} {kind}: {json.dumps(metrics)}", file=sys.stderr,
                      flush=True)
    m = info["machine"]
    print(f"\nMachine: {m['cpu']}, {m['cores']} cores, {m['mem_mib']} MiB, Python {m['python']};"
          f" commit {info['git']}; pinned: {info['pinned']};"
          f" generator event loop: {info['generator_loop']}")
    if "node" in info:
        print(f"Node {info['node']['node']}, socket.io {info['node']['socket.io']} (default ws engine).")
    if skipped:
        print(f"Node socket.io target skipped: {skipped}.")
    print()
    print(report(results))
    print(store_ratios(results))
    return 0 if all("error" not in r["metrics"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
