"""What every arena screen shares: reporting its workers' failures, going back."""

from __future__ import annotations

from typing import ClassVar, Protocol, cast

from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from arena.store import Store


class StoreOwner(Protocol):
    """The app side of the replay store (ArenaApp)."""

    async def open_store(self) -> Store: ...


def worker_error(worker: Worker[object]) -> str:
    error = worker.error
    return f"{type(error).__name__}: {error}" if error is not None else "unknown error"


class ArenaScreen(Screen[None]):
    """A screen whose workers' errors are shown, never raised (workers use exit_on_error=False)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
    ]

    static: bool | None = None
    """True for no clocks and no blinking (tests and snapshots); None follows the app."""

    @property
    def is_static(self) -> bool:
        if self.static is not None:
            return self.static
        return bool(getattr(self.app, "static", False))

    def on_mount(self) -> None:
        if self.is_static:
            for entry in self.query(Input):
                entry.cursor_blink = False

    async def store(self) -> Store:
        """The app's replay store (opened on first use)."""
        return await cast(StoreOwner, self.app).open_store()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker, worker_error(event.worker))

    def worker_failed(self, worker: Worker[object], message: str) -> None:
        """Shows a failed worker's error; screens override it to show it in place."""
        self.notify(message, title=f"{worker.group} failed", severity="error", timeout=10)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return len(self.app.screen_stack) > 2
        return True

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
