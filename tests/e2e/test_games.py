"""OpenSpiel games from the command line: play, list, replays with their game, resume, refusals."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Run


@pytest.mark.parametrize("game", ["tic_tac_toe", "connect_four"])
def test_mcts_plays_a_game_headless_with_speculation(arena: Run, game: str) -> None:
    done = arena(
        "play", "--headless", "--game", game, "--white", "mcts:simulations=200",
        "--black", "mcts:simulations=200", "--speculator", "mcts", "--max-plies", "200", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["result"] in ("1-0", "0-1", "1/2-1/2")
    assert out["plies"] == len(out["moves"]) > 0
    assert 0.0 <= out["hit_rate"] <= 1.0  # guesses may arrive too late on a fast game
    listed = json.loads(arena("replays", "--json").stdout)
    assert [(m["id"], m["game"]) for m in listed] == [(out["match_id"], game)]
    exported = json.loads(arena("export", out["match_id"], "--format", "json").stdout)
    assert [p["move"] for p in exported["plies"]] == out["moves"]
    pgn = arena("export", out["match_id"], "--format", "pgn")
    assert pgn.returncode == 2 and "PGN is for chess" in pgn.stderr


def test_default_players_and_speculator_of_a_game_are_mcts(arena: Run) -> None:
    done = arena("play", "--headless", "--game", "tic_tac_toe", "--json")
    assert done.returncode == 0, done.stderr
    assert "MCTS plays both sides" in done.stderr
    assert json.loads(done.stdout)["plies"] >= 5


def test_a_stopped_game_resumes_with_its_game(arena: Run) -> None:
    first = arena(
        "play", "--headless", "--game", "connect_four", "--white", "random", "--black", "mcts",
        "--max-plies", "4", "--json",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    match_id = json.loads(first.stdout)["match_id"]
    again = arena("resume", match_id, "--headless", "--max-plies", "8", "--json")
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert out["plies"] == 8 and out["moves"][:4] == json.loads(first.stdout)["moves"]


def test_games_lists_each_game_with_its_players(arena: Run) -> None:
    done = arena("games", "--json")
    assert done.returncode == 0, done.stderr
    games = {g["spec"]: g for g in json.loads(done.stdout)}
    for name in ("chess", "connect_four", "tic_tac_toe", "othello", "checkers", "breakthrough"):
        assert name in games
    assert "mcts" in games["othello"]["players"] and "stockfish" not in games["othello"]["players"]
    assert games["go"]["default_speculator"] == "mcts" and "kuhn_poker" not in games


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--game", "kuhn_poker"), "chance events"),
        (("--game", "goofspiel"), "simultaneous"),
        (("--game", "connect_four", "--white", "stockfish"), "stockfish does not play"),
        (("--game", "go:board_size=x"), "board_size must be int"),
    ],
)
def test_bad_games_are_one_line_and_exit_2(arena: Run, args: tuple[str, ...], message: str) -> None:
    done = arena("play", "--headless", *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
