"""Keep the benchmark working: its generator drives the real server with a handful of clients."""

import json
import os
import re
import shutil

import pytest

from bench.__main__ import SCENARIOS, chosen_scenarios, main, parse_args, report
from bench.runner import node_missing

SMALL = ["--no-pin", "--clients", "6", "--asks", "2", "--interval-ms", "50", "--watchers", "4",
         "--voters", "2", "--vote-rate", "40", "--vote-seconds", "0.5", "--questions", "3",
         "--joins", "5", "--join-seconds", "0.5", "--join-questions", "4", "--memory-clients", "6",
         "--deadline", "60"]


def require_node() -> None:
    """Node's socket.io target: skipped locally without node, required in CI (.ci/run installs it)."""
    why = node_missing()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the bench's Node target is required in CI: {why}")
        pytest.skip(why)


def test_the_suite_runs_end_to_end_with_a_handful_of_clients(tmp_path, capsys):
    out = tmp_path / "results.jsonl"
    code = main([
        "fanout", "votes", "join", "poll", "memory", "--targets", "live,baseline", "--no-pin",
        "--clients", "6", "--asks", "2",
        "--interval-ms", "50", "--watchers", "4", "--voters", "2", "--vote-rate", "40",
        "--vote-seconds", "0.5", "--questions", "3", "--joins", "5", "--join-seconds", "0.5",
        "--join-questions", "4", "--poll-clients", "6", "--poll-seconds", "0.5",
        "--memory-clients", "6",
        "--deadline", "60", "--out", str(out),
    ])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0, [r["metrics"] for r in records]
    by = {(r["scenario"], r["target"]): r["metrics"] for r in records}
    for target in ("live", "baseline"):
        fanout = by[("fanout", target)]
        assert fanout["deliveries"] == fanout["expected"] == 12
        assert fanout["gaps"] == 0
        votes = by[("votes", target)]
        assert votes["acked"] == votes["votes_sent"] > 0 and votes["refused"] == 0
        assert votes["reached_final"] == votes["clients"]
        assert by[("join", target)]["ok"] == 5
        memory = by[("memory", target)]
        assert memory["clients"] == 6 and memory["left"] == 5 and memory["leave_stall_ms"] > 0
    assert by[("votes", "live")]["counts_equal_db"] and by[("votes", "live")]["watchers_equal_db"]
    poll = by[("poll", "live")]
    assert poll["acked"] == poll["clients"] == poll["reached_final"] == 6
    assert poll["tallies_exact"] and poll["watchers_exact"]
    assert "| fanout 6 | cpu_us_per_delivery |" in capsys.readouterr().out


def test_node_socket_io_answers_every_command_and_broadcast_of_the_baseline(tmp_path, capsys):
    require_node()
    out = tmp_path / "results.jsonl"
    code = main(["fanout", "votes", "join", "memory", "--targets", "node", *SMALL, "--out", str(out)])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0, [r["metrics"] for r in records]
    assert {r["target"] for r in records} == {"node"}
    assert all(r["node"]["socket.io"] == "4.8.4" for r in records)
    by = {r["scenario"]: r["metrics"] for r in records}
    assert by["fanout"]["deliveries"] == by["fanout"]["expected"] == 12
    assert by["fanout"]["gaps"] == 0 and by["fanout"]["incomplete_broadcasts"] == 0
    votes = by["votes"]
    assert votes["acked"] == votes["votes_sent"] > 0 and votes["refused"] == votes["lost"] == 0
    assert votes["reached_final"] == votes["clients"] and votes["watchers_equal_db"]
    assert by["join"]["ok"] == 5 and by["join"]["failed"] == 0
    memory = by["memory"]
    assert memory["clients"] == 6 and memory["left"] == 5 and memory["leave_stall_ms"] > 0
    assert re.search(r"^Node \d+\.\d+\.\d+, socket\.io 4\.8\.4 ", capsys.readouterr().out, re.M)


