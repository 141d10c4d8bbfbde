"""Opening suites: the shipped one, EPD and FEN lines, PGN games; bad files are one line."""

from __future__ import annotations

from pathlib import Path

import chess
import pytest

from arena.core.errors import ArenaError
from arena.tournament.openings import load_openings


def test_the_shipped_suite_is_balanced_and_playable() -> None:
    suite = load_openings()
    assert len(suite) >= 40
    assert len({o.fen for o in suite}) == len(suite)
    for o in suite:
        board = chess.Board(o.fen)
        assert board.is_valid() and not board.is_game_over() and o.name


def test_epd_and_fen_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.epd"
    path.write_text(
        "# a comment\n"
        'rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - id "open game";\n'
        "\n"
        "rnbqkbnr/pp1ppppp/8/2p5/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2\n"
    )
    first, second = load_openings(path)
    assert first.name == "open game" and first.fen.startswith("rnbqkbnr/pppp1ppp/8/4p3")
    assert second.name == "s 4" and second.fen.endswith("w KQkq - 0 2")


def test_pgn_games_give_their_final_positions(tmp_path: Path) -> None:
    path = tmp_path / "book.pgn"
    path.write_text(
        '[Event "?"]\n[Opening "Sicilian"]\n\n1. e4 c5 *\n\n[Event "Book"]\n\n1. d4 d5 2. c4 *\n'
    )
    sicilian, gambit = load_openings(path)
    assert sicilian.name == "Sicilian" and sicilian.fen.startswith("rnbqkbnr/pp1ppppp/8/2p5/4P3")
    assert gambit.name == "Book" and " b " in gambit.fen


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("bad.epd", "not a position\n", "not an EPD"),
        ("empty.epd", "# nothing\n", "no position"),
        ("mate.epd", "7k/6Q1/6K1/8/8/8/8/8 b - - 0 1\n", "not a playable"),
        ("bad.pgn", '[Event "x"]\n\n1. e4 e4 *\n', "game 1"),
    ],
)
def test_bad_suites_are_one_line_errors(tmp_path: Path, name: str, text: str, words: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ArenaError, match=words):
        load_openings(path)
    with pytest.raises(ArenaError, match="cannot read"):
        load_openings(tmp_path / "missing.epd")
