"""The home screen (placeholder until the form lands)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from arena.core.match import Match


class HomeScreen(Screen[None]):
    """Start a match, open replays, see recent matches."""

    def __init__(
        self,
        db_path: str | None,
        match_factory: Callable[[dict[str, str]], Awaitable[Match]] | None,
        *,
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.match_factory = match_factory
        self.note = note

    def compose(self) -> ComposeResult:
        yield Static("arena", id="status")
        yield Footer()
