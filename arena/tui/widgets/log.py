"""The event log: one entry per match event, newest at the bottom; long entries wrap."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

MAX_LINES = 2000


class EventLog(RichLog):
    """Match events as text, each stamped with seconds since the match started."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            max_lines=MAX_LINES,
            auto_scroll=True,
            wrap=True,
            markup=False,
            min_width=20,
            id=id,
            classes=classes,
        )
        self.entries: list[str] = []
        """Every entry written, as plain text (newest last)."""

    def add(self, t: float | None, line: str) -> None:
        stamp = f"{t:7.2f}s " if t is not None else " " * 9
        self.entries.append(stamp + line)
        del self.entries[:-MAX_LINES]
        self.write(Text(stamp + line))
