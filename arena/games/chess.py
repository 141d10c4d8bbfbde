"""Chess on python-chess, as an immutable `GameState`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property

import chess

from arena.core.errors import ArenaError
from arena.core.game import Outcome, Side

START_FEN = chess.STARTING_FEN

_TERMINATIONS = {
    chess.Termination.CHECKMATE: "checkmate",
    chess.Termination.STALEMATE: "stalemate",
    chess.Termination.INSUFFICIENT_MATERIAL: "insufficient material",
    chess.Termination.SEVENTYFIVE_MOVES: "fifty-move rule",
    chess.Termination.FIFTY_MOVES: "fifty-move rule",
    chess.Termination.FIVEFOLD_REPETITION: "threefold repetition",
    chess.Termination.THREEFOLD_REPETITION: "threefold repetition",
}

_DECORATIONS = re.compile(r"[!?+#]+$")
_MOVE_NUMBER = re.compile(r"^\d+\.+")


class ChessState:
    """A chess position together with the moves that reached it from the match's start."""

    __slots__ = ("__dict__", "_board", "_path", "_start_fen")

    def __init__(self, board: chess.Board, start_fen: str, path: tuple[str, ...]) -> None:
        self._board = board
        self._start_fen = start_fen
        self._path = path

    @classmethod
    def from_fen(cls, fen: str | None = None) -> ChessState:
        """The start of a match; a malformed or impossible FEN is an `ArenaError`."""
        fen = (fen or START_FEN).strip()
        try:
            board = chess.Board(fen)
        except ValueError as exc:
            raise ArenaError(f"bad FEN {fen!r}: {exc}") from None
        status = board.status()
        if status != chess.STATUS_VALID:
            problems = [(f.name or "").lower() for f in chess.Status if f and f in status]
            raise ArenaError(f"bad FEN {fen!r}: {', '.join(problems) or 'invalid position'}")
        return cls(board, board.fen(), ())

    @classmethod
    def from_moves(cls, start_fen: str, moves: Sequence[str]) -> ChessState:
        state = cls.from_fen(start_fen)
        for move in moves:
            if not state.is_legal(move):
                raise ArenaError(f"illegal move {move!r} at ply {state.ply}")
            state = state.apply(move)
        return state

    @property
    def board(self) -> chess.Board:
        """A copy of the board (the state itself never changes)."""
        return self._board.copy()

    @property
    def start_fen(self) -> str:
        return self._start_fen

    @property
    def to_move(self) -> Side:
        return 0 if self._board.turn == chess.WHITE else 1

    @property
    def ply(self) -> int:
        return len(self._path)

    @property
    def path(self) -> tuple[str, ...]:
        return self._path

    @cached_property
    def _legal(self) -> tuple[str, ...]:
        return tuple(m.uci() for m in self._board.legal_moves)

    def legal_moves(self) -> Sequence[str]:
        return self._legal

    def is_legal(self, move: str) -> bool:
        return move in self._legal

    def apply(self, move: str) -> ChessState:
        board = self._board.copy()
        board.push(chess.Move.from_uci(move))
        return ChessState(board, self._start_fen, (*self._path, move))

    @cached_property
    def _outcome(self) -> Outcome | None:
        result = self._board.outcome(claim_draw=True)
        if result is None:
            return None
        winner = None if result.winner is None else (0 if result.winner == chess.WHITE else 1)
        return Outcome(result.result(), _TERMINATIONS[result.termination], winner)

    def outcome(self) -> Outcome | None:
        return self._outcome

    def key(self) -> str:
        return f"{self._start_fen}|{' '.join(self._path)}"

    def position(self) -> str:
        return self._board.fen()

    @cached_property
    def san_history(self) -> tuple[str, ...]:
        board = chess.Board(self._start_fen)
        out = []
        for uci in self._path:
            move = chess.Move.from_uci(uci)
            out.append(board.san(move))
            board.push(move)
        return tuple(out)

    def text(self) -> str:
        side = "White" if self.to_move == 0 else "Black"
        return f"{self._board.unicode(empty_square='.')}\nFEN: {self.position()}\n{side} to move"

    def parse_move(self, text: str) -> str | None:
        token = _MOVE_NUMBER.sub("", text.strip().strip(".,;:`'\"()[]")).strip()
        token = _DECORATIONS.sub("", token).replace("0-0-0", "O-O-O").replace("0-0", "O-O")
        if not token:
            return None
        if re.fullmatch(r"[a-h][1-8][a-h][1-8][qrbnQRBN]?", token):
            uci = token.lower()
            return uci if uci in self._legal else None
        try:
            return self._board.parse_san(token).uci()
        except ValueError:
            return None

    def format_move(self, move: str, notation: str = "san") -> str:
        if notation == "uci":
            return move
        parsed = chess.Move.from_uci(move)
        if notation == "lan":
            return self._board.lan(parsed)
        return self._board.san(parsed)

    def side_name(self, side: Side) -> str:
        return "white" if side == 0 else "black"

    def last_move(self) -> str | None:
        return self._path[-1] if self._path else None

    def is_check(self) -> bool:
        return self._board.is_check()

    def __repr__(self) -> str:
        return f"ChessState({self.position()!r}, ply={self.ply})"
