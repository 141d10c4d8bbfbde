"""Small modal screens: a yes/no question and the key help."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from arena.tui.speculation_model import LABELS

LEGEND = """\
[b]What speculation is[/b]
While one side thinks, the other side waits. Its [i]speculator[/i] guesses the coming move, and \
its player starts on a reply to each guess at once (it [i]pre-thinks[/i]). If a guess comes true, \
the reply is already done or under way: it is played at once (⚡ in the moves) and the time it \
would have taken is [i]saved[/i]. If not, the replies are dropped. The game is the same as without \
speculation: a reply is only used for the exact position it was computed for.

[b]The speculation panel[/b]
  [b]ply 5: Black guesses White's move[/b]
      Black waits while White thinks about its 5th ply
  #1 Nf3  42% ████
      Black's likeliest guess, and how likely Black thinks it is
  hit ✓ or miss
      once White has played: was this the move?
  ↳ then e5
      (--depth 2) a guessed answer too: White pre-thinks two plies ahead
  ✓ Black predicted White's move Nf3 (#1, 42%) — reply was ready, 1.00s saved
      what came of it, in words ("lost" when speculation cost time)
{labels}
[b]The latency panel[/b]
  [b]think[/b] is how long a move's decision took, [b]wait[/b] how long the board waited for it, \
and [b]saved[/b] the difference, for moves played from a pre-computed reply (⚡).
  [b]took … · without speculation …[/b]: the wall clock against the same match with speculation \
off (the sum of the thinking times); [b]saved[/b] or [b]lost[/b] is the difference. A person's \
thinking is never pre-thought and never counted.
  [b]guessed[/b]: plies whose move was among the guesses in time; [b]instant[/b]: plies played \
from a pre-computed reply.
"""

KEYS = """\
[b]Watching a match[/b]
  space / p   pause or resume (takes effect before the next turn)
  ← →         step back and forth through the moves (the game goes on); end: back to live
  f           flip the board
  s t l m     show or hide the speculation, latency, event and move panels (on a short
              terminal t and l switch between the Timing and Events tabs)
  > <         faster or slower playback of recorded (trace) games
  c / C       copy the position (FEN) / the game (PGN) to the clipboard
  escape      back home (asks first while the match runs; it is saved either way)
  q, ctrl+c   quit (the game is saved up to the last ply either way)
  ctrl+t      next theme: dark, light, monochrome (ARENA_THEME=dark|light|mono at start)

[b]Playing[/b]
  type a move in SAN (Nf3, nf3, O-O, exd5, e8=Q) or UCI (g1f3, e7e8q), then enter;
  → accepts the completion; a pawn reaching the last rank needs its piece (=Q, =N, …)
  or pick squares on the board: click, or arrows and enter (shift+tab moves to the board)
  escape leaves the move box so the keys above work; tab goes back to it

[b]Replays[/b]
  ← → ↑ ↓ step through plies, page up / down ten at a time, home / end jump,
  e export PGN, escape back; in the list: enter opens, / filters, o sorts (O reverses)
"""


def legend_labels() -> str:
    """The branch words of the speculation panel, each with its meaning (one table)."""
    lines = [f"  {label.word:<13} {label.meaning}" for label in LABELS.values()]
    return "\n[b]Each guess's reply[/b]\n" + "\n".join(lines) + "\n"


HELP_TEXT = LEGEND.format(labels=legend_labels()) + "\n" + KEYS


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
            with VerticalScroll(id="help-scroll"):
                yield Static(HELP_TEXT, id="help-text")
            yield Label("escape closes · ↑ ↓ scroll", id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
