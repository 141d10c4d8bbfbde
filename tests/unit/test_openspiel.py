"""OpenSpiel games as immutable GameStates: names, moves, positions, results, refusals."""

from __future__ import annotations

import random

import pytest

from arena.core.errors import ArenaError
from arena.games import load_game, parse_game_spec, replay
from arena.games.openspiel import GAMES, OpenSpielState, playable_games

LISTED = ["connect_four", "tic_tac_toe", "othello", "checkers", "breakthrough"]


def random_game(name: str, seed: int) -> list[OpenSpielState]:
    state = load_game(name).start()
    assert isinstance(state, OpenSpielState)
    states = [state]
    rng = random.Random(seed)
    while state.outcome() is None:
        state = state.apply(rng.choice(list(state.legal_moves())))
        states.append(state)
    return states


@pytest.mark.parametrize("name", LISTED)
def test_random_games_end_with_a_result_from_the_returns(name: str) -> None:
    states = random_game(name, 1)
    end = states[-1]
    outcome = end.outcome()
    assert outcome is not None
    returns = end.pyspiel_state.returns()
    expected = "1-0" if returns[0] > returns[1] else "0-1" if returns[1] > returns[0] else "1/2-1/2"
    assert outcome.result == expected
    assert outcome.winner == {"1-0": 0, "0-1": 1}.get(expected)
    assert end.legal_moves() == ()
    assert all(s.outcome() is None for s in states[:-1])


@pytest.mark.parametrize("name", LISTED)
def test_moves_round_trip_and_positions_rebuild_the_state(name: str) -> None:
    game = load_game(name)
    for state in random_game(name, 2)[:40]:
        moves = state.legal_moves()
        assert len(set(moves)) == len(moves)
        for move in moves:
            assert state.parse_move(move) == move
            assert state.parse_move(f"  {move.upper()} ") == move
            assert state.parse_move("#" + state.format_move(move, "id")) == move
        again = game.start(state.position())
        assert again.key() == state.key() and again.path == state.path
        assert replay(game.start(), state.path).key() == state.key()


def test_states_are_immutable_and_keyed_by_the_path() -> None:
    start = load_game("tic_tac_toe").start()
    child = start.apply("x(1,1)")
    assert start.ply == 0 and start.legal_moves() != child.legal_moves()
    assert child.path == ("x(1,1)",) and child.to_move == 1 and child.ply == 1
    assert start.key() == "tic_tac_toe|" and child.key() == "tic_tac_toe|4"
    assert child.side_name(child.to_move) == "o"
    assert "x" in child.text() and "o to move" in child.text()


def test_readable_spellings_of_a_move() -> None:
    c4 = load_game("connect_four").start()
    assert c4.parse_move("3") == "x3" and c4.parse_move("X3") == "x3"
    ttt = load_game("tic_tac_toe").start()
    assert ttt.parse_move("1,1") == ttt.parse_move("(1, 1)") == "x(1,1)"
    go = load_game("go:board_size=9").start()
    assert go.parse_move("d4") == "B d4" and go.parse_move("pass") == "B PASS"
    assert go.parse_move("z9") is None and c4.parse_move("9") is None and c4.parse_move("") is None


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("kuhn_poker", "chance"),
        ("backgammon", "chance"),
        ("goofspiel", "simultaneous"),
        ("phantom_ttt", "hidden information"),
        ("no_such_game", "unknown game"),
        ("go:board_sizee=9", "unknown parameter 'board_sizee'"),
        ("go:board_size=nine", "board_size must be int"),
        ("chess:depth=3", "chess takes no parameters"),
    ],
)
def test_unplayable_games_are_one_line_saying_why(spec: str, why: str) -> None:
    with pytest.raises(ArenaError, match=why) as info:
        load_game(spec)
    assert "\n" not in str(info.value)


def test_game_specs_and_parameters() -> None:
    assert parse_game_spec("go:board_size=9,komi=6.5") == ("go", {"board_size": "9", "komi": "6.5"})
    assert parse_game_spec("go(board_size=9)") == ("go", {"board_size": "9"})
    game = load_game("go:board_size=9")
    assert game.spec == "go:board_size=9" and not game.is_chess
    assert len(game.start().legal_moves()) == 82
    assert load_game(None).is_chess and load_game("chess").spec == "chess"
    with pytest.raises(ArenaError, match="bad position"):
        game.start("connect_four|3")


def test_every_listed_game_is_playable() -> None:
    names = playable_games()
    assert names[: len(GAMES)] == list(GAMES)
    assert "kuhn_poker" not in names and "chess" not in names
    for name in GAMES:
        assert load_game(name).start().legal_moves()
