"""Chess on python-chess, as an immutable `GameState`."""

from __future__ import annotations

import functools
import re
import weakref
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


TranspositionKey = tuple[int, int, int, int, int, int, int, int, bool, int, int | None]
"""What makes two positions the same for the repetition rules (python-chess's own key)."""


PlacementKey = tuple[int, int, int, int, int, int, int, int, bool, int]
"""Pieces, side to move and castling rights: a position as a FEN's first three fields say."""


def placement_key(board: chess.Board) -> PlacementKey:
    """What a FEN's placement, side and castling fields say (no en passant), as numbers."""
    return _transposition_key(board)[:10]


def _transposition_key(board: chess.Board) -> TranspositionKey:
    return (
        board.pawns,
        board.knights,
        board.bishops,
        board.rooks,
        board.queens,
        board.kings,
        board.occupied_co[chess.WHITE],
        board.occupied_co[chess.BLACK],
        board.turn,
        board.clean_castling_rights(),
        board.ep_square if board.has_legal_en_passant() else None,
    )


@functools.lru_cache(maxsize=4096)
def _rank_fen(cells: str) -> str:
    """One rank of a FEN from its 8 cells (`.` for empty): runs of empty squares as digits."""
    out: list[str] = []
    empty = 0
    for cell in cells:
        if cell == ".":
            empty += 1
            continue
        if empty:
            out.append(str(empty))
            empty = 0
        out.append(cell)
    if empty:
        out.append(str(empty))
    return "".join(out)


def _fen(board: chess.Board) -> str:
    """`board.fen()` (legal en passant squares only), a third of its time: the pieces are
    placed from the bitboards, not looked up square by square, and ranks seen before are
    remembered (a game has few distinct ones)."""
    cells = ["."] * 64
    white, black = board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK]
    for mask, symbol in (
        (board.pawns, "p"),
        (board.knights, "n"),
        (board.bishops, "b"),
        (board.rooks, "r"),
        (board.queens, "q"),
        (board.kings, "k"),
    ):
        upper = symbol.upper()
        bits = mask & white
        while bits:
            square = bits.bit_length() - 1
            cells[square] = upper
            bits ^= 1 << square
        bits = mask & black
        while bits:
            square = bits.bit_length() - 1
            cells[square] = symbol
            bits ^= 1 << square
    text = "".join(cells)
    placement = "/".join([_rank_fen(text[at : at + 8]) for at in range(56, -8, -8)])
    ep = board.ep_square if board.ep_square is not None and board.has_legal_en_passant() else None
    return (
        f"{placement} {'w' if board.turn == chess.WHITE else 'b'} {board.castling_xfen()}"
        f" {'-' if ep is None else chess.SQUARE_NAMES[ep]}"
        f" {board.halfmove_clock} {board.fullmove_number}"
    )


def _child_board(board: chess.Board, move: chess.Move) -> chess.Board:
    """`board` after `move`, keeping only the moves the repetition rules can look at.

    python-chess's repetition checks walk the move stack back to the last irreversible move and
    no further, so a stack cut just before that move gives the same answers, and copying it costs
    what the rules need rather than the whole game.
    """
    if board.is_irreversible(move):
        child = board.copy(stack=False)
    else:
        # Board.copy(stack=True) copies every Move object; they are never mutated, so a shallow
        # copy of both stacks is the same board at a fraction of the cost.
        child = board.copy(stack=False)
        child.move_stack = board.move_stack.copy()
        child._stack = board._stack.copy()
    child.push(move)
    return child


