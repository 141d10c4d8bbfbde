"""What happened at one ply of a saved match: the move, its timings, the guesses, the branches."""

from __future__ import annotations

from typing import ClassVar

import chess
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from arena.store import BranchRow, MatchRow, PlyRow, PredictionRow
from arena.tui.format import percent, san, saving, seconds, side_name, usage_line
from arena.tui.widgets.speculation import probability_bar

BRANCH_WORDS = {
    "adopted": "used",
    "finished": "ready, not used",
    "cancelled": "cancelled",
    "running": "running",
}


class PlyDetail(Widget):
    """The ply just played at the replay's current position, or the match summary at the start."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "detail--title",
        "detail--hit",
        "detail--miss",
        "detail--dim",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.match: MatchRow | None = None
        self.ply: PlyRow | None = None
        """The ply shown (None at the start position)."""
        self.board_before: chess.Board | None = None
        self.predictions: list[PredictionRow] = []
        self.branches: list[BranchRow] = []

    def show(
        self,
        match: MatchRow,
        ply: PlyRow | None,
        board_before: chess.Board | None,
        predictions: list[PredictionRow],
        branches: list[BranchRow],
    ) -> None:
        self.match = match
        self.ply = ply
        self.board_before = board_before
        self.predictions = predictions
        self.branches = branches
        self.refresh(layout=True)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"detail--{name}", partial=True)

    def _summary(self, text: Text, match: MatchRow) -> None:
        text.append("Start position\n", self._style("title"))
        text.append(f"White {match.white_spec}")
        if match.white_speculator:
            text.append(f"  (guesses with {match.white_speculator})", self._style("dim"))
        text.append(f"\nBlack {match.black_spec}")
        if match.black_speculator:
            text.append(f"  (guesses with {match.black_speculator})", self._style("dim"))
        result = f"{match.result} {match.termination or ''}" if match.result else match.status
        text.append(f"\n\nResult: {result} · {match.plies} plies\n")
        if match.resume_command:
            text.append(f"continue it with: {match.resume_command}\n", self._style("miss"))
        stats = match.stats
        if stats is not None:
            thinking = seconds(stats.sequential_s)
            wall = seconds(stats.wall_s)
            text.append(
                f"thinking {thinking} · wall {wall} · {saving(stats.saved_s, stats.saved_pct)}\n"
            )
            if stats.speculated_plies:
                text.append(f"hit rate {percent(100 * stats.hit_rate)}")
                text.append(f" · instant replies {stats.adopted_plies}\n")
        elif match.stats_unreadable:
            text.append("stats unreadable (a damaged row)\n", self._style("dim"))
        text.append("\n→ steps through the plies", self._style("dim"))

    def _ply(self, text: Text, ply: PlyRow, board: chess.Board) -> None:
        number = ply.ply + 1
        text.append(f"Ply {number}: {side_name(ply.side)} played {ply.san}", self._style("title"))
        if ply.hit:
            text.append("  ⚡ pre-computed", self._style("hit"))
        text.append(
            f"\nthought {seconds(ply.decision_s)} · waited {seconds(ply.wait_s)}"
            f" · saved {seconds(ply.saved_s) if ply.hit else '—'}\n"
        )
        if ply.usage.tokens or ply.usage.cost_usd:
            text.append(f"{usage_line(ply.usage)}\n", self._style("dim"))
        if ply.flagged:
            text.append(f"flagged: {ply.flagged}\n", self._style("miss"))
        guesser = side_name(1 - ply.side)
        if self.predictions:
            text.append(f"\n{guesser} guessed\n", self._style("title"))
            for p in self.predictions:
                hit = p.move == ply.move
                text.append(f" #{p.rank} {san(board, p.move):<7} {100 * p.probability:>3.0f}% ")
                text.append(probability_bar(p.probability))
                text.append(" hit" if hit else " miss", self._style("hit" if hit else "miss"))
                text.append("\n")
        else:
            text.append(f"\n{guesser} made no guess in time\n", self._style("dim"))
        replies = [b for b in self.branches if b.depth == 1]
        if replies:
            text.append(f"\n{guesser} pre-thought replies\n", self._style("title"))
            for b in replies:
                after = board.copy(stack=False)
                guess = san(after, b.guess)
                after.push(chess.Move.from_uci(b.guess))
                reply = san(after, b.move) if b.move else "…"
                word = BRANCH_WORDS.get(b.status, b.status)
                style = "hit" if b.status == "adopted" else "dim"
                text.append(f" after {guess:<7} → {reply:<7} ")
                text.append(word, self._style(style))
                text.append("\n")
        if ply.raw and ply.raw != ply.move:
            raw = " ".join(ply.raw.split())
            text.append(f"\nraw: {raw[:300]}", self._style("dim"))

    def render(self) -> RenderResult:
        text = Text()
        if self.match is None:
            text.append("loading…", self._style("dim"))
        elif self.ply is None or self.board_before is None:
            self._summary(text, self.match)
        else:
            self._ply(text, self.ply, self.board_before)
        return text
