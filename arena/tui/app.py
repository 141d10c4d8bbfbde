"""The Textual app: watch or play a live match, browse and replay saved games, start matches."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from pathlib import PurePath
from typing import ClassVar

from rich.console import RenderableType
from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from arena import config
from arena.core.errors import ArenaError
from arena.core.match import Match, MatchSummary
from arena.games.chess import ChessState
from arena.store import Store
from arena.tui.screens.dialogs import ConfirmScreen, HelpScreen
from arena.tui.screens.home import HomeScreen
from arena.tui.screens.live import LiveScreen
from arena.tui.screens.replay import ReplayScreen
from arena.tui.screens.replays import ReplaysScreen
from arena.tui.themes import BOARD_DEFAULTS, MONO, THEMES, next_theme, theme_from_env

MatchFactory = Callable[[dict[str, str]], Awaitable[Match]]
"""Builds a match from the home screen's form (keys: white, black, speculator, k, max_plies)."""
StartScreen = str | tuple[str, str] | None
"""`None` (home, or the live match), `"replays"`, or `("replay", match_id)`."""

STOP_TIMEOUT_S = 10.0


def static_from_env() -> bool:
    return config.tui_static()


def start_resource_tracker() -> None:
    """Starts multiprocessing's resource tracker with the real stderr.

    OpenSpiel's searches run in worker processes, whose start launches the tracker once, handing
    it `sys.stderr`'s descriptor; inside the app that is Textual's print capture, whose descriptor
    is -1, and the start fails (`bad value(s) in fds_to_keep`).
    """
    from multiprocessing import resource_tracker

    real = sys.__stderr__
    if real is None:  # pragma: no cover - no stderr at all: the tracker starts without one
        return
    with contextlib.redirect_stderr(real):
        resource_tracker.ensure_running()


