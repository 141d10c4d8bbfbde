"""The speculation panel: the waiting side's guesses, its branches, and which reply was used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import chess
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    GuessesMade,
    PlyRecord,
)
from arena.tui.format import san, seconds, side_name

BAR_WIDTH = 8
BRANCH_STYLES = {
    "running": "running",
    "ready": "ready",
    "used": "hit",
    "cancelled": "dim",
    "failed": "miss",
    "no branch": "dim",
}
"""The component style of each branch state."""
BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def probability_bar(p: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `width` cells filled to `p` (0..1), in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, p)) * width * 8)
    full, rest = divmod(eighths, 8)
    bar = "█" * full + (BAR_EIGHTHS[rest] if rest else "")
    return bar.ljust(width)


@dataclass
class GuessRow:
    """One guess and the reply branch started for it."""

    rank: int
    move: str
    san: str
    probability: float
    branch_id: int | None = None
    branch: str = "no branch"
    """no branch, running, ready, failed, cancelled, used."""
    reply: str | None = None
    """SAN of the reply the branch computed."""
    reply_s: float | None = None
    outcome: str = ""
    """Empty until the move is played, then `hit` or `miss`."""


@dataclass
class DeepRow:
    """A depth-2 branch: after the guessed move and a guessed answer, the mover pre-thinks."""

    branch_id: int
    guess: str
    """UCI of the depth-1 guess this branch continues."""
    answer: str
    """SAN of the waiting side's guessed answer to that move."""
    probability: float
    """Of the whole two-move line."""
    branch: str = "running"
    """running, ready, failed, cancelled, used."""
    move: str | None = None
    """SAN of the move the branch computed."""
    move_s: float | None = None


@dataclass
class PlyGuesses:
    """Everything speculated on one ply: the guesser waits while the mover thinks."""

    ply: int
    guesser: int
    board: chess.Board
    rows: list[GuessRow] = field(default_factory=list)
    played: str | None = None
    hit_rank: int | None = None
    used: str | None = None
    """How the hit's pre-computed reply was used, once the next ply adopted it."""
    saved_s: float | None = None
    deep: list[DeepRow] = field(default_factory=list)
    """Depth-2 branches started from this ply."""

    @property
    def mover(self) -> int:
        return 1 - self.guesser


