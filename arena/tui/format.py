"""Small text helpers shared by the widgets (no Textual here)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

import chess
import chess.pgn

from arena.core.actor import Usage
from arena.core.game import GameState, Side

SIDE_NAMES = ("White", "Black")


def side_name(side: Side, state: GameState | None = None) -> str:
    """`White` / `Black`, or the game's own names for a state of another game (`X` / `O` in
    Connect Four; in Othello and checkers Black moves first)."""
    if state is None:
        return SIDE_NAMES[side]
    return state.side_name(side).capitalize()


def move_texts(state: GameState, moves: Sequence[str]) -> list[str]:
    """`moves` played from `state`, each in the game's readable notation (SAN in chess); a move
    that is not legal where it comes is shown as given, and so are the ones after it."""
    out: list[str] = []
    for i, move in enumerate(moves):
        if not state.is_legal(move):
            out.extend(moves[i:])
            break
        out.append(state.format_move(move))
        state = state.apply(move)
    return out


def move_line(state: GameState, moves: Sequence[str]) -> str:
    """`move_texts` as one line."""
    return " ".join(move_texts(state, moves))


def seconds(value: float | None) -> str:
    """`0.42s`, `12.3s`, `2m05s`; an em dash for unknown."""
    if value is None:
        return "—"
    if value < 10:
        return f"{value:.2f}s"
    if value < 120:
        return f"{value:.1f}s"
    minutes, secs = divmod(round(value), 60)
    return f"{minutes}m{secs:02d}s"


def saving(saved_s: float, saved_pct: float) -> str:
    """`saved 2.40s (20%)`, or `lost 1.10s (-9%)` when speculation cost time (the ledger's
    saving: the same match without speculation against the wall clock)."""
    if saved_s < -0.005:  # less than the figures' last digit reads as nothing saved
        return f"lost {seconds(-saved_s)} ({percent(saved_pct)})"
    if saved_s < 0:
        return f"saved {seconds(0.0)} (0%)"
    return f"saved {seconds(saved_s)} ({percent(saved_pct)})"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def tokens(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 10_000:
        return f"{count / 1000:.0f}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return f"{count:,}"


def cost(usd: float | None) -> str:
    if usd is None:
        return "$?"
    if usd == 0:
        return "$0"
    return f"${usd:.4f}" if usd < 1 else f"${usd:.2f}"


def usage_line(usage: Usage) -> str:
    """`1.2k tok · $0.0123` (input and output tokens together)."""
    return f"{tokens(usage.tokens)} tok · {cost(usage.cost_usd)}"


def san(board: chess.Board, uci: str) -> str:
    """SAN of `uci` on `board`, or the UCI text if it does not parse there."""
    try:
        return board.san(chess.Move.from_uci(uci))
    except (ValueError, AssertionError):
        return uci


def san_line(board: chess.Board, moves: tuple[str, ...] | list[str]) -> str:
    """SAN of a sequence of UCI moves played from `board` (which is not changed)."""
    board = board.copy(stack=False)
    out: list[str] = []
    for uci in moves:
        out.append(san(board, uci))
        try:
            board.push(chess.Move.from_uci(uci))
        except ValueError:
            break
    return " ".join(out)


def board_at(start_fen: str, moves: tuple[str, ...] | list[str]) -> chess.Board:
    """The board after `moves` (UCI) from `start_fen`."""
    board = chess.Board(start_fen)
    for uci in moves:
        board.push(chess.Move.from_uci(uci))
    return board


ENGINE_LEVELS = (
    ("depth", "d{}"),
    ("movetime", "{}ms"),
    ("nodes", "{} nodes"),
    ("skill", "skill {}"),
    ("elo", "elo {}"),
)
"""The options that say how strong an engine plays, in the order a short name shows them."""


def short_name(spec: str) -> str:
    """A player spec as a person says it: the model, the engine and its level, a trace's game.

    `openai:gpt-5-mini,reasoning_effort=low` is `gpt-5-mini`, `stockfish:depth=6,skill=5` is
    `stockfish d6 skill 5`, `trace:/x/gpt5-4c277d18.jsonl` is `gpt5-4c277d18`; a profile name
    stays as it is.
    """
    kind, sep, rest = spec.partition(":")
    if not sep:
        return spec
    target = rest.partition(",")[0]
    if kind == "trace":
        return PurePath(target).stem or target
    if kind in ("openai", "anthropic"):
        return target.partition("@")[0] or kind
    if kind in ("stockfish", "uci"):
        name = "stockfish" if kind == "stockfish" else PurePath(target).name or "uci"
        values = dict(o.partition("=")[::2] for o in rest.split(",") if "=" in o)
        levels = [form.format(values[key]) for key, form in ENGINE_LEVELS if key in values]
        return " ".join([name, *levels[:2]])
    return kind


def pgn_of(start_fen: str, moves: Sequence[str], white: str, black: str, result: str = "*") -> str:
    """The game as PGN: `moves` (UCI) played from `start_fen`."""
    board = chess.Board(start_fen)
    for uci in moves:
        board.push(chess.Move.from_uci(uci))
    game = chess.pgn.Game.from_board(board)
    game.headers["White"] = white
    game.headers["Black"] = black
    game.headers["Result"] = result
    game.headers["Event"] = "arena"
    return str(game) + "\n"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 ply`, `2 plies`, `0 moves`."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {plural or ('plies' if noun == 'ply' else noun + 's')}"


PIECE_VALUES = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9}
CAPTURED_GLYPHS = {
    chess.PAWN: "♟",
    chess.KNIGHT: "♞",
    chess.BISHOP: "♝",
    chess.ROOK: "♜",
    chess.QUEEN: "♛",
}


def captured(start_fen: str, fen: str) -> tuple[str, str]:
    """What White and Black have taken since `start_fen`, as glyphs (queens first) with the
    material lead of the side ahead, e.g. `("♞♟ +2", "♟")`."""
    start, now = chess.Board(start_fen), chess.Board(fen)
    taken: list[str] = []
    material = []
    for color in (chess.BLACK, chess.WHITE):  # White takes Black's pieces, and the other way
        glyphs = ""
        for piece in sorted(PIECE_VALUES, key=PIECE_VALUES.__getitem__, reverse=True):
            missing = len(start.pieces(piece, color)) - len(now.pieces(piece, color))
            glyphs += CAPTURED_GLYPHS[piece] * max(0, missing)
        taken.append(glyphs)
        material.append(sum(len(now.pieces(p, color)) * v for p, v in PIECE_VALUES.items()))
    lead = material[1] - material[0]  # White's material minus Black's
    white, black = taken
    if lead > 0:
        white = f"{white} +{lead}".strip()
    elif lead < 0:
        black = f"{black} +{-lead}".strip()
    return white, black
