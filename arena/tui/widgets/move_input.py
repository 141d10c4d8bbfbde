"""Where a person types a move, in SAN or UCI, with completion of the legal SAN moves."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from arena.games.chess import ChessState


class LegalMove(Validator):
    """Accepts a legal move of `state` in SAN or UCI."""

    def __init__(self) -> None:
        super().__init__()
        self.state: ChessState | None = None

    def validate(self, value: str) -> ValidationResult:
        if self.state is None:
            return self.failure("not your move")
        if not value.strip():
            return self.failure("type a move, e.g. e4 or Nf3 (or e2e4)")
        if self.state.parse_move(value) is None:
            return self.failure(f"illegal move: {value.strip()}")
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
    def state(self) -> ChessState | None:
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

    def ask(self, state: ChessState) -> None:
        """Enables the input for `state` and focuses it."""
        self._validator.state = state
        entry = self.query_one(Input)
        board = state.board
        sans = sorted(board.san(m) for m in board.legal_moves)
        entry.suggester = SuggestFromList(sans, case_sensitive=True)
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
        move = state.parse_move(event.value)
        if move is None:
            self.set_error(f"illegal move: {event.value.strip()}")
            return
        self.set_error("")
        self.post_message(self.MoveEntered(self, move, event.value.strip()))
