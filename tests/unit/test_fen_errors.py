"""Bad FENs are one short, true line: a Chess960 position says so; a huge FEN is not echoed."""

from __future__ import annotations

import pytest

from arena.core.errors import ArenaError
from arena.games.chess import ChessState


def test_a_chess960_position_is_named_as_such() -> None:
    fen = "bqnb1rkr/pp3ppp/3ppn2/2p5/5P2/P2P4/NPP1P1PP/BQ1BNRKR w HFhf - 2 9"
    with pytest.raises(ArenaError, match="Chess960 position"):
        ChessState.from_fen(fen)


def test_a_huge_fen_is_quoted_only_in_part() -> None:
    with pytest.raises(ArenaError) as info:
        ChessState.from_fen("x" * 100_000)
    message = str(info.value)
    assert len(message) < 400 and "100000 characters" in message and "\n" not in message


def test_an_impossible_position_names_its_problem() -> None:
    with pytest.raises(ArenaError, match="bad FEN"):
        ChessState.from_fen("8/8/8/8/8/8/8/8 w - - 0 1")
