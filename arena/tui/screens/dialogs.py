"""Small modal screens: a yes/no question and the key help."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

HELP_TEXT = """\
[b]Watching a match[/b]
  space / p   pause or resume (takes effect before the next turn)
  f           flip the board
  s           show or hide the speculation panel
  t           show or hide the latency (timing) panel
  l           show or hide the event log
  m           show or hide the move list
  q           quit (the game is saved up to the last ply either way)
  ctrl+t      next theme: dark, light, monochrome (ARENA_THEME=dark|light|mono at start)

[b]Playing[/b]
  type a move in SAN (Nf3, O-O, exd5) or UCI (g1f3), then enter; → accepts the completion
  or pick squares on the board: click, or arrows and enter (shift+tab moves to the board)
  escape leaves the move box so the keys above work; tab goes back to it

[b]Replays[/b]
  ← → step through plies, home / end jump, e export PGN, escape back
"""


class ConfirmScreen(ModalScreen[bool]):
    """Asks a yes/no question; dismisses with True for yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="question")
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class HelpScreen(ModalScreen[None]):
    """The keys, on top of whatever screen is showing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(HELP_TEXT, id="help-text")
            yield Label("escape closes", id="help-hint")

    def action_close(self) -> None:
        self.dismiss(None)