def test_long_polling_clients_beside_websocket_ones_get_every_question_from_every_target(
        tmp_path, capsys):
    targets = "live,baseline" if node_missing() and not os.environ.get("CI") else "live,baseline,node"
    out = tmp_path / "results.jsonl"
    code = main(["longpoll", "--targets", targets, "--polling-clients", "4",
                 "--polling-ws-clients", "5", "--asks", "4", "--interval-ms", "0", "--no-pin",
                 "--deadline", "60", "--out", str(out)])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0, [r["metrics"] for r in records]
    assert [r["target"] for r in records] == targets.split(",")
    for r in records:
        m = r["metrics"]
        assert m["lp_clients"] == 4 and m["lp_failed"] == 0 and m["ws_clients"] == 5, r["target"]
        assert m["lp_deliveries"] == m["lp_expected"] == 16 and m["lp_dropped"] == 0, r["target"]
        assert m["lp_incomplete_broadcasts"] == 0 and m["lp_open_after"] == 4, r["target"]
        assert m["ws_deliveries"] == 20 and m["gaps"] == m["stale"] == 0, r["target"]
        assert m["lp_last_max_ms"] >= m["lp_last_p50_ms"] > 0, r["target"]
    assert "| longpoll | lp_cpu_us_per_delivery |" in capsys.readouterr().out


def test_live_is_reported_as_a_ratio_to_the_baseline_and_to_node():
    def record(target: str, cpu: float) -> dict:
        return {"scenario": "fanout", "n": 500, "target": target,
                "metrics": {"cpu_us_per_delivery": cpu, "clients": 500}}

    lines = report([record("live", 10.0), record("baseline", 5.0), record("node", 20.0)]).splitlines()
    header, cpu = lines[0], next(line for line in lines if "cpu_us_per_delivery" in line)
    assert header == ("| scenario | metric | live | baseline | node | live / baseline | live / node"
                      " | target | met |")
    assert cpu == "| fanout 500 | cpu_us_per_delivery | 10.0 | 5.00 | 20.0 | 2.00× | 0.50× | ≤ 1.5× baseline | no |"


def test_without_node_the_bench_says_so_and_skips_its_column(tmp_path, capsys, monkeypatch):
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    out = tmp_path / "results.jsonl"
    code = main(["fanout", "--targets", "baseline,node", *SMALL, "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0
    assert [json.loads(line)["target"] for line in out.read_text().splitlines()] == ["baseline"]
    assert "Node socket.io target skipped: node is not installed" in printed.out
    assert "| node |" not in printed.out and "live / baseline" in printed.out


def test_no_scenario_named_runs_the_whole_suite():
    assert chosen_scenarios(parse_args([]).scenarios) == list(SCENARIOS)
    assert chosen_scenarios(["all"]) == list(SCENARIOS)
    assert chosen_scenarios(["votes", "fanout"]) == ["fanout", "votes"]


def test_an_unknown_scenario_is_refused():
    with pytest.raises(SystemExit):
        parse_args(["fanout", "stampede"])


def test_the_first_load_on_a_poor_line_is_timed_cold_and_warm_in_chromium(tmp_path, capsys):
    if shutil.which("chromium") is None and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed")
    out = tmp_path / "results.jsonl"
    assert main(["firstload", "--runs", "1", "--out", str(out)]) == 0
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["scenario"] == "firstload"
    assert record["line"] == {"down_kbps": 400, "up_kbps": 400, "rtt_ms": 400}
    for cache in ("cold", "warm"):
        (sample,) = record["metrics"]["samples"][cache]
        assert sample["joined_by"] in ("form", "script")
        for metric in ("questions_ms", "joined_ms", "live_ms"):
            assert record["metrics"][cache][metric]["runs"] == 1
            assert record["metrics"][cache][metric]["median"] == sample[metric]
    printed = capsys.readouterr().out
    assert "| cold | questions visible |" in printed and "| warm | Join has worked |" in printed
