"""The evaluation bar: who stands better, from a Stockfish analysis off the critical path."""

from __future__ import annotations

import math
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

ANALYSIS_S = 0.3
"""Seconds of analysis per position: enough for a steady bar, little next to a model's move."""


def white_share(cp: int | None, mate: int | None) -> float:
    """White's share of the bar (0..1) for a score in centipawns or a mate in N (White's view)."""
    if mate is not None:
        return 1.0 if mate > 0 else 0.0
    if cp is None:
        return 0.5
    return 1 / (1 + math.pow(10, -cp / 400))


def score_text(cp: int | None, mate: int | None) -> str:
    """`+0.8`, `-2.3`, `M3`, `-M2` (White's view)."""
    if mate is not None:
        return f"M{mate}" if mate > 0 else f"-M{-mate}"
    if cp is None:
        return "…"
    return f"{cp / 100:+.1f}"


class EvalBar(Widget):
    """One line: the score from White's side and a bar of White's share of the game."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"eval--white", "eval--black", "eval--label"}

    cp: reactive[int | None] = reactive(None)
    """Centipawns from White's view (None while unknown or mate)."""
    mate: reactive[int | None] = reactive(None)
    """Mate in N from White's view (negative: Black mates)."""
    note: reactive[str] = reactive("evaluating…")
    """Shown instead of a score while there is none (evaluating, off, no Stockfish)."""
    flipped: reactive[bool] = reactive(False)
    """Black's share first, as the board flipped to Black's side shows it."""

    def show_score(self, cp: int | None, mate: int | None) -> None:
        self.cp, self.mate, self.note = cp, mate, ""

    def render(self) -> RenderResult:
        label = self.get_component_rich_style("eval--label", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.note:
            text.append(f" eval {self.note}", label)
            return text
        score = score_text(self.cp, self.mate)
        text.append(f" {score:>5} ", label)
        width = max(0, self.content_size.width - 7)
        white = round(white_share(self.cp, self.mate) * width)
        white_style: Style = self.get_component_rich_style("eval--white", partial=True)
        black_style: Style = self.get_component_rich_style("eval--black", partial=True)
        parts = [("█" * white, white_style), ("█" * (width - white), black_style)]
        for part, style in reversed(parts) if self.flipped else parts:
            text.append(part, style)
        return text
