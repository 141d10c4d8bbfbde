"""The `arena` command end to end: headless matches, replays, export, resume, bench, bad input."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import chess.pgn
import pytest

from tests.e2e.conftest import TRACES, Run

pytestmark = pytest.mark.slow


def test_headless_match_replays_and_pgn_round_trip(arena: Run, tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    played = arena(
        "play", "--headless", "--white", "stockfish:depth=6", "--black", "random",
        "--seed", "1", "--max-plies", "40", "--json", "--db", db,
    )  # fmt: skip
    assert played.returncode == 0, played.stderr
    result = json.loads(played.stdout)
    assert result["result"] in ("1-0", "0-1", "1/2-1/2", "*")
    assert result["plies"] == len(result["moves"]) <= 40
    for key in ("match_id", "termination", "wall_s", "saved_s", "hit_rate", "usage"):
        assert key in result
    assert "think" in played.stderr  # progress goes to stderr, not stdout

    listed = arena("replays", "--json", "--db", db)
    assert listed.returncode == 0
    assert [m["match_id"] for m in json.loads(listed.stdout)] == [result["match_id"]]

    pgn = arena("export", result["match_id"][:6], "--format", "pgn", "--db", db)
    assert pgn.returncode == 0, pgn.stderr
    game = chess.pgn.read_game(io.StringIO(pgn.stdout))
    assert game is not None
    assert [m.uci() for m in game.mainline_moves()] == result["moves"]
    assert game.headers["Result"] == result["result"]
    assert game.headers["Termination"] == result["termination"]
    assert "%emt" in pgn.stdout

    exported = arena("export", result["match_id"], "--format", "json", "--db", db)
    assert json.loads(exported.stdout)["moves"] == result["moves"]


def test_speculation_is_lossless_and_saves_time_with_real_stockfish(arena: Run) -> None:
    common = ["play", "--headless", "--white", "stockfish:nodes=20000", "--black",
              "stockfish:nodes=20000", "--max-plies", "30", "--json"]  # fmt: skip
    on = arena(*common, "--speculator", "stockfish:depth=6")
    off = arena(*common, "--no-speculation")
    assert on.returncode == 0 and off.returncode == 0, on.stderr + off.stderr
    spec, plain = json.loads(on.stdout), json.loads(off.stdout)
    assert spec["moves"] == plain["moves"]
    assert spec["hit_rate"] > 0 and spec["adopted_plies"] > 0
    for stats in (spec, plain):
        # One definition: the saving is the sequential sum against the wall clock, never more.
        assert stats["plies"] == 30
        bound = 100 * (1 - stats["wall_s"] / stats["sequential_s"])
        assert stats["saved_pct"] <= bound + 0.2
    # Without speculation nothing is started and nothing is saved; what remains is the runner's
    # own overhead between a decision and its commit (well under a millisecond a ply).
    assert plain["branches_started"] == 0 and plain["adopted_plies"] == 0
    assert -0.02 * plain["sequential_s"] - 0.05 <= plain["saved_s"] <= 0.0001


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["play", "--headless", "--white", "gpt-7", "--black", "random"], "unknown spec 'gpt-7'"),
        (
            ["play", "--headless", "--white", "random", "--black", "random", "--fen", "8/8 w"],
            "bad FEN",
        ),
        (["export", "doesnotexist"], "no replay database"),
        (
            [
                "play",
                "--headless",
                "--white",
                "random",
                "--black",
                "random",
                "--db",
                "/proc/no/a.db",
            ],
            "cannot open",
        ),
        (["play", "--headless", "--bogus"], "unrecognized arguments"),
        (["play", "--headless", "--white", "human", "--black", "random"], "needs the TUI"),
        (["bench", "speculation", "--trace", "/nonexistent.jsonl"], "cannot read trace"),
    ],
)
def test_bad_input_is_one_line_exit_2(arena: Run, args: list[str], message: str) -> None:
    proc = arena(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_stockfish_is_exit_2(arena: Run) -> None:
    proc = arena(
        "play", "--headless", "--white", "stockfish", "--black", "random",
        env={"ARENA_STOCKFISH": "/nonexistent/stockfish"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "ARENA_STOCKFISH" in proc.stderr and "Traceback" not in proc.stderr


def test_killed_match_keeps_its_plies_and_resumes(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    env = {**os.environ, "ARENA_DB": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "arena", "play", "--headless", "--white", "stockfish:movetime=150",
         "--black", "stockfish:movetime=150", "--max-plies", "12", "--no-speculation"],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    seen = 0
    deadline = time.monotonic() + 60
    while seen < 4 and time.monotonic() < deadline:
        if "think" in proc.stderr.readline():
            seen += 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    listed = subprocess.run(
        [sys.executable, "-m", "arena", "replays", "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True,
    )  # fmt: skip
    (match,) = json.loads(listed.stdout)
    assert match["plies"] >= 4
    before = subprocess.run(
        [sys.executable, "-m", "arena", "export", match["match_id"], "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True,
    )  # fmt: skip
    moves_before = json.loads(before.stdout)["moves"]
    resumed = subprocess.run(
        [sys.executable, "-m", "arena", "resume", match["match_id"], "--headless", "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["moves"][: len(moves_before)] == moves_before
    assert len(out["moves"]) == 12 or out["termination"] != "max plies"


def test_bench_speculation_json(arena: Run) -> None:
    proc = arena(
        "bench", "speculation", "--trace", "gpt5-4c277d18", "--speculator", "stockfish:depth=4",
        "--speculator", "trace-guesses", "--k", "1,3", "--time-scale", "0.0002", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["results"]
    expected = [("stockfish:depth=4", 1), ("stockfish:depth=4", 3)]
    expected += [("trace-guesses", 1), ("trace-guesses", 3)]
    assert [(r["speculator"], r["k"]) for r in rows] == expected
    for r in rows:
        assert r["plies"] == 50
        for key in ("hit_rate", "sequential_s", "wall_s", "saved_pct", "token_overhead_pct",
                    "commit_latency_p95_ms"):  # fmt: skip
            assert key in r
    by = {(r["speculator"], r["k"]): r for r in rows}
    # The recorded guesses' top-3 accuracy on this game is a fact of the trace: 32 of 50 plies.
    assert by[("trace-guesses", 3)]["accuracy"] == 0.64
    assert by[("trace-guesses", 3)]["hit_rate"] >= by[("trace-guesses", 1)]["hit_rate"]


def test_trace_match_stops_at_the_end_of_the_record(arena: Run) -> None:
    trace = f"trace:{TRACES / 'gpt5-cd188ca0.jsonl'}"
    proc = arena(
        "play", "--headless", "--json", "--white", trace, "--black", trace,
        "--speculator", "trace-guesses", "--time-scale", "0.0002",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["plies"], out["termination"], out["result"]) == (50, "max plies", "*")
    assert out["hit_rate"] > 0


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_match_cleanly(tmp_path: Path, sig: int, code: int) -> None:
    env = {**os.environ, "ARENA_DB": str(tmp_path / "s.db")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "arena", "play", "--headless", "--white", "stockfish:movetime=100",
         "--black", "stockfish:movetime=100", "--no-speculation"],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
        # A test run started in the background inherits an ignored SIGINT; a user's arena has
        # ctrl-c as its default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:  # ends at EOF if the process died, and the checks below fail
        if "think" in line:
            break
    proc.send_signal(sig)
    returncode = proc.wait(timeout=30)
    rest = proc.stderr.read()
    assert returncode == code, f"exit {returncode} after {line!r}; stderr then: {rest[-2000:]}"
    assert "every committed move is saved" in rest
    listed = subprocess.run(
        [sys.executable, "-m", "arena", "replays", "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True,
    )  # fmt: skip
    (match,) = json.loads(listed.stdout)
    assert (match["status"], match["termination"]) == ("stopped", "aborted")
    assert match["plies"] >= 1


def test_resume_keeps_the_accounting_of_every_ply(arena: Run) -> None:
    """Issue 8's repro: 6 plies, then resumed to 12: the ledger covers all 12."""
    common = ["--headless", "--json"]
    # An instant player gets no default speculator: name one, so both sides speculate; White
    # thinks longer than a guess takes, so guesses arrive in time to start branches.
    first = arena("play", *common, "--white", "stockfish:movetime=150", "--black", "random",
                  "--speculator", "stockfish:depth=1", "--seed", "3",
                  "--max-plies", "6")  # fmt: skip
    assert first.returncode == 0, first.stderr
    one = json.loads(first.stdout)
    assert one["plies"] == 6 and one["branches_started"] > 0
    second = arena("resume", one["match_id"], *common, "--max-plies", "12")
    assert second.returncode == 0, second.stderr
    both = json.loads(second.stdout)
    assert both["plies"] == 12 and both["plies_this_run"] == 6
    assert both["moves"][:6] == one["moves"]
    assert both["sequential_s"] >= one["sequential_s"]
    assert both["branches_started"] >= one["branches_started"]
    assert both["speculated_plies"] >= one["speculated_plies"]
    listed = json.loads(arena("replays", "--json").stdout)
    row = next(r for r in listed if r["id"] == one["match_id"])
    assert row["max_plies"] == 12
    assert row["stats"]["plies"] == 12
    assert row["stats"]["sequential_s"] == both["sequential_s"]


def test_an_instant_player_gets_no_default_speculator(arena: Run) -> None:
    """Random answers at once: pre-thinking its replies would only start engines for nothing."""
    done = arena("play", "--headless", "--json", "--white", "random", "--black", "random",
                 "--max-plies", "6")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["speculated_plies"] == 0 and result["branches_started"] == 0
    listed = json.loads(arena("replays", "--json").stdout)
    row = next(r for r in listed if r["id"] == result["match_id"])
    assert row["white_speculator"] is None and row["black_speculator"] is None


@pytest.mark.parametrize(
    "args", [[], ["replays"], ["play", "--white", "random", "--black", "random"]]
)
def test_the_tui_without_a_terminal_is_one_line_not_escape_codes(
    arena: Run, args: list[str]
) -> None:
    proc = arena(*args, timeout=60)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "needs a terminal" in line and "\x1b" not in proc.stdout + proc.stderr
