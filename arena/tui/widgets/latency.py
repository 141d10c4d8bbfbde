"""The latency panel: per ply decision time against visible wait, time saved, hit rate."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label, Sparkline

from arena.core.ledger import MatchStats, PlyRecord
from arena.tui.format import percent, saving, seconds


class LatencyTotals:
    """The ledger over the plies shown (a resumed match's earlier plies included)."""

    def __init__(self) -> None:
        self.records: list[PlyRecord] = []
        self.final: MatchStats | None = None
        """The match's own figures once it ended (they include the tail after the last ply)."""

    @property
    def stats(self) -> MatchStats:
        return self.final or MatchStats.from_records(self.records)


class LatencyTable(Widget):
    """The newest plies, one a line, then the totals."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "latency--header",
        "latency--hit",
        "latency--total",
        "latency--dim",
        "latency--miss",
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
                f"{seconds(r.saved_s) if r.hit and r.saved_s > 0 else '':>6}"
            )
            text.append(line, self._style("hit") if r.hit else Style())
            if r.hit:
                text.append(" ⚡", self._style("hit"))
        for _ in range(room - len(shown)):
            text.append("\n")
        text.append("\n")
        stats = totals.stats
        rate = 100 * stats.hit_rate if stats.speculated_plies else None
        total = self._style("total")
        text.append(
            f"took {seconds(stats.wall_s)} · without speculation {seconds(stats.sequential_s)}",
            total,
        )
        text.append("\n")
        text.append(
            saving(stats.saved_s, stats.saved_pct),
            self._style("hit" if stats.saved_s >= 0 else "miss") + total,
        )
        text.append(
            f" · guessed {stats.predicted_plies}/{stats.speculated_plies} ({percent(rate)}) · "
            f"instant {stats.adopted_plies}",
        )
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

    def add_record(self, record: PlyRecord) -> None:
        self.totals.records.append(record)
        self._redraw()

    def load(self, records: tuple[PlyRecord, ...]) -> None:
        """Shows the plies of a resumed match's earlier sessions."""
        self.totals.records[:0] = records
        self._redraw()

    def finish(self, stats: MatchStats) -> None:
        self.totals.final = stats
        self._redraw()

    def _redraw(self) -> None:
        self.query_one(LatencyTable).refresh()
        spark = self.query_one(Sparkline)
        # One cell per ply, newest on the right, as many as fit.
        room = max(1, self.content_size.width - len("saved/ply ") - 1)
        data = [max(0.0, r.saved_s) for r in self.totals.records[-room:]]
        spark.styles.width = max(1, len(data))
        spark.data = data

    def on_resize(self) -> None:
        self._redraw()
