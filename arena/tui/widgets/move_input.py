"""Where a person types a move, in SAN or UCI, with completion of the legal SAN moves (in other
games: the game's move names, with completion of the legal ones)."""

from __future__ import annotations

from typing import ClassVar

import chess
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from arena.core.game import GameState
from arena.games.chess import ChessState

PIECE_LETTERS = "nbrqk"


def read_move(state: GameState, text: str) -> str | None:
    """A legal move (UCI) from what a person typed, in SAN or UCI, whatever the letter case:
    `nc3` is Nc3, `o-o` castles, `e8=q` promotes. A lower-case `b` is a pawn's file first
    (`bxc3`), the bishop only if no pawn move reads so. Other games read their own notations
    (`3` or `x3` in Connect Four)."""
    text = text.strip()
    if not text:
        return None
    if not isinstance(state, ChessState):
        return state.parse_move(text)
    candidates = [text]
    if text[0] in PIECE_LETTERS:
        candidates.append(text[0].upper() + text[1:])
    candidates = [c.replace("o-o", "O-O").replace("O-o", "O-O") for c in candidates]
    candidates += [c[:-1] + c[-1].upper() for c in candidates if "=" in c]
    for candidate in candidates:
        move = state.parse_move(candidate)
        if move is not None:
            return move
    return None


def promotion_hint(state: GameState, text: str) -> str | None:
    """For a pawn move to the last rank typed without its piece (`a8`, `a7a8`), how to write it."""
    if not isinstance(state, ChessState):
        return None
    token = text.strip().lower()
    board = state.board
    promotions = [m for m in board.legal_moves if m.promotion is not None]
    for move in promotions:
        uci = move.uci()
        if token in (uci[:4], chess.square_name(move.to_square)) or (
            "x" in token and token.endswith(chess.square_name(move.to_square))
        ):
            san = board.san(chess.Move(move.from_square, move.to_square, chess.QUEEN))
            return f"promotion needs a piece: {san} (or =R, =B, =N; UCI {uci[:4]}q)"
    return None


def legal_hint(state: GameState, limit: int = 8) -> str:
    """A few legal moves of a game other than chess, to say how its moves are written."""
    moves = list(state.legal_moves())
    shown = " ".join(moves[:limit]) + (" …" if len(moves) > limit else "")
    return f"legal: {shown}"


def san_order(san: str) -> tuple[bool, str]:
    """Completion order: queen promotions before the under-promotions, then alphabetical."""
    return ("=" in san and "=Q" not in san, san)


class LegalMove(Validator):
    """Accepts a legal move of `state` in SAN or UCI (any letter case)."""

    def __init__(self) -> None:
        super().__init__()
        self.state: GameState | None = None

    def validate(self, value: str) -> ValidationResult:
        state = self.state
        if state is None:
            return self.failure("not your move")
        chess_game = isinstance(state, ChessState)
        if not value.strip():
            if chess_game:
                return self.failure("type a move, e.g. e4 or Nf3 (or e2e4)")
            return self.failure(f"type a move; {legal_hint(state)}")
        if read_move(state, value) is None:
            if not chess_game:
                return self.failure(f"illegal move: {value.strip()} ({legal_hint(state)})")
            hint = promotion_hint(state, value)
            return self.failure(hint or f"illegal move: {value.strip()}")
        return self.success()


class MoveInput(Vertical):
    """An input for the human seat's move; enabled only while it is that seat's turn.

    Escape leaves the input, so the screen's single-letter keys (pause, flip, quit) work again.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave move box", show=False),
    ]

    class MoveEntered(Message):
        """A legal move was typed (UCI `move`, as typed in `text`)."""

        def __init__(self, move_input: MoveInput, move: str, text: str) -> None:
            super().__init__()
            self.move_input = move_input
            self.move = move
            self.text = text

        @property
        def control(self) -> MoveInput:
            return self.move_input

    def __init__(
        self, *, blink: bool = True, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._validator = LegalMove()
        self._blink = blink

    @property
    def state(self) -> GameState | None:
        """The state a move is asked for, or None when it is not the person's turn."""
        return self._validator.state

    def compose(self) -> ComposeResult:
        entry = Input(
            placeholder="your move: SAN or UCI, → completes",
            validators=[self._validator],
            validate_on=["submitted"],
            id="move-entry",
            disabled=True,
            compact=True,
        )
        entry.cursor_blink = self._blink
        yield entry
        error = Label("", id="move-error")
        error.display = False
        yield error

    def action_leave(self) -> None:
        self.screen.set_focus(None)

    def ask(self, state: GameState) -> None:
        """Enables the input for `state` and focuses it."""
        self._validator.state = state
        entry = self.query_one(Input)
        if isinstance(state, ChessState):
            board = state.board
            moves = sorted((board.san(m) for m in board.legal_moves), key=san_order)
        else:
            moves = list(state.legal_moves())
            example = moves[0] if moves else "a move"
            entry.placeholder = f"your move, e.g. {example}; → completes"
        entry.suggester = SuggestFromList(moves, case_sensitive=False)
        entry.disabled = False
        entry.value = ""
        entry.focus()
        self.set_error("")

    def done(self) -> None:
        self._validator.state = None
        entry = self.query_one(Input)
        entry.value = ""
        entry.disabled = True

    def set_error(self, message: str) -> None:
        label = self.query_one(Label)
        label.update(message)
        label.set_class(bool(message), "-error")
        label.display = bool(message)

    @on(Input.Changed, "#move-entry")
    def _typing(self, event: Input.Changed) -> None:
        # An old error goes away once the person types again.
        event.stop()
        if self.query_one(Label).display:
            self.set_error("")

    @on(Input.Submitted, "#move-entry")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        state = self._validator.state
        result = event.validation_result
        if state is None:
            return
        if result is not None and not result.is_valid:
            self.set_error("; ".join(result.failure_descriptions))
            return
        move = read_move(state, event.value)
        if move is None:
            self.set_error(f"illegal move: {event.value.strip()}")
            return
        self.set_error("")
        self.post_message(self.MoveEntered(self, move, event.value.strip()))
