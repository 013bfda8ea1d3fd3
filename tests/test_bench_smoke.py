"""Keep the benchmark working: its generator drives the real server with a handful of clients."""

import json

import pytest

from bench.__main__ import SCENARIOS, chosen_scenarios, main, parse_args


def test_the_suite_runs_end_to_end_with_a_handful_of_clients(tmp_path, capsys):
    out = tmp_path / "results.jsonl"
    code = main([
        "fanout", "votes", "join", "poll", "memory", "--no-pin", "--clients", "6", "--asks", "2",
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


def test_no_scenario_named_runs_the_whole_suite():
    assert chosen_scenarios(parse_args([]).scenarios) == list(SCENARIOS)
    assert chosen_scenarios(["all"]) == list(SCENARIOS)
    assert chosen_scenarios(["votes", "fanout"]) == ["fanout", "votes"]


def test_an_unknown_scenario_is_refused():
    with pytest.raises(SystemExit):
        parse_args(["fanout", "stampede"])
