"""Chess on python-chess: notation, immutability, keys and every termination."""

from __future__ import annotations

import pytest

from arena.core.errors import ArenaError
from arena.games.chess import ChessState


def play(*moves: str, fen: str | None = None) -> ChessState:
    state = ChessState.from_fen(fen)
    for move in moves:
        parsed = state.parse_move(move)
        assert parsed is not None, move
        state = state.apply(parsed)
    return state


def test_parse_san_and_uci_and_decorations() -> None:
    s = ChessState.from_fen()
    assert s.parse_move("e4") == "e2e4"
    assert s.parse_move("e2e4") == "e2e4"
    assert s.parse_move("1. Nf3!") == "g1f3"
    assert s.parse_move("  Nc3,") == "b1c3"
    assert s.parse_move("Ke2") is None
    assert s.parse_move("e2e5") is None
    assert s.parse_move("") is None
    castle = play("e4", "e5", "Nf3", "Nc6", "Bc4", "Bc5")
    assert castle.parse_move("0-0") == "e1g1" == castle.parse_move("O-O")
    assert castle.format_move("e1g1") == "O-O"
    promo = ChessState.from_fen("8/P7/8/8/8/8/8/k6K w - - 0 1")
    assert promo.parse_move("a8=Q") == "a7a8q" == promo.parse_move("a7a8q")


def test_states_are_immutable_and_keys_include_history() -> None:
    s = ChessState.from_fen()
    t = s.apply("g1f3")
    assert s.ply == 0 and t.ply == 1 and s.path == () and t.path == ("g1f3",)
    # Same position by two move orders: different keys (a prompt may show the history).
    a = play("Nf3", "Nf6", "Nc3", "Nc6")
    b = play("Nc3", "Nc6", "Nf3", "Nf6")
    assert a.position() == b.position()
    assert a.key() != b.key()
    assert a.key() == play("Nf3", "Nf6", "Nc3", "Nc6").key()
    assert a.san_history == ("Nf3", "Nf6", "Nc3", "Nc6")
    board = a.board
    board.push_uci("e2e4")
    assert a.position() != board.fen()


@pytest.mark.parametrize(
    ("state", "result", "termination"),
    [
        (play("f3", "e5", "g4", "Qh4"), "0-1", "checkmate"),
        (ChessState.from_fen("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1"), "1/2-1/2", "stalemate"),
        (ChessState.from_fen("8/8/8/8/8/8/8/k6K w - - 0 1"), "1/2-1/2", "insufficient material"),
        (
            play("Nf3", "Nf6", "Ng1", "Ng8", "Nf3", "Nf6", "Ng1", "Ng8"),
            "1/2-1/2",
            "threefold repetition",
        ),
        (play("Kh2", fen="7k/8/8/8/8/8/8/R6K w - - 99 80"), "1/2-1/2", "fifty-move rule"),
    ],
)
def test_terminations(state: ChessState, result: str, termination: str) -> None:
    outcome = state.outcome()
    assert outcome is not None
    assert (outcome.result, outcome.termination) == (result, termination)


def test_game_in_progress_has_no_outcome() -> None:
    assert play("e4").outcome() is None


@pytest.mark.parametrize(
    "fen",
    [
        "",
        "xx",
        "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR x KQkq - 0 1",
        "8/8/8/8/8/8/8/8 w - - 0 1",
    ],
)
def test_bad_fen_is_a_clear_error(fen: str) -> None:
    if fen == "":
        assert ChessState.from_fen(fen).ply == 0  # empty means the standard start
        return
    with pytest.raises(ArenaError, match="bad FEN"):
        ChessState.from_fen(fen)


def test_from_moves_rejects_illegal_history() -> None:
    start = ChessState.from_fen().position()
    assert ChessState.from_moves(start, ["e2e4", "e7e5"]).ply == 2
    with pytest.raises(ArenaError, match="illegal move"):
        ChessState.from_moves(start, ["e2e4", "e2e4"])
