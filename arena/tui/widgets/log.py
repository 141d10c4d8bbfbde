"""The event log: one line per match event, newest at the bottom."""

from __future__ import annotations

from textual.widgets import Log

MAX_LINES = 2000


class EventLog(Log):
    """Match events as text, each stamped with seconds since the match started."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, auto_scroll=True, id=id, classes=classes)

    def add(self, t: float | None, line: str) -> None:
        stamp = f"{t:7.2f}s " if t is not None else " " * 9
        self.write_line(stamp + line)
