"""The speculation panel: the waiting side's guesses, its reply branches, and what came of them.

It draws `arena.tui.speculation_model` views; the replay viewer draws the same views with the same
row renderer (`guess_lines`), so a ply reads alike live and saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from arena.core.events import Event
from arena.core.game import GameState, Side
from arena.tui.format import seconds, side_name
from arena.tui.speculation_model import GuessRow, PlyView, Shown, SpeculationModel

BAR_WIDTH = 8
BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"
StyleOf = Callable[[str], Style]


def probability_bar(p: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `width` cells filled to `p` (0..1), in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, p)) * width * 8)
    full, rest = divmod(eighths, 8)
    bar = "█" * full + (BAR_EIGHTHS[rest] if rest else "")
    return bar.ljust(width)


def _line() -> Text:
    return Text(no_wrap=True, overflow="ellipsis")


def _row(view: PlyView, row: GuessRow, style: StyleOf, bar: int) -> Text:
    text = _line()
    text.append(f" #{row.rank} {row.text:<6} {100 * row.probability:>3.0f}% ")
    if bar:
        text.append(probability_bar(row.probability, bar), style("bar"))
        text.append(" ")
    outcome = view.outcome(row)
    if outcome == "hit":
        text.append("hit ✓ ", style("hit"))
    elif outcome == "miss":
        text.append("miss ", style("miss"))
    label = row.label
    branch = row.branch
    words = label.word
    if branch is not None and branch.move_text and row.shown in (Shown.READY, Shown.USED):
        timing = f" {seconds(branch.duration_s)}" if branch.duration_s is not None else ""
        words = f"{label.word} → {branch.move_text}{timing}"
    text.append(words, style(label.style))
    return text


def _deep_rows(view: PlyView, row: GuessRow, style: StyleOf) -> list[Text]:
    lines = []
    for deep in row.deep:
        text = _line()
        line = f"    ↳ then {deep.answer_text:<6} {100 * deep.probability:>3.0f}% "
        text.append(line, style("dim"))
        text.append(f"{side_name(view.mover, view.state)}: ", style("dim"))
        branch = deep.branch
        words = branch.label.word
        if branch.move_text and branch.shown in (Shown.READY, Shown.USED):
            words = f"{words} → {branch.move_text}"
        text.append(words, style(branch.label.style))
        lines.append(text)
    return lines


def guess_lines(view: PlyView, style: StyleOf, *, bar: int = BAR_WIDTH) -> list[Text]:
    """One line per guess (and per depth-2 line under it), each ending in `…` when cut."""
    lines: list[Text] = []
    for row in view.rows:
        lines.append(_row(view, row, style, bar))
        lines.extend(_deep_rows(view, row, style))
    if not view.rows:
        lines.append(Text(" no guess in time", style("dim"), no_wrap=True, overflow="ellipsis"))
    return lines


def sentence_line(view: PlyView, style: StyleOf) -> Text:
    """The plain-words outcome of a played ply (wraps rather than losing its end)."""
    text = Text()
    hit = view.hit is not None
    text.append("✓ " if hit else "✗ ", style("hit" if hit else "miss"))
    text.append(view.sentence())
    return text


class SpeculationPanel(Widget):
    """Shows the guesses on the ply being played (or the ply picked) and how the one before
    ended, from a `SpeculationModel` it keeps up to date."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "speculation--title",
        "speculation--bar",
        "speculation--hit",
        "speculation--miss",
        "speculation--running",
        "speculation--ready",
        "speculation--dim",
    }

    def __init__(
        self,
        *,
        persons: frozenset[Side] = frozenset(),
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.model = SpeculationModel(persons=persons)
        """What was speculated on each ply of the match."""
        self.selected: int | None = None
        """The ply picked to look at (stepping through the moves), None to follow the game."""
        self.message = "no guesses yet"

    @property
    def plies(self) -> dict[int, PlyView]:
        return self.model.plies

    def feed(self, event: Event, state: GameState | None = None) -> None:
        """Folds one match event into the model and redraws."""
        self.model.feed(event, state)
        # The panel grows with its lines (depth-2 rows, k above 3), up to its max-height.
        self.refresh(layout=True)

    def select(self, ply: int | None) -> None:
        """Shows the guesses made on `ply` (None: follow the game)."""
        self.selected = ply
        self.refresh(layout=True)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"speculation--{name}", partial=True)

    def _bar(self) -> int:
        return BAR_WIDTH if self.content_size.width >= 64 else 4

    def focus_view(self) -> PlyView | None:
        """The view shown at the top."""
        if self.selected is not None:
            return self.model.view(self.selected)
        last = self.model.last_ply
        return None if last is None else self.model.view(last)

    @property
    def plain(self) -> str:
        """The panel's text without styles (tests read it)."""
        return "\n".join(line.plain for line in self.lines())

    def render(self) -> RenderResult:
        return Group(*self.lines())

    def lines(self) -> list[Text]:
        """What the panel shows, one `Text` a line (a sentence may wrap)."""
        current = self.focus_view()
        if current is None:
            word = "no guesses on this ply" if self.selected is not None else self.message
            return [Text(word, self._style("dim"), no_wrap=True, overflow="ellipsis")]
        lines: list[Text] = []
        title = self._style("title")
        if current.is_hidden:
            lines.append(Text(current.headline(), title, no_wrap=True, overflow="ellipsis"))
            lines.append(
                Text(
                    " shown after you play, so they cannot tip you off",
                    self._style("dim"),
                    no_wrap=True,
                    overflow="ellipsis",
                )
            )
        else:
            lines.append(Text(current.headline(), title, no_wrap=True, overflow="ellipsis"))
            lines.extend(guess_lines(current, self._style, bar=self._bar()))
            if current.played is not None:
                lines.append(sentence_line(current, self._style))
        previous = self.model.played_before(current.ply)
        if previous is not None and self.selected is None:
            if previous.hidden:
                # Guesses about a person's move: revealed once played, kept until the next move.
                lines.append(Text(previous.headline(), title, no_wrap=True, overflow="ellipsis"))
                lines.extend(guess_lines(previous, self._style, bar=self._bar()))
            lines.append(sentence_line(previous, self._style))
        return lines