class ArenaApp(App[None]):
    """The arena in the terminal. With a `match`, shows it live from the first event."""

    TITLE = "arena"
    CSS_PATH: ClassVar[list[str | PurePath]] = [
        "app.tcss",
        "widgets.tcss",
        "live.tcss",
        "home.tcss",
        "replays.tcss",
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "request_quit", "Quit"),
        Binding("ctrl+c", "request_quit", "Quit", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+t", "cycle_theme", "Theme", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit now", show=False, priority=True),
    ]

    def __init__(
        self,
        match: Match | None = None,
        *,
        db_path: str | None = None,
        note: str | None = None,
        match_factory: MatchFactory | None = None,
        start_screen: StartScreen = None,
        static: bool | None = None,
        store: Store | None = None,
        theme_name: str | None = None,
        analysis: bool | None = None,
    ) -> None:
        super().__init__()
        self.analysis = analysis
        """Show the evaluation bar on live matches; None: only when no engine plays."""
        self.register_theme(MONO)
        self._theme_warning: str | None = None
        if theme_name is None:
            theme_name, self._theme_warning = theme_from_env()
        self.theme = THEMES.get(theme_name, theme_name)
        self.match = match
        """The match shown live now, if any."""
        self.db_path = db_path
        """The replay store (SQLite file), if any."""
        self.note = note
        """A one-line message shown at the start (e.g. which default players were chosen)."""
        self.match_factory = match_factory
        self.start_screen = start_screen
        self.static = static_from_env() if static is None else static
        """True turns off running clocks and cursor blinking (tests and snapshots)."""
        self.summary: MatchSummary | None = None
        """What the last match returned, once it finished."""
        self.live: LiveScreen | None = None
        """The screen of the match in progress (or just finished)."""
        self._store = store
        self._own_store = False
        self._store_lock = asyncio.Lock()
        self._stopping = False
        self._match_stopped = asyncio.Event()
        self._pending_dialogs: list[ConfirmScreen] = []
        """Questions that only make sense while the match runs (closed when it ends)."""

    # -- looks ---------------------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(BOARD_DEFAULTS)

    def action_cycle_theme(self) -> None:
        """Dark, light, monochrome, dark again."""
        self.theme = next_theme(self.theme)

    # -- the replay store ---------------------------------------------------------------------

    async def open_store(self) -> Store:
        """The replay store: the one given, else `db_path` opened on first use (and closed at
        exit). Raises `ArenaError` when there is neither."""
        async with self._store_lock:
            if self._store is None:
                if self.db_path is None:
                    raise ArenaError("no replay database given (use --db PATH)")
                self._store = await Store.open(self.db_path)
                self._own_store = True
            return self._store

    async def on_unmount(self) -> None:
        if self._own_store and self._store is not None:
            await self._store.close()
            self._store = None

    # -- start --------------------------------------------------------------------------------

    async def on_mount(self) -> None:
        if self._theme_warning:
            self.notify(self._theme_warning, severity="warning", timeout=6)
        if self.match is not None:
            await self.start_match(self.match, note=self.note)
            return
        if self.start_screen == "replays":
            await self.push_screen(ReplaysScreen())
        elif isinstance(self.start_screen, tuple) and self.start_screen[0] == "replay":
            await self.push_screen(ReplayScreen(self.start_screen[1]))
        else:
            await self.push_screen(HomeScreen(note=self.note, can_start=bool(self.match_factory)))

    async def start_match(self, match: Match, *, note: str | None = None) -> LiveScreen:
        """Shows `match` on a new live screen and runs it in the match worker."""
        if not isinstance(match.state, ChessState):
            start_resource_tracker()
        self.match = match
        self.summary = None
        screen = LiveScreen(match, static=self.static, note=note, analysis=self.analysis)
        self.live = screen
        self._stopping = False
        await self.push_screen(screen)
        match.bus.subscribe(screen.feed)
        self.run_match(match)
        return screen

    @work(exclusive=True, group="match", exit_on_error=False)
    async def run_match(self, match: Match) -> MatchSummary:
        return await match.run()

    def on_home_screen_start_requested(self, message: HomeScreen.StartRequested) -> None:
        self.build_match(message.params)

    @work(exclusive=True, group="factory", exit_on_error=False)
    async def build_match(self, params: dict[str, str]) -> None:
        """Builds a match with the integrator's factory, then shows it live."""
        if self.match_factory is None:
            raise ArenaError("no match factory: start matches from the command line")
        match = await self.match_factory(params)
        await self.start_match(match, note=self.note)

    @property
    def match_running(self) -> bool:
        return bool(self._match_workers())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker outcomes land: match results and any worker's error."""
        worker = event.worker
        if worker.group == "match" and not self.match_running:
            self._match_stopped.set()
        if event.state == WorkerState.ERROR:
            error = worker.error
            if isinstance(error, ArenaError):
                message = str(error)
            else:
                message = f"{type(error).__name__}: {error}" if error else "unknown error"
            self.notify(message, title=f"{worker.group} failed", severity="error", timeout=10)
            if worker.group == "match" and self.live is not None:
                self.live.match_failed(message)
            if worker.group == "factory":
                for screen in self.screen_stack:
                    if isinstance(screen, HomeScreen):
                        screen.start_failed(message)
        elif event.state == WorkerState.SUCCESS and worker.group == "match":
            result = worker.result
            if isinstance(result, MatchSummary):
                self.summary = result
                if self.live is not None:
                    self.live.match_returned(result)

    # -- quit ---------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_request_quit(self) -> None:
        """Quits; asks first while a match runs (its plies so far are saved either way)."""
        if not self.match_running:
            await self.action_quit()
            return
        if isinstance(self.screen, ConfirmScreen):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.quit_after_stop()

        dialog = ConfirmScreen("Quit while the match runs? Every ply played so far is saved.")
        self._pending_dialogs.append(dialog)
        await self.push_screen(dialog, answered)

    def on_live_screen_match_finished(self, _message: LiveScreen.MatchFinished) -> None:
        # Asking whether to stop a match that has ended makes no sense: close the question.
        for dialog in self._pending_dialogs:
            if dialog.is_attached and dialog in self.screen_stack:
                dialog.dismiss(False)
        self._pending_dialogs.clear()

    def on_live_screen_leave_requested(self, _message: LiveScreen.LeaveRequested) -> None:
        self.leave_match()

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def leave_match(self) -> None:
        """Stops the match (saved up to its last ply) and goes back to the screen before it."""
        await self.stop_match()
        live = self.live
        if live is not None and live in self.screen_stack and len(self.screen_stack) > 2:
            while self.screen is not live:
                self.pop_screen()
            self.pop_screen()

    def exit_message(self) -> str | None:
        """What to print when the app closes: where the match shown was saved."""
        if self.match is None or (self._store is None and self.db_path is None):
            return None
        match_id = self.match.match_id
        return f"saved as {match_id} — arena replay {match_id}"

    def exit(
        self, result: None = None, return_code: int = 0, message: RenderableType | None = None
    ) -> None:
        if message is None:
            message = self.exit_message()
        super().exit(result, return_code, message)

    async def action_quit(self) -> None:
        """Stops the match, then exits; a second request while it stops exits at once."""
        if self._stopping or not self.match_running:
            self.exit()
            return
        self.quit_after_stop()

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def quit_after_stop(self) -> None:
        # A worker, so the app keeps answering keys (a second ctrl+q) while the players close.
        try:
            await self.stop_match()
        finally:
            self.exit()

    async def stop_match(self) -> None:
        """Cancels the match worker and waits (bounded) for it to close its players."""
        workers = self._match_workers()
        if not workers:
            return
        self._stopping = True
        if self.live is not None:
            self.live.stopping()
        self._match_stopped.clear()
        if self.match is not None:
            # The match ends itself (aborted, final record written) ...
            self.match.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._match_stopped.wait(), timeout=STOP_TIMEOUT_S / 2)
        # ... and cancelling its worker is the fallback for one that does not stop in time.
        for worker in self._match_workers():
            worker.cancel()
        # Not `Worker.wait` under a timeout: that leaves an unretrieved WorkerCancelled behind
        # when the app exits first (a second ctrl+q).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._match_stopped.wait(), timeout=STOP_TIMEOUT_S)

    def _match_workers(self) -> list[Worker[object]]:
        return [w for w in self.workers if w.group == "match" and not w.is_finished]
