"""`arena tournament` as a user runs it: a rated round robin, list/show/export, resume after
SIGKILL in the middle of games, limits that stop a tournament, and rating any PGN."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import chess.pgn
import pytest

from arena.tournament.ratings import ScoredGame, expected_score
from tests.e2e.conftest import Run
from tests.fakes.servers import FakeLLMServer, chess_responder
from tests.unit.test_tournament_ratings import _by_hand

pytestmark = pytest.mark.slow


def read_pgn(text: str) -> list[chess.pgn.Game]:
    handle = io.StringIO(text)
    games = []
    while (game := chess.pgn.read_game(handle)) is not None:
        games.append(game)
    return games


def test_round_robin_rates_every_player_and_exports_its_games(arena: Run, tmp_path: Path) -> None:
    run = arena(
        "tournament", "run", "--player", "random", "--player", "random:seed=7",
        "--player", "stockfish:depth=1", "--games-per-pair", "2", "--max-plies", "30",
        "--no-speculation", "--concurrency", "3", "--json",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["games_played"] == 6 and out["stopped_by"] is None
    assert {s["player"] for s in out["standings"]} == {
        "random",
        "random:seed=7",
        "stockfish:depth=1",
    }
    for s in out["standings"]:
        assert s["games"] == 4 and s["elo"] is not None and s["ci95"] is not None
        assert s["wins"] + s["draws"] + s["losses"] == 4
    assert set(out["speculation"]) >= {"saved_s", "saved_pct", "token_overhead_pct"}
    assert "virtual draw" in out["rating"]["prior"]
    tid = out["tournament_id"]
    assert f"tournament {tid}" in run.stderr

    listed = json.loads(arena("tournament", "list", "--json").stdout)
    assert [t["tournament_id"] for t in listed] == [tid]
    assert listed[0]["status"] == "finished" and listed[0]["games_played"] == 6
    shown = json.loads(arena("tournament", "show", tid[:4], "--json").stdout)
    assert shown["standings"] == out["standings"]
    assert "crosstable" in shown and shown["crosstable"]["random"]["random:seed=7"]
    text = arena("tournament", "show", tid).stdout
    assert "elo" in text and "random:seed=7" in text

    export = arena("tournament", "export", tid, "--format", "pgn", "--out", "t.pgn")
    assert export.returncode == 0, export.stderr
    games = read_pgn((tmp_path / "t.pgn").read_text())
    assert len(games) == 6
    for g in games:
        h = g.headers
        assert h["Event"].startswith("Arena roundrobin") and h["Round"] and h["Opening"]
        assert h["Result"] in ("1-0", "0-1", "1/2-1/2") and h["FEN"]
        assert not g.errors
    # The export rates like the tournament (rate reads any PGN).
    rated = json.loads(arena("tournament", "rate", "t.pgn", "--anchor", "random", "--json").stdout)
    by_rate = {s["player"]: s["elo"] for s in rated["standings"]}
    assert by_rate == pytest.approx({s["player"]: s["elo"] for s in out["standings"]}, abs=0.11)


def _games(db: Path) -> dict[int, tuple[str, str, tuple[str, ...], str | None]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT g.n, g.white, g.black, m.id, m.result FROM tournament_games g"
            " JOIN matches m ON m.id = g.match_id ORDER BY g.n"
        ).fetchall()
        out = {}
        for n, white, black, match_id, result in rows:
            moves = tuple(
                r[0]
                for r in conn.execute(
                    "SELECT move FROM plies WHERE match_id = ? ORDER BY ply", (match_id,)
                )
            )
            out[n] = (white, black, moves, result)
    return out


TOURNAMENT = (
    "tournament", "run", "--player", "stockfish:depth=5", "--player", "random:seed=3",
    "--player", "stockfish:depth=3", "--games-per-pair", "2", "--max-plies", "40",
    "--no-speculation", "--concurrency", "2", "--seed", "11", "--json",
)  # fmt: skip


def test_sigkill_in_the_middle_of_games_then_resume_plays_the_same_games(
    arena: Run, tmp_path: Path
) -> None:
    reference = arena(*TOURNAMENT, env={"ARENA_DB": str(tmp_path / "reference.db")})
    assert reference.returncode == 0, reference.stderr
    expected = _games(tmp_path / "reference.db")
    assert len(expected) == 6

    db = tmp_path / "killed.db"
    env = {**os.environ, "ARENA_DB": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "arena", *TOURNAMENT],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    killed_mid_game = False
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
            if not db.exists():
                continue
            try:
                with sqlite3.connect(db, timeout=0.5) as conn:
                    running = conn.execute(
                        "SELECT COUNT(*) FROM matches m WHERE m.status = 'running' AND"
                        " (SELECT COUNT(*) FROM plies p WHERE p.match_id = m.id) >= 4"
                    ).fetchone()[0]
                    finished = conn.execute(
                        "SELECT COUNT(*) FROM matches WHERE status = 'finished'"
                    ).fetchone()[0]
            except sqlite3.Error:
                continue
            if running and finished >= 1:
                proc.send_signal(signal.SIGKILL)
                killed_mid_game = True
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert killed_mid_game, "the tournament ended before it could be killed mid-game"

    with sqlite3.connect(db) as conn:
        tid = conn.execute("SELECT id FROM tournaments").fetchone()[0]
    listed = json.loads(arena("tournament", "list", "--json", env={"ARENA_DB": str(db)}).stdout)
    assert listed[0]["status"] == "interrupted"
    assert listed[0]["resume"] == f"arena tournament resume {tid}"

    resumed = arena("tournament", "resume", tid, "--json", env={"ARENA_DB": str(db)})
    assert resumed.returncode == 0, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["games_played"] == 6 and out["status"] == "finished"
    assert _games(db) == expected  # the same games, none twice, the interrupted one continued
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM matches").fetchone()[0] == 6
        restarted = conn.execute(
            "SELECT COUNT(*) FROM (SELECT match_id FROM events WHERE kind = 'MatchStarted'"
            " GROUP BY match_id HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    assert restarted >= 1  # a match resumed from its stored plies, not started again


def test_max_wall_stops_the_tournament_and_says_so(arena: Run) -> None:
    run = arena(
        "tournament", "run", "--player", "random", "--player", "random:seed=2",
        "--max-wall", "0", "--no-speculation", "--json",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["games_played"] == 0 and out["stopped_by"] == "max_wall"
    assert out["status"] == "stopped"
    assert "stopped by max_wall" in run.stderr


def test_budget_stops_a_model_tournament_before_the_next_game(arena: Run) -> None:
    with FakeLLMServer(default=chess_responder()) as server:
        prices = "price_in=1000,price_out=1000,retries=0,timeout=10"
        one = f"openai:m1@{server.openai_url},{prices}"
        two = f"openai:m2@{server.openai_url},{prices}"
        run = arena(
            "tournament", "run", "--player", one, "--player", two, "--games-per-pair", "4",
            "--max-plies", "4", "--no-speculation", "--concurrency", "1",
            "--budget-usd", "0.0001", "--json",
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    # The first game starts (nothing is known of its cost); it spends the budget, so no other.
    assert out["games_played"] == 1 and out["stopped_by"] == "budget_usd"
    assert out["cost_usd"] > 0.0001


def test_bad_tournament_input_is_one_line(arena: Run) -> None:
    for args, words in [
        (("--player", "random"), "at least two players"),
        (("--player", "random", "--player", "random"), "two players are named"),
        (("--player", "random", "--player", "nosuch:x"), "unknown spec"),
        (("--player", "random", "--player", "stockfish", "--sprt", "5,0"), "--sprt"),
        (("--player", "random", "--player", "stockfish", "--openings", "none.epd"), "openings"),
    ]:
        run = arena("tournament", "run", *args)
        assert run.returncode == 2, (args, run.stderr)
        assert words in run.stderr and run.stderr.count("\n") == 1, run.stderr
    missing = arena("tournament", "resume", "nope")
    assert missing.returncode == 2


def test_rate_a_pgn_of_hundreds_of_games_matches_a_fit_by_hand(arena: Run, tmp_path: Path) -> None:
    rng = random.Random(3)
    truth = {"alpha": 0, "beta": 120, "gamma": -80, "delta": 200, "eps": 40, "zeta": -150}
    names = list(truth)
    games: list[ScoredGame] = []
    text = io.StringIO()
    for _ in range(25):
        for i, w in enumerate(names):
            for b in names[i + 1 :]:
                if rng.random() < 0.4:
                    continue
                white, black = (w, b) if rng.random() < 0.5 else (b, w)
                p = expected_score(truth[white] - truth[black])
                u = rng.random()
                score = 1.0 if u < p - 0.1 else 0.5 if u < p + 0.1 else 0.0
                result = {1.0: "1-0", 0.5: "1/2-1/2", 0.0: "0-1"}[score]
                games.append(ScoredGame(white=white, black=black, score=score))
                print(
                    f'[Event "test"]\n[White "{white}"]\n[Black "{black}"]\n'
                    f'[Result "{result}"]\n\n1. e4 e5 {result}\n',
                    file=text,
                )
    print('[White "alpha"]\n[Black "beta"]\n[Result "*"]\n\n1. d4 *\n', file=text)
    assert 200 <= len(games) <= 400
    (tmp_path / "many.pgn").write_text(text.getvalue())
    run = arena("tournament", "rate", "many.pgn", "--anchor", "alpha", "--prior", "0", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["games_played"] == len(games) and out["games_skipped"] == 1
    hand = _by_hand(games, names, "alpha")
    rows = {s["player"]: s for s in out["standings"]}
    for name in names:
        assert rows[name]["elo"] == pytest.approx(hand[name], abs=0.06)
        assert rows[name]["ci95"] is not None
    # Differences between any two players match too (what an anchor cannot change).
    assert rows["delta"]["elo"] - rows["beta"]["elo"] == pytest.approx(
        hand["delta"] - hand["beta"], abs=0.1
    )
    table = arena("tournament", "rate", "many.pgn").stdout
    assert "delta" in table and "virtual draw" in table
