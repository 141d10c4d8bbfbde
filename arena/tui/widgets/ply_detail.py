"""What happened at one ply of a saved match: the move, its timings, the guesses, the branches."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from arena.store import MatchRow, PlyRow
from arena.tui.format import count, percent, saving, seconds, side_name, usage_line
from arena.tui.speculation_model import PlyView
from arena.tui.widgets.speculation import guess_lines, sentence_line


class PlyDetail(Widget):
    """The ply just played at the replay's current position, or the match summary at the start."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "detail--title",
        "detail--hit",
        "detail--miss",
        "detail--dim",
        "speculation--title",
        "speculation--bar",
        "speculation--hit",
        "speculation--miss",
        "speculation--running",
        "speculation--ready",
        "speculation--dim",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.match: MatchRow | None = None
        self.ply: PlyRow | None = None
        """The ply shown (None at the start position)."""
        self.view: PlyView | None = None
        """What was speculated on that ply, if anything."""
        self.sides: tuple[str, str] = (side_name(0), side_name(1))
        """The sides' names in the match's game (White and Black in chess)."""

    def show(self, match: MatchRow, ply: PlyRow | None, view: PlyView | None) -> None:
        self.match = match
        self.ply = ply
        self.view = view
        self.refresh(layout=True)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"detail--{name}", partial=True)

    def _summary(self, text: Text, match: MatchRow) -> None:
        text.append("Start position\n", self._style("title"))
        first, second = self.sides
        if match.game and match.game != "chess":
            text.append(f"{match.game}\n", self._style("dim"))
        text.append(f"{first} {match.white_spec}")
        if match.white_speculator:
            text.append(f"  (guesses with {match.white_speculator})", self._style("dim"))
        text.append(f"\n{second} {match.black_spec}")
        if match.black_speculator:
            text.append(f"  (guesses with {match.black_speculator})", self._style("dim"))
        result = f"{match.result} {match.termination or ''}" if match.result else match.status
        text.append(f"\n\nResult: {result} · {count(match.plies, 'ply')}\n")
        if match.resume_command:
            text.append(f"continue it with: {match.resume_command}\n", self._style("miss"))
        stats = match.stats
        if stats is not None:
            text.append(
                f"took {seconds(stats.wall_s)} · without speculation "
                f"{seconds(stats.sequential_s)} · {saving(stats.saved_s, stats.saved_pct)}\n"
            )
            if stats.speculated_plies:
                text.append(f"hit rate {percent(100 * stats.hit_rate)}")
                text.append(f" · instant replies {stats.adopted_plies}\n")
        elif match.stats_unreadable:
            text.append("stats unreadable (a damaged row)\n", self._style("dim"))
        text.append("\n→ steps through the plies", self._style("dim"))

    def _ply(self, text: Text, ply: PlyRow) -> list[Text]:
        """The ply's head into `text`; the guesses and what came of them as further lines."""
        number = ply.ply + 1
        text.append(f"Ply {number}: {self.sides[ply.side]} played {ply.san}", self._style("title"))
        if ply.hit:
            text.append("  ⚡ pre-computed reply", self._style("hit"))
        if ply.by_person:
            saved = "a person's move"
        elif not ply.hit:
            saved = "saved —"
        elif ply.saved_s < 0:
            saved = f"lost {seconds(-ply.saved_s)}"
        else:
            saved = f"saved {seconds(ply.saved_s)}"
        text.append(
            f"\nthought {seconds(ply.decision_s)} · waited {seconds(ply.wait_s)} · {saved}\n"
        )
        if ply.usage.tokens or ply.usage.cost_usd:
            text.append(f"{usage_line(ply.usage)}\n", self._style("dim"))
        if ply.flagged:
            text.append(f"flagged: {ply.flagged}\n", self._style("miss"))
        view = self.view
        lines: list[Text] = []
        if view is None or not view.rows:
            text.append(f"\n{self.sides[1 - ply.side]} made no guess in time", self._style("dim"))
        else:
            text.append(f"\n{view.headline()}", self._style("title"))
            lines.extend(guess_lines(view, self._component))
            lines.append(sentence_line(view, self._component))
        if ply.raw and ply.raw != ply.move:
            raw = " ".join(ply.raw.split())
            lines.append(Text(f"\nraw: {raw[:300]}", self._style("dim")))
        return lines

    def _component(self, name: str) -> Style:
        return self.get_component_rich_style(f"speculation--{name}", partial=True)

    def lines(self) -> list[Text]:
        """What the view shows: paragraphs that wrap, guess rows that end in `…` when cut."""
        text = Text()
        if self.match is None:
            text.append("loading…", self._style("dim"))
            return [text]
        if self.ply is None:
            self._summary(text, self.match)
            return [text]
        return [text, *self._ply(text, self.ply)]

    @property
    def plain(self) -> str:
        """The text shown, without styles (tests read it)."""
        return "\n".join(line.plain for line in self.lines())

    def render(self) -> RenderResult:
        return Group(*self.lines())
