"""The replay browser: every saved match in a sortable, filterable table."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static
from textual.worker import Worker

from arena.store import MatchRow, MatchStatus
from arena.tui.screens.base import ArenaScreen
from arena.tui.screens.replay import ReplayScreen
from arena.tui.widgets.matches import MatchTable


class ReplaysScreen(ArenaScreen):
    """Lists saved matches; enter opens one, `/` filters, `o` or a header click sorts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.matches: list[MatchRow] | None = None
        """The matches loaded, None until they are."""
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(" saved matches · loading…", id="status")
        yield Input(placeholder="filter: player, result, id… (/)", id="filter", compact=True)
        yield MatchTable(id="matches")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(MatchTable).focus()
        self.load()

    @work(exclusive=True, group="store", exit_on_error=False)
    async def load(self) -> None:
        store = await self.store()
        rows = await store.list_matches()
        self.matches = rows
        self.query_one(MatchTable).set_matches(rows)
        self._update_status(store.path)

    def _update_status(self, where: str = "") -> None:
        table = self.query_one(MatchTable)
        total = len(self.matches or [])
        shown = len(table.shown)
        count = f"{total} saved matches" if shown == total else f"{shown} of {total} matches"
        hint = " · enter opens" if total else " · none yet: play one with `arena play`"
        if any(r.status == MatchStatus.INTERRUPTED for r in self.matches or []):
            hint += " · ↻ interrupted: continue with `arena resume ID`"
        self.query_one("#status", Static).update(f" {count}{hint}")

    def worker_failed(self, worker: Worker[object], message: str) -> None:
        if worker.group == "store":
            self.error = message
            self.query_one("#status", Static).update(f" saved matches · {message}")
        super().worker_failed(worker, message)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_reload(self) -> None:
        self.load()

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self.query_one(MatchTable).set_filter(event.value)
        self._update_status()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(MatchTable).focus()

    @on(MatchTable.MatchChosen)
    def _open(self, event: MatchTable.MatchChosen) -> None:
        self.app.push_screen(ReplayScreen(event.match_id))
