"""The move list in SAN, numbered in pairs, with speculation hits marked."""

from __future__ import annotations

from typing import ClassVar

import chess
from rich.cells import cell_len
from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

HIT_MARK = "⚡"


class MoveList(Widget):
    """The moves played so far; the newest (or `current`) move stays in view."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"moves--number", "moves--hit", "moves--current"}

    current: reactive[int | None] = reactive(None)
    """Index of the move to highlight (replays); None highlights nothing."""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.sans: list[str] = []
        """The moves in SAN."""
        self.hits: list[bool] = []
        """For each move, whether it came from a pre-computed reply."""
        self._first_number = 1
        self._black_first = False

    def set_start(self, fen: str) -> None:
        board = chess.Board(fen)
        self._first_number = board.fullmove_number
        self._black_first = board.turn == chess.BLACK
        self.refresh()

    def set_first_side(self, side: int) -> None:
        """For games without a FEN: numbering from 1, `side` (0 or 1) moves first."""
        self._first_number = 1
        self._black_first = side == 1
        self.refresh()

    def set_moves(self, sans: list[str], hits: list[bool] | None = None) -> None:
        self.sans = list(sans)
        self.hits = list(hits) if hits is not None else [False] * len(sans)
        self.refresh()

    def add_move(self, san: str, hit: bool = False) -> None:
        self.sans.append(san)
        self.hits.append(hit)
        self.refresh()

    def _rows(self) -> list[list[int | None]]:
        """Move indices per line: [white, black]; None where the line has no such move."""
        indices: list[int | None] = list(range(len(self.sans)))
        if self._black_first:
            indices.insert(0, None)
        return [indices[i : i + 2] for i in range(0, len(indices), 2)]

    def _cell(self, text: Text, index: int | None) -> None:
        if index is None:
            text.append("…".ljust(9))
            return
        san = self.sans[index]
        hit = index < len(self.hits) and self.hits[index]
        style = self.get_component_rich_style("moves--current", partial=True)
        label = san + (HIT_MARK if hit else "")
        if index == self.current:
            text.append(label, style)
        elif hit:
            text.append(san, self.get_component_rich_style("moves--hit", partial=True))
            text.append(HIT_MARK)
        else:
            text.append(san)
        text.append(" " * max(1, 9 - cell_len(label)))

    def render(self) -> RenderResult:
        rows = self._rows()
        if not rows:
            return Text("no moves yet", style="dim")
        height = max(1, self.content_size.height)
        focus = len(self.sans) - 1 if self.current is None else self.current
        focus_row = (focus + (1 if self._black_first else 0)) // 2
        first = max(0, min(len(rows) - height, focus_row - height + 1))
        if self.current is not None:
            first = max(0, min(len(rows) - height, focus_row - height // 2))
        number_style = self.get_component_rich_style("moves--number", partial=True)
        text = Text(no_wrap=True, overflow="crop")
        for n, row in enumerate(rows[first : first + height], first):
            if n > first:
                text.append("\n")
            text.append(f"{self._first_number + n:>3}. ", number_style)
            for index in row:
                self._cell(text, index)
        return text
