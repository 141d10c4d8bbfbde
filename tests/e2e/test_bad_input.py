"""Bad input, as a user types it: each row ends in one line on stderr and its exit code, fast.

No traceback, no hang, no silent acceptance. Engines that misbehave are the fakes in
`tests/fakes/uci`; broken traces are written per test.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Run
from tests.fakes.uci import BABBLES, BAD_BESTMOVE, HANGS_AFTER_HANDSHAKE, NEVER_HANDSHAKES

pytestmark = pytest.mark.slow

PLAY = ["play", "--headless", "--max-plies", "4"]
VS_RANDOM = [*PLAY, "--black", "random", "--no-speculation", "--white"]

START = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"
GOOD_PLY = {"ply": 0, "fen": START, "move": "e2e4", "latency_s": 0.5, "input_tokens": 10}

# (id, arguments, extra environment, exit code, what stderr says)
USAGE: list[tuple[str, list[str], dict[str, str], int, str]] = [
    # engines that never finish the handshake: init_timeout
    ("uci-cat", [*VS_RANDOM, "uci:/bin/cat,init_timeout=1"], {}, 2, "UCI handshake"),
    ("uci-babbler", [*VS_RANDOM, f"uci:{BABBLES},init_timeout=1"], {}, 2, "UCI handshake"),
    ("uci-silent", [*VS_RANDOM, f"uci:{NEVER_HANDSHAKES},init_timeout=1"], {}, 2, "UCI handshake"),
    ("env-cat", [*VS_RANDOM, "stockfish:init_timeout=1"], {"ARENA_STOCKFISH": "/bin/cat"}, 2,
     r"/bin/cat \(ARENA_STOCKFISH\) did not finish"),
    ("speculator-cat", [*PLAY, "--white", "random", "--black", "random",
                        "--speculator", "uci:/bin/cat,init_timeout=1"], {}, 2, "UCI handshake"),
    ("uci-not-executable", [*VS_RANDOM, "uci:engine.txt"], {}, 2, "is not executable"),
    ("uci-missing", [*VS_RANDOM, "uci:/nonexistent/engine"], {}, 2, "not found"),
    # absurd limits, refused before anything starts
    ("depth-huge", [*VS_RANDOM, "stockfish:depth=99999999999999999999"], {}, 2,
     "depth must be 1..100"),
    ("depth-0", [*VS_RANDOM, "stockfish:depth=0"], {}, 2, "depth must be 1..100"),
    ("nodes-0", [*VS_RANDOM, "stockfish:nodes=0"], {}, 2, "nodes must be 1.."),
    ("threads-0", [*VS_RANDOM, "stockfish:threads=0"], {}, 2, "threads must be 1.."),
    ("threads-999", [*VS_RANDOM, "stockfish:threads=999"], {}, 2, "twice this machine's cores"),
    ("movetime-0", [*VS_RANDOM, "stockfish:movetime=0"], {}, 2, "movetime must be 1..3600000 ms"),
    ("movetime-neg", [*VS_RANDOM, "stockfish:movetime=-5"], {}, 2, "movetime must be"),
    ("hash-0", [*VS_RANDOM, "stockfish:hash=0"], {}, 2, "hash must be 1.."),
    ("skill-21", [*VS_RANDOM, "stockfish:skill=21"], {}, 2, "skill must be 0..20"),
    ("elo-9999", [*VS_RANDOM, "stockfish:elo=9999"], {}, 2, "elo must be 1320..3190"),
    ("move-timeout-inf", [*VS_RANDOM, "stockfish:move_timeout=inf"], {}, 2, "move_timeout"),
    ("speculator-depth-0", [*PLAY, "--white", "random", "--black", "random",
                            "--speculator", "stockfish:depth=0"], {}, 2, "depth must be"),
    ("random-xyz", [*VS_RANDOM, "random:xyz"], {}, 2, "seed must be an integer"),
    # time
    ("time-scale-inf", [*PLAY, "--time-scale", "inf"], {}, 2, "--time-scale: must be"),
    ("time-scale-1e300", [*PLAY, "--time-scale", "1e300"], {}, 2, "--time-scale: must be"),
    ("time-scale-neg", [*PLAY, "--time-scale", "-1"], {}, 2, "--time-scale: must be"),
    ("time-scale-nan", [*PLAY, "--time-scale", "nan"], {}, 2, "--time-scale: must be"),
    ("bench-time-scale-inf", ["bench", "speculation", "--time-scale", "inf"], {}, 2,
     "--time-scale: must be"),
    # traces
    ("trace-not-utf8", [*VS_RANDOM, "trace:latin1.jsonl"], {}, 2, r"latin1\.jsonl:1: not UTF-8"),
    ("trace-blank-first-line", [*VS_RANDOM, "trace:blank-then-bad.jsonl"], {}, 2,
     r"blank-then-bad\.jsonl:2: not a trace line"),
    ("trace-latency-inf", [*VS_RANDOM, "trace:latency-inf.jsonl"], {}, 2, "latency_s must be"),
    ("trace-latency-1e308", [*VS_RANDOM, "trace:latency-1e308.jsonl"], {}, 2, "latency_s must"),
    ("trace-latency-neg", [*VS_RANDOM, "trace:latency-neg.jsonl"], {}, 2, "latency_s must"),
    ("trace-tokens-infinity", [*VS_RANDOM, "trace:tokens-inf.jsonl"], {}, 2,
     "Infinity is not a JSON number"),
    # numeric flags
    ("max-plies-neg", [*PLAY[:2], "--max-plies", "-1"], {}, 2, "--max-plies: must be"),
    ("max-plies-0", [*PLAY[:2], "--max-plies", "0"], {}, 2, "--max-plies: must be"),
    ("max-plies-huge", [*PLAY[:2], "--max-plies", "1" + "0" * 23], {}, 2, "--max-plies: must"),
    ("seed-huge", [*PLAY, "--seed", "1" + "0" * 23], {}, 2, "--seed: must be"),
    ("max-in-flight-0", [*PLAY, "--max-in-flight", "0"], {}, 2, "--max-in-flight: must be"),
    ("min-prob-2", [*PLAY, "--min-prob", "2"], {}, 2, "--min-prob: must be"),
    ("price-per-hour-neg", [*PLAY, "--price-per-hour", "-1"], {}, 2, "--price-per-hour: must"),
    ("k-0", [*PLAY, "--k", "0"], {}, 2, "--k: must be"),
    ("resume-max-plies-0", ["resume", "abc", "--max-plies", "0"], {}, 2, "--max-plies: must"),
    ("bench-k-neg", ["bench", "speculation", "--k", "-1"], {}, 2, "--k: must be"),
    ("bench-k-0", ["bench", "speculation", "--k", "0"], {}, 2, "--k: must be"),
    ("bench-k-comma", ["bench", "speculation", "--k", ","], {}, 2, "--k: takes numbers"),
    ("replays-limit-0", ["replays", "--json", "--limit", "0"], {}, 2, "--limit: must be"),
]  # fmt: skip

# Engines that start, then fail during the match: the match ends with `error: ...`, exit 1.
MATCH_ERRORS: list[tuple[str, list[str], str]] = [
    ("uci-ignores-go", [*VS_RANDOM, f"uci:{HANGS_AFTER_HANDSHAKE},move_timeout=1"],
     "gave no answer within 1s"),
    ("uci-bad-bestmove", [*VS_RANDOM, f"uci:{BAD_BESTMOVE}"], "z9z9"),
]  # fmt: skip


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """The broken traces and the non-executable engine the table names, in the run folder."""

    def line(**fields: object) -> str:
        return json.dumps({**GOOD_PLY, **fields}, ensure_ascii=False)

    (tmp_path / "engine.txt").write_text("#!/bin/sh\n")
    (tmp_path / "latin1.jsonl").write_bytes(line(model="caf\u00e9").encode("latin-1"))
    (tmp_path / "blank-then-bad.jsonl").write_text("\n{oops\n")
    (tmp_path / "latency-inf.jsonl").write_text(line(latency_s="inf"))
    (tmp_path / "latency-1e308.jsonl").write_text(line(latency_s=1e308))
    (tmp_path / "latency-neg.jsonl").write_text(line(latency_s=-1))
    (tmp_path / "tokens-inf.jsonl").write_text(line().replace("10}", "Infinity}"))
    return tmp_path


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [pytest.param(*row[1:], id=row[0]) for row in USAGE],
)
def test_bad_input_is_one_line_and_an_exit_code(
    arena: Run, files: Path, args: list[str], env: dict[str, str], code: int, message: str
) -> None:
    t0 = time.monotonic()
    result = arena(*args, env=env, timeout=60)
    lines = result.stderr.strip().splitlines()
    assert (result.returncode, len(lines)) == (code, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(message, lines[0]), lines[0]
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize(("args", "message"), [pytest.param(*r[1:], id=r[0]) for r in MATCH_ERRORS])
def test_an_engine_failing_mid_match_ends_it_with_an_error(
    arena: Run, args: list[str], message: str
) -> None:
    result = arena(*args, "--json", timeout=60)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["termination"].startswith("error: engine") and message in summary["termination"]


def test_a_speculator_whose_engine_hangs_stops_and_the_match_finishes(arena: Run) -> None:
    result = arena(
        *PLAY, "--white", "stockfish:depth=1", "--black", "random", "--json",
        "--speculator", f"uci:{HANGS_AFTER_HANDSHAKE},move_timeout=1", timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["plies"] == 4
    assert "stops: engine" in result.stderr and "Traceback" not in result.stderr
