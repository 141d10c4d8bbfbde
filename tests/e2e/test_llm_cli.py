"""LLM players from the command line, against a loopback OpenAI-compatible server."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import chess
import pytest

from tests.e2e.conftest import Run
from tests.fakes.servers import (
    Behaviour,
    FakeLLMServer,
    Recorded,
    answer,
    answer_limit,
    fen_in,
    prompt_tokens,
    ramble,
    sent_key,
)

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
    assert out["adopted_plies"] > 0 and out["hit_rate"] > 0
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


# -- a local model with a small context (issue 12) ---------------------------------------------


def rambler(request: Recorded) -> Behaviour:
    """A small local model: its first answer thinks aloud until something stops it; told off,
    it names a legal move every other time (and rambles again otherwise)."""
    body = request.json
    retry = any(turn.get("role") == "assistant" for turn in body.get("messages", []))
    fen = fen_in(request.text)
    roll = int(hashlib.sha256(request.body).hexdigest(), 16) % 2
    if not retry or fen is None or roll == 0:
        return ramble()
    board = chess.Board(fen)
    move = sorted(board.legal_moves, key=lambda m: m.uci())[-1]
    return answer(f"Sorry.\nMOVE: {board.san(move)}")


@pytest.mark.parametrize("style", ["vllm", "llama.cpp"])
def test_rambling_model_with_a_4096_token_context_plays_16_plies(
    arena: Run, tmp_path: Path, style: str
) -> None:
    """The first repro of issue 12, without max_tokens: the answers are capped by default, the
    retries stay small, and the match completes instead of ending in `error: HTTP 400`."""
    db = tmp_path / "ctx.db"
    with FakeLLMServer(default=rambler, context=4096, context_style=style) as server:
        white = f"openai:gemma-3-270m@{server.openai_url},on_illegal=random"
        proc = arena(
            "play", "--headless", "--white", white, "--black", "stockfish:depth=2",
            "--max-plies", "16", "--json", "--db", str(db),
        )  # fmt: skip
        # A request whose connection a cancelled speculative branch closed before its body was
        # sent arrives empty or cut: it asked for nothing.
        requests = [r for r in server.requests if _whole_json(r.body)]
        refused = server.refused
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert not out["termination"].startswith("error"), out["termination"]
    assert out["plies"] == 16 or out["termination"] == "checkmate", out
    assert out["illegal_attempts"] > 0  # the rambles were rejected and retried
    assert refused == []  # no request outgrew the context
    assert all(prompt_tokens(r) + (answer_limit(r.json) or 0) <= 4096 for r in requests)
    assert {answer_limit(r.json) for r in requests} == {1024}


# -- keys never stored or printed (issue 12) ----------------------------------------------------


def echoing(request: Recorded) -> Behaviour:
    """A model that repeats the key it was sent, in moves (illegal first) and in guesses."""
    key = sent_key(request)
    fen = fen_in(request.text)
    if fen is None:
        return answer(f"I see your key {key}.")
    board = chess.Board(fen)
    moves = sorted(board.legal_moves, key=lambda m: m.uci())
    if '"moves"' in request.text:
        guesses = [{"move": board.san(m), "p": 0.3, "note": key} for m in moves[:3]]
        return answer(json.dumps({"moves": guesses, "key": key}))
    if "illegal here" not in request.text:
        return answer(f"I see your key {key}. My move: Ke9")
    return answer(f"I see your key {key}. My move: {board.san(moves[0])}")


def test_an_echoed_key_is_never_stored_exported_or_printed(arena: Run, tmp_path: Path) -> None:
    key = "-".join(("sk", "test", "SECRET123", "a1b2c3d4e5"))
    local_key = "-".join(("local", "SECRET456", "f6e5d4"))
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    db = tmp_path / "keys.db"
    with FakeLLMServer(default=echoing) as server:
        (profiles / "echo-local.toml").write_text(
            'kind = "openai"\nmodel = "echo"\n'
            f'base_url = "{server.openai_url}"\napi_key_env = "LOCAL_LLM_KEY"\n'
        )
        env = {"OPENAI_API_KEY": key, "LOCAL_LLM_KEY": local_key, "ARENA_PROFILES": str(profiles)}
        spec = f"openai:echo@{server.openai_url}"
        proc = arena(
            "play", "--headless", "--white", spec, "--black", "echo-local",
            "--speculator", spec, "--max-plies", "8", "--json", "--db", str(db),
            env=env,
        )  # fmt: skip
        sent = {sent_key(r) for r in server.requests}
    assert proc.returncode == 0, proc.stderr
    assert sent == {key, local_key}  # both keys really went to the model
    out = json.loads(proc.stdout)
    assert out["plies"] == 8 and out["illegal_attempts"] > 0
    export = arena("export", out["match_id"], "--format", "json", "--db", str(db), env=env)
    pgn = arena("export", out["match_id"], "--db", str(db), env=env)
    listing = arena("replays", "--json", "--db", str(db), env=env)
    stored = db.read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("keys.db-*") if p.is_file()
    )
    assert b"[redacted]" in stored  # the echoes were kept, masked
    for secret in (key, local_key, "SECRET123", "SECRET456"):
        assert secret.encode() not in stored
        for text in (proc, export, pgn, listing):
            assert secret not in text.stdout + text.stderr
    assert "[redacted]" in export.stdout


def test_a_key_in_an_error_message_is_redacted(arena: Run, tmp_path: Path) -> None:
    from tests.fakes.servers import http_error

    key = "-".join(("sk", "test", "SECRET789", "0a0b0c0d"))
    db = tmp_path / "err.db"
    with FakeLLMServer(default=http_error(500, message=f"upstream rejected key {key}")) as server:
        white = f"openai:echo@{server.openai_url},retries=1,backoff=0.01"
        proc = arena(
            "play", "--headless", "--white", white, "--black", "random",
            "--max-plies", "4", "--json", "--db", str(db), "--no-speculation",
            env={"OPENAI_API_KEY": key},
        )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["termination"].startswith("error: openai: HTTP 500: upstream rejected key")
    assert "[redacted]" in out["termination"]
    assert "SECRET789" not in proc.stdout + proc.stderr
    assert b"SECRET789" not in db.read_bytes()


def test_a_key_over_plain_http_to_another_machine_is_warned(arena: Run, tmp_path: Path) -> None:
    # TEST-NET-1: nothing answers there; the call times out at once.
    white = "openai:m@http://192.0.2.1:9/v1,retries=0,timeout=0.5"
    key = "-".join(("sk", "test", "SECRET000", "11223344"))
    proc = arena(
        "play", "--headless", "--white", white, "--black", "random", "--max-plies", "2",
        "--no-speculation", "--db", str(tmp_path / "w.db"), env={"OPENAI_API_KEY": key},
    )  # fmt: skip
    lines = [line for line in proc.stderr.splitlines() if "clear text" in line]
    assert lines == [
        "arena: warning: OPENAI_API_KEY is sent in clear text to 192.0.2.1 (plain http to "
        "another machine): use https"
    ]
    assert "SECRET000" not in proc.stdout + proc.stderr


def test_move_timeout_from_the_command_line(arena: Run, tmp_path: Path) -> None:
    """A model that never answers: each move runs out of time and a random move is played."""
    from tests.fakes.servers import hang

    db = tmp_path / "slow.db"
    with FakeLLMServer(default=hang(30)) as server:
        white = f"openai:slow@{server.openai_url},move_timeout=0.5,on_illegal=random"
        proc = arena(
            "play", "--headless", "--white", white, "--black", "random:seed=1",
            "--max-plies", "4", "--json", "--db", str(db), "--no-speculation",
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["plies"] == 4 and out["termination"] == "max plies"
    con = sqlite3.connect(db)
    flags = [row[0] for row in con.execute("select flagged from plies where side = 0")]
    assert flags == ["random fallback (out of time)"] * 2


def _whole_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True
