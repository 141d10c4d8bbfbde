"""The latency panel: per ply decision time against visible wait, time saved, hit rate."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label, Sparkline

from arena.core.events import PlyRecord
from arena.tui.format import percent, seconds


class LatencyTotals:
    """Running totals over the committed plies (and the match's own figures once it ends)."""

    def __init__(self) -> None:
        self.records: list[PlyRecord] = []
        self.guessed: set[int] = set()
        """Plies for which the waiting side's guesses arrived before the move was committed."""
        self.final: dict[str, Any] | None = None
        """The match's stats once it ended."""

    @property
    def sequential_s(self) -> float:
        return sum(r.decision_s for r in self.records)

    @property
    def wait_s(self) -> float:
        return sum(r.wait_s for r in self.records)

    @property
    def saved_s(self) -> float:
        return sum(r.saved_s for r in self.records)

    @property
    def saved_pct(self) -> float:
        seq = self.sequential_s
        return 100 * self.saved_s / seq if seq > 0 else 0.0

    @property
    def hits(self) -> int:
        """Plies whose move came from a pre-computed reply."""
        return sum(1 for r in self.records if r.hit)

    @property
    def speculated_plies(self) -> int:
        if self.final is not None and "speculated_plies" in self.final:
            return int(self.final["speculated_plies"])
        return len(self.guessed & {r.ply for r in self.records})

    @property
    def predicted_plies(self) -> int:
        """Of the speculated plies, those whose played move was among the guesses."""
        if self.final is not None and "predicted_plies" in self.final:
            return int(self.final["predicted_plies"])
        return sum(1 for r in self.records if r.rank is not None and r.ply in self.guessed)

    @property
    def hit_rate(self) -> float | None:
        """Percent of speculated plies whose move was guessed."""
        n = self.speculated_plies
        return 100 * self.predicted_plies / n if n else None


class LatencyTable(Widget):
    """The newest plies, one a line, then the totals."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "latency--header",
        "latency--hit",
        "latency--total",
        "latency--dim",
    }

    def __init__(self, totals: LatencyTotals, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.totals = totals

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"latency--{name}", partial=True)

    def render(self) -> RenderResult:
        totals = self.totals
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" ply  move     think    wait   saved", self._style("header"))
        room = max(0, self.content_size.height - 3)
        shown = totals.records[-room:] if room else []
        for r in shown:
            text.append("\n")
            line = (
                f"{r.ply + 1:>4}  {r.san:<7} {seconds(r.decision_s):>6}  {seconds(r.wait_s):>6}  "
                f"{seconds(r.saved_s) if r.hit else '':>6}"
            )
            text.append(line, self._style("hit") if r.hit else Style())
            if r.hit:
                text.append(" ⚡", self._style("hit"))
        for _ in range(room - len(shown)):
            text.append("\n")
        text.append("\n")
        rate = totals.hit_rate
        text.append(
            f"thinking {seconds(totals.sequential_s)} · waited {seconds(totals.wait_s)} · "
            f"saved {seconds(totals.saved_s)} ({percent(totals.saved_pct)})",
            self._style("total"),
        )
        text.append("\n")
        hits = (
            f"guessed {totals.predicted_plies}/{totals.speculated_plies} ({percent(rate)}) · "
            f"instant {totals.hits}"
        )
        if totals.final is not None:
            wall = totals.final.get("wall_s")
            hits += f" · wall {seconds(float(wall))}" if wall is not None else ""
        text.append(hits, self._style("total"))
        return text


class LatencyPanel(Vertical):
    """Decision time against visible wait per ply, totals, and a sparkline of time saved."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.totals = LatencyTotals()
        """What the panel shows; updated by `add_record` and `finish`."""

    def compose(self) -> ComposeResult:
        yield LatencyTable(self.totals, id="latency-table")
        with Horizontal(id="latency-chart"):
            yield Label("saved/ply ", id="latency-chart-label")
            yield Sparkline([], id="latency-spark")

    def guessed_on(self, ply: int) -> None:
        """The waiting side's guesses for `ply` arrived."""
        self.totals.guessed.add(ply)

    def add_record(self, record: PlyRecord) -> None:
        self.totals.records.append(record)
        self._redraw()

    def finish(self, stats: dict[str, Any]) -> None:
        self.totals.final = stats
        self._redraw()

    def _redraw(self) -> None:
        self.query_one(LatencyTable).refresh()
        spark = self.query_one(Sparkline)
        # One cell per ply, newest on the right, as many as fit.
        room = max(1, self.content_size.width - len("saved/ply ") - 1)
        data = [r.saved_s for r in self.totals.records[-room:]]
        spark.styles.width = max(1, len(data))
        spark.data = data

    def on_resize(self) -> None:
        self._redraw()
