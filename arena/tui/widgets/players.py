"""One card per player: who it is, a thinking timer while it is to move, time, tokens and cost."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from arena.core.actor import Usage
from arena.core.game import Side
from arena.tui.format import seconds, side_name, usage_line

TICK_S = 0.1


class PlayerCard(Widget):
    """A player's name, spec and speculator, and how long it has been thinking."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"player--name", "player--thinking", "player--dim"}

    to_move: reactive[bool] = reactive(False)
    """True while this player is deciding a real move."""
    status: reactive[str] = reactive("waiting")
    """A short word on what the player does now (waiting, thinking, instant, ...)."""

    def __init__(
        self,
        side: Side,
        spec: str,
        speculator: str | None = None,
        *,
        ticking: bool = True,
        human: bool = False,
        label: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.side = side
        """0 for White, 1 for Black."""
        self.spec = spec
        """The player's spec, e.g. `stockfish:depth=6`."""
        self.speculator = speculator
        """The spec of the speculator guessing the opponent's moves, if any."""
        self.ticking = ticking
        """False to show no running seconds (tests and snapshots)."""
        self.human = human
        self.label = label or side_name(side)
        """The side's name: White or Black, or the game's own (X, O)."""
        self.usage = Usage()
        """Tokens and cost of this player's committed decisions."""
        self.last_s: float | None = None
        """Duration of the last committed decision."""
        self.total_s = 0.0
        """Sum of the committed decision durations."""
        self.moves = 0
        self.captured = ""
        """The opponent's pieces this player has taken, as glyphs, and its material lead."""
        self._since: float | None = None
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        if self.ticking:
            self._timer = self.set_interval(TICK_S, self.refresh, pause=True)

    def start_thinking(self) -> None:
        self._since = time.monotonic()
        self.to_move = True
        self.status = "your move" if self.human else "thinking"
        if self._timer is not None:
            self._timer.resume()

    def committed(self, decision_s: float, usage: Usage, hit: bool) -> None:
        self.to_move = False
        self._since = None
        self.last_s = decision_s
        self.total_s += decision_s
        self.moves += 1
        self.usage = self.usage + usage
        self.status = "instant ⚡" if hit else "waiting"
        if self._timer is not None:
            self._timer.pause()

    def stop(self, status: str) -> None:
        self.to_move = False
        self._since = None
        self.status = status
        if self._timer is not None:
            self._timer.pause()

    def elapsed(self) -> float | None:
        return None if self._since is None else time.monotonic() - self._since

    def render(self) -> RenderResult:
        name_style = self.get_component_rich_style("player--name", partial=True)
        dim = self.get_component_rich_style("player--dim", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("● " if self.to_move else "○ ", name_style if self.to_move else dim)
        text.append(f"{self.label} ", name_style)
        text.append(self.spec)
        if self.captured:
            text.append(f"  {self.captured}", dim)
        text.append("\n")
        if self.to_move:
            elapsed = self.elapsed()
            clock = f" {seconds(elapsed)}" if self.ticking and elapsed is not None else "…"
            thinking = self.get_component_rich_style("player--thinking", partial=True)
            text.append(f"{self.status}{clock}", thinking)
        else:
            text.append(self.status, dim)
        if self.last_s is not None:
            text.append(f" · last {seconds(self.last_s)}", dim)
        text.append("\n")
        text.append(f"total {seconds(self.total_s)} · ", dim)
        text.append("human" if self.human else usage_line(self.usage), dim)
        return text

    def set_captured(self, captured: str) -> None:
        self.captured = captured
        self.refresh()

    def watch_to_move(self, to_move: bool) -> None:
        self.set_class(to_move, "-to-move")
