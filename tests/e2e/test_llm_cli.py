"""LLM players from the command line, against a loopback OpenAI-compatible server."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import chess
import pytest

from tests.e2e.conftest import Run
from tests.fakes.servers import Behaviour, FakeLLMServer, Recorded, answer, fen_in

pytestmark = pytest.mark.slow


def mostly_nonsense(request: Recorded) -> Behaviour:
    """A 'model' that answers prose, illegal moves or, one time in four, a legal move."""
    text = request.text
    fen = fen_in(text)
    roll = int(hashlib.sha256(text.encode()).hexdigest(), 16) % 4
    if fen is None or roll == 0:
        return answer("The position reminds me of a sunny afternoon in the park.")
    board = chess.Board(fen)
    if roll == 1:
        return answer("MOVE: Ke9")
    if roll == 2:
        return answer("")
    move = sorted(board.legal_moves, key=lambda m: m.uci())[0]
    return answer(f"MOVE: {board.san(move)}")


@pytest.mark.parametrize("policy", ["random", "forfeit"])
def test_nonsense_model_gets_a_recorded_result(arena: Run, tmp_path: Path, policy: str) -> None:
    db = tmp_path / "llm.db"
    with FakeLLMServer(default=mostly_nonsense) as server:
        white = f"openai:tiny@{server.openai_url},on_illegal={policy},tries=2,retries=1"
        proc = arena(
            "play", "--headless", "--white", white, "--black", "stockfish:depth=2",
            "--max-plies", "16", "--json", "--db", str(db), "--no-speculation",
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["illegal_attempts"] > 0
    con = sqlite3.connect(db)
    stored = con.execute("select count(*) from attempts").fetchone()[0]
    if policy == "random":
        # The random fallback keeps the game going to the ply limit, unless Stockfish mates first.
        assert out["termination"] in ("max plies", "checkmate"), out["termination"]
        assert out["plies"] == 16 or out["termination"] == "checkmate"
        flagged = con.execute("select count(*) from plies where flagged is not null").fetchone()[0]
        assert flagged > 0
        assert stored == out["illegal_attempts"]
    else:
        assert out["termination"] == "forfeit: illegal move" and out["result"] == "0-1"
    assert "sk-" not in db.read_bytes().decode("latin-1")


def test_llm_vs_llm_with_llm_speculators_hits(arena: Run, tmp_path: Path) -> None:
    from tests.fakes.servers import chess_responder

    with FakeLLMServer(default=chess_responder(delay=0.05, guess_delay=0.0)) as server:
        spec = f"openai:fake@{server.openai_url}"
        proc = arena(
            "play", "--headless", "--white", spec, "--black", spec, "--speculator", spec,
            "--max-plies", "10", "--json", "--db", str(tmp_path / "x.db"),
            env={"OPENAI_API_KEY": "sk-test-" + "x" * 40},
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["plies"] == 10
    assert out["hits"] > 0 and out["hit_rate"] > 0
    assert out["usage"]["white"]["input_tokens"] > 0
    assert "sk-test" not in (tmp_path / "x.db").read_bytes().decode("latin-1")
    assert "sk-test" not in proc.stderr + proc.stdout


def test_provider_failure_ends_with_error_and_resume_continues(arena: Run, tmp_path: Path) -> None:
    from tests.fakes.servers import chess_responder, http_error

    db = str(tmp_path / "r.db")
    good = chess_responder()
    plies = {"n": 0}

    def flaky(request: Recorded) -> Behaviour:
        plies["n"] += 1
        return good(request) if plies["n"] <= 3 else http_error(500)

    with FakeLLMServer(default=flaky) as server:
        white = f"openai:m@{server.openai_url},retries=1,backoff=0.01"
        first = arena(
            "play", "--headless", "--white", white, "--black", "stockfish:depth=2",
            "--max-plies", "12", "--json", "--db", db, "--no-speculation",
        )  # fmt: skip
        assert first.returncode == 1, first.stderr
        out = json.loads(first.stdout)
        assert out["termination"].startswith("error: openai")
        assert out["result"] == "*"
        assert out["plies"] == 6  # three good White moves, each answered by Black
        plies["n"] = -100  # the provider recovers
        again = arena("resume", out["match_id"], "--headless", "--json", "--db", db)
        assert again.returncode == 0, again.stderr
        resumed = json.loads(again.stdout)
        assert resumed["moves"][:6] == out["moves"]
        assert resumed["plies"] == 12 and resumed["termination"] == "max plies"
        done = arena("resume", out["match_id"], "--headless", "--db", db)
        assert done.returncode == 2 and "is finished" in done.stderr
        longer = arena(
            "resume", out["match_id"], "--headless", "--json", "--db", db, "--max-plies", "14"
        )
    assert longer.returncode == 0, longer.stderr
    assert json.loads(longer.stdout)["moves"][:12] == resumed["moves"]
    assert json.loads(longer.stdout)["plies"] == 14