class ChessState:
    """A chess position together with the moves that reached it from the match's start.

    A state is linear in nothing: its board keeps the moves since the last irreversible move
    (all the repetition rules look at), and the positions since then are counted as they come,
    so a new state costs the same at ply 500 as at ply 5.
    """

    __slots__ = ("__dict__", "__weakref__", "_board", "_counts", "_path", "_start_fen", "_tkey")

    def __init__(
        self,
        board: chess.Board,
        start_fen: str,
        path: tuple[str, ...],
        counts: dict[TranspositionKey, int] | None = None,
    ) -> None:
        self._board = board
        self._start_fen = start_fen
        self._path = path
        self._tkey = _transposition_key(board)
        if counts is None:
            counts = {}
        counts[self._tkey] = counts.get(self._tkey, 0) + 1
        self._counts = counts
        """How often each position since the last irreversible move occurred (this one too)."""

    @classmethod
    def from_fen(cls, fen: str | None = None) -> ChessState:
        """The start of a match; a malformed or impossible FEN is an `ArenaError`."""
        fen = (fen or START_FEN).strip()
        # A FEN is about 90 characters; a long one is quoted only in part.
        shown = repr(fen) if len(fen) <= 120 else f"{fen[:60]!r}… ({len(fen)} characters)"
        try:
            board = chess.Board(fen)
        except ValueError as exc:
            raise ArenaError(f"bad FEN {shown}: {str(exc)[:200]}") from None
        status = board.status()
        if status != chess.STATUS_VALID:
            if status & chess.STATUS_BAD_CASTLING_RIGHTS and _is_chess960(fen):
                raise ArenaError(
                    f"FEN {shown} is a Chess960 position (its castling rights name rook files); "
                    "only standard chess is played"
                )
            problems = [(f.name or "").lower() for f in chess.Status if f and f in status]
            raise ArenaError(f"bad FEN {shown}: {', '.join(problems) or 'invalid position'}")
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
        """A copy of the board (the state itself never changes). Its move stack starts at the
        last irreversible move: an engine given it sees every position that can repeat."""
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
        """Whether `move` (UCI, as `legal_moves` spells it) is legal here. Until the legal moves
        are listed, one move is checked alone, not by generating them all, and its answer kept
        (a guess is checked by its speculator, the match, and again if it is played)."""
        legal = self.__dict__.get("_legal")
        if legal is not None:
            return move in legal
        checked: dict[str, bool] | None = self.__dict__.get("_checked")
        if checked is None:
            checked = self.__dict__["_checked"] = {}
        known = checked.get(move)
        if known is None:
            known = checked[move] = self._legal_alone(move)
        return known

    def _legal_alone(self, move: str) -> bool:
        try:
            parsed = chess.Move.from_uci(move)
        except ValueError:
            return False
        board = self._board
        if not parsed or parsed.uci() != move or not board.is_legal(parsed):
            return False
        # python-chess also takes king-takes-rook for castling; the listed spelling is e1g1.
        if board.is_castling(parsed):
            return (
                abs(chess.square_file(parsed.from_square) - chess.square_file(parsed.to_square))
                == 2
            )
        return True

    def apply(self, move: str) -> ChessState:
        # The same state for the same move: a speculative branch's position and the committed
        # one are one object, so what it worked out (legal moves, outcome, FEN) is done once.
        # Weakly held: a state does not keep its game's later states alive.
        children: dict[str, weakref.ref[ChessState]] | None = self.__dict__.get("_children")
        if children is None:
            children = self.__dict__["_children"] = {}
        known = children.get(move)
        child = None if known is None else known()
        parsed = None
        if child is None:
            parsed = chess.Move.from_uci(move)
            board = self._board
            counts = {} if board.is_irreversible(parsed) else self._counts.copy()
            child = ChessState(
                _child_board(board, parsed), self._start_fen, (*self._path, move), counts
            )
            children[move] = weakref.ref(child)
        # A history someone read here (a prompt, the move list) grows by one move, not anew.
        history = self.__dict__.get("san_history")
        if history is not None and "san_history" not in child.__dict__:
            san = self._board.san(parsed or chess.Move.from_uci(move))
            child.__dict__["san_history"] = (*history, san)
        return child

    @cached_property
    def _outcome(self) -> Outcome | None:
        board = self._board
        result = board.outcome(claim_draw=False)
        if result is None:
            if board.can_claim_fifty_moves():
                result = chess.Outcome(chess.Termination.FIFTY_MOVES, None)
            elif self.can_claim_threefold():
                result = chess.Outcome(chess.Termination.THREEFOLD_REPETITION, None)
            else:
                return None
        winner = None if result.winner is None else (0 if result.winner == chess.WHITE else 1)
        return Outcome(result.result(), _TERMINATIONS[result.termination], winner)

    def outcome(self) -> Outcome | None:
        """The outcome, a claimable draw (threefold repetition, fifty moves) included."""
        return self._outcome

    def can_claim_threefold(self) -> bool:
        """python-chess's `can_claim_threefold_repetition`, from the counted positions: this
        position occurred three times, or a legal move reaches one that occurred twice.

        Only a reversible move can reach an earlier position (a capture, a pawn move or a loss of
        castling rights changes what every later position has), and a reversible move changes
        the occupancy of exactly its two squares, so each position seen twice names the one
        move that could lead back to it.
        """
        counts = self._counts
        if counts[self._tkey] >= 3:
            return True
        board = self._board
        occupied = board.occupied
        for key, n in counts.items():
            if n < 2 or key[8] == board.turn:
                continue
            other = key[6] | key[7]
            leaves, enters = occupied & ~other, other & ~occupied
            if chess.popcount(leaves) != 1 or chess.popcount(enters) != 1:
                continue
            move = chess.Move(chess.lsb(leaves), chess.lsb(enters))
            if not board.is_legal(move) or board.is_irreversible(move):
                continue
            board.push(move)
            try:
                if _transposition_key(board) == key:
                    return True
            finally:
                board.pop()
        return False

    @cached_property
    def _key(self) -> str:
        return f"{self._start_fen}|{' '.join(self._path)}"

    def key(self) -> str:
        return self._key

    def placement_key(self) -> PlacementKey:
        """What a FEN's placement, side and castling fields say (no en passant), as numbers."""
        return self._tkey[:10]

    @cached_property
    def _fen(self) -> str:
        return _fen(self._board)

    def position(self) -> str:
        return self._fen

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


def _is_chess960(fen: str) -> bool:
    """True when `fen` is a valid position once read as Chess960 (Shredder or X-FEN castling)."""
    try:
        board = chess.Board(fen, chess960=True)
    except ValueError:
        return False
    return board.status() == chess.STATUS_VALID