class SpeculationPanel(Widget):
    """Shows the guesses for the ply being played and how the previous ply's guesses did."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "speculation--title",
        "speculation--bar",
        "speculation--hit",
        "speculation--miss",
        "speculation--running",
        "speculation--ready",
        "speculation--dim",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.plies: dict[int, PlyGuesses] = {}
        """Guesses by the ply they were made on."""
        self._branches: dict[int, tuple[int, int]] = {}
        self._deep: dict[int, tuple[int, DeepRow]] = {}
        self._adopted_rows: dict[int, GuessRow] = {}
        self.last_ply: int | None = None
        """The ply whose guesses are shown as the current ones."""
        self.message = "no guesses yet"
        self.hidden: set[int] = set()
        """Plies whose guesses stay hidden until played (they guess a human's move)."""

    # -- folding events -----------------------------------------------------------------------

    def hide_until_played(self, ply: int) -> None:
        """Keeps the guesses of `ply` out of sight until it is played (a human is guessing)."""
        self.hidden.add(ply)
        self._changed()

    def guesses_made(self, event: GuessesMade, board: chess.Board) -> None:
        rows = [
            GuessRow(rank, g.move, san(board, g.move), g.probability)
            for rank, g in enumerate(event.guesses, 1)
        ]
        self.plies[event.ply] = PlyGuesses(event.ply, event.side, board.copy(stack=False), rows)
        self.last_ply = event.ply
        self._trim()
        self._changed()

    def branch_started(self, event: BranchStarted) -> None:
        if event.depth != 1:
            self._deep_started(event)
            return
        row = self._row_for(event.ply - 1, event.guess)
        if row is not None:
            row.branch_id = event.branch_id
            row.branch = "running"
            self._branches[event.branch_id] = (event.ply - 1, row.rank)
            self._changed()

    def _deep_started(self, event: BranchStarted) -> None:
        origin_ply = event.ply - event.depth
        origin = self.plies.get(origin_ply)
        if origin is None or len(event.path) < origin_ply + 2:
            return
        guess, answer = event.path[origin_ply], event.path[origin_ply + 1]
        board = origin.board.copy(stack=False)
        board.push(chess.Move.from_uci(guess))
        row = DeepRow(event.branch_id, guess, san(board, answer), event.probability)
        origin.deep.append(row)
        self._deep[event.branch_id] = (origin_ply, row)
        self._changed()

    def _deep_finished(self, event: BranchFinished) -> None:
        ply, row = self._deep[event.branch_id]
        if row.branch == "running":
            row.branch = "failed" if event.error or event.move is None else "ready"
        row.move_s = event.duration_s
        if event.move is not None and ply in self.plies:
            board = self.plies[ply].board.copy(stack=False)
            board.push(chess.Move.from_uci(row.guess))
            board.push(board.parse_san(row.answer))
            row.move = san(board, event.move)
        self._changed()

    def branch_finished(self, event: BranchFinished) -> None:
        if event.branch_id in self._deep:
            self._deep_finished(event)
            return
        row = self._row_by_branch(event.branch_id)
        if row is None:
            return
        ply, _ = self._branches[event.branch_id]
        if row.branch == "running":
            row.branch = "failed" if event.error or event.move is None else "ready"
        row.reply_s = event.duration_s
        if event.move is not None:
            board = self.plies[ply].board.copy(stack=False)
            board.push(chess.Move.from_uci(row.move))
            row.reply = san(board, event.move)
        self._changed()

    def branch_cancelled(self, event: BranchCancelled) -> None:
        if event.branch_id in self._deep:
            self._deep[event.branch_id][1].branch = "cancelled"
            self._changed()
            return
        row = self._row_by_branch(event.branch_id)
        if row is not None:
            row.branch = "cancelled"
            self._changed()

    def branch_adopted(self, event: BranchAdopted) -> None:
        if event.branch_id in self._deep:
            self._deep[event.branch_id][1].branch = "used"
            self._changed()
            return
        row = self._row_by_branch(event.branch_id)
        if row is None:
            return
        ply, _ = self._branches[event.branch_id]
        row.branch = "used"
        self._adopted_rows[event.ply] = row
        self.plies[ply].used = "ready, played at once" if event.ready else "still thinking, kept"
        self._changed()

    def move_committed(self, record: PlyRecord) -> None:
        guessed = self.plies.get(record.ply)
        if guessed is not None:
            guessed.played = record.san
            guessed.hit_rank = record.rank
            for row in guessed.rows:
                row.outcome = "hit" if row.move == record.move else "miss"
        # The ply that adopted a reply tells how much waiting the reply saved.
        if record.hit and record.ply - 1 in self.plies:
            self.plies[record.ply - 1].saved_s = record.saved_s
            adopted = self._adopted_rows.get(record.ply)
            if adopted is not None and adopted.reply is None:
                adopted.reply = record.san
        self._changed()

    def _changed(self) -> None:
        # The panel grows with its lines (depth-2 rows, k above 3), up to its max-height.
        self.refresh(layout=True)

    def _row_for(self, ply: int, move: str) -> GuessRow | None:
        guessed = self.plies.get(ply)
        if guessed is None:
            return None
        return next((r for r in guessed.rows if r.move == move), None)

    def _row_by_branch(self, branch_id: int) -> GuessRow | None:
        where = self._branches.get(branch_id)
        if where is None or where[0] not in self.plies:
            return None
        ply, rank = where
        return self.plies[ply].rows[rank - 1]

    def _trim(self, keep: int = 4) -> None:
        for ply in sorted(self.plies)[:-keep]:
            del self.plies[ply]
        self._deep = {b: (p, row) for b, (p, row) in self._deep.items() if p in self.plies}

    # -- drawing ------------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"speculation--{name}", partial=True)

    def _row(self, text: Text, row: GuessRow) -> None:
        text.append(f" #{row.rank} ")
        text.append(f"{row.san:<7} ")
        text.append(f"{100 * row.probability:>3.0f}% ")
        text.append(probability_bar(row.probability), self._style("bar"))
        text.append(" ")
        if row.outcome == "hit":
            text.append("hit ✓ ", self._style("hit"))
        elif row.outcome == "miss":
            text.append("miss  ", self._style("miss"))
        branch = row.branch
        if branch in ("ready", "used") and row.reply:
            timing = f" {seconds(row.reply_s)}" if row.reply_s is not None else ""
            label = f"{branch} → {row.reply}{timing}"
        elif branch == "used":
            label = "used, reply still thinking"
        else:
            label = branch
        text.append(label, self._style(BRANCH_STYLES.get(branch, "dim")))

    def _deep_row(self, text: Text, row: DeepRow, mover: int) -> None:
        text.append(f"    ↳ then {row.answer:<7}", self._style("dim"))
        text.append(f"{100 * row.probability:>3.0f}% ")
        text.append(f"{side_name(mover)} pre-thinks: ", self._style("dim"))
        if row.branch in ("ready", "used") and row.move:
            timing = f" {seconds(row.move_s)}" if row.move_s is not None else ""
            text.append(f"{row.branch} → {row.move}{timing}", self._style(BRANCH_STYLES["ready"]))
        else:
            text.append(row.branch, self._style(BRANCH_STYLES.get(row.branch, "dim")))

    def _summary(self, text: Text, guessed: PlyGuesses) -> None:
        text.append(f"ply {guessed.ply + 1}: {side_name(guessed.mover)} played {guessed.played} ")
        if guessed.hit_rank is not None:
            text.append(f"· hit #{guessed.hit_rank}", self._style("hit"))
            if guessed.used:
                text.append(f" · reply {guessed.used}")
            if guessed.saved_s is not None:
                text.append(f" · saved {seconds(guessed.saved_s)}")
        else:
            text.append("· miss, replies dropped", self._style("miss"))

    def render(self) -> RenderResult:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.last_ply is None or self.last_ply not in self.plies:
            text.append(self.message, self._style("dim"))
            return text
        current = self.plies[self.last_ply]
        title = self._style("title")
        if current.played is None and current.ply in self.hidden:
            guesser = side_name(current.guesser)
            text.append(f"ply {current.ply + 1}: {guesser} guesses your move", title)
            text.append("\n shown after you play, so they cannot tip you off", self._style("dim"))
            self._previous_summary(text, current)
            return text
        text.append(
            f"ply {current.ply + 1}: {side_name(current.guesser)} guesses "
            f"{side_name(current.mover)}'s move",
            title,
        )
        for row in current.rows:
            text.append("\n")
            self._row(text, row)
            for deep in (d for d in current.deep if d.guess == row.move):
                text.append("\n")
                self._deep_row(text, deep, current.mover)
        if not current.rows:
            text.append("\n no legal guess", self._style("dim"))
        if current.played is not None:
            text.append("\n")
            self._summary(text, current)
        self._previous_summary(text, current)
        return text

    def _previous_summary(self, text: Text, current: PlyGuesses) -> None:
        earlier = [p for p in self.plies.values() if p.ply < current.ply and p.played]
        previous = max(earlier, key=lambda p: p.ply, default=None)
        if previous is not None:
            text.append("\n")
            self._summary(text, previous)
