"""What was speculated on each ply, folded from match events or read from a saved match.

A pure view-model: no Textual, no chess library. Moves are written with the game's own
`GameState.format_move`, so any game the core can play is shown the same way. The live speculation
panel and the replay viewer's per-ply view both render from `PlyView`, and every word shown for a
branch comes from one table, `LABELS` (the help page's legend is made from it too).

The vocabulary:

- On ply *n* the **mover** decides while the **guesser** (the waiting side) guesses the mover's move
  with its speculator. For each guess the guesser's own player may start pre-thinking its
  **reply**: a speculative *branch* of the game.
- When the mover's move is played, the guess that matched it is a **hit** (or every guess is a
  **miss**). The hit's branch is **adopted** on ply *n + 1*: its reply was ready (played at once)
  or still thinking (kept, not restarted). The others are **cancelled** (dropped).
- With `--depth 2` a branch can also continue a guessed move and a guessed answer to it: the mover
  pre-thinks its move two plies ahead (`DeepRow`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Literal

from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    BranchStatus,
    Event,
    GuessesMade,
    MoveCommitted,
)
from arena.core.game import GameState, Side
from arena.core.ledger import PlyRecord
from arena.tui.format import seconds, side_name


class Shown(StrEnum):
    """How a guess's reply branch is shown: `BranchStatus` plus "none started" and "failed"."""

    NONE = "none"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    USED = "used"
    DROPPED = "dropped"


@dataclass(frozen=True, kw_only=True)
class Label:
    """The words shown for a branch state, the style they take, and what they mean."""

    word: str
    style: Literal["dim", "running", "ready", "hit", "miss"]
    meaning: str


LABELS: Final[dict[Shown, Label]] = {
    Shown.NONE: Label(
        word="no reply", style="dim", meaning="nothing was pre-thought for this guess"
    ),
    Shown.RUNNING: Label(
        word="pre-thinking",
        style="running",
        meaning="the guesser's player is working out its reply to this guess",
    ),
    Shown.READY: Label(
        word="reply ready",
        style="ready",
        meaning="the reply is computed, waiting to see if the guess comes true",
    ),
    Shown.FAILED: Label(
        word="reply failed", style="miss", meaning="pre-thinking ended without a move"
    ),
    Shown.USED: Label(
        word="reply used", style="hit", meaning="the guess came true and this reply was played"
    ),
    Shown.DROPPED: Label(
        word="dropped",
        style="dim",
        meaning="the game went elsewhere, so the reply was thrown away",
    ),
}
"""The one table of the words shown for a branch (the panels and the legend use it)."""


def shown(status: BranchStatus | None, failed: bool = False) -> Shown:
    """The display state of a branch with `status` (None: no branch was started)."""
    if status is None:
        return Shown.NONE
    if status == BranchStatus.RUNNING:
        return Shown.RUNNING
    if status == BranchStatus.FINISHED:
        return Shown.FAILED if failed else Shown.READY
    if status == BranchStatus.ADOPTED:
        return Shown.USED
    return Shown.DROPPED


@dataclass
class Branch:
    """A speculative branch: a side pre-thinking its move in a position that may come."""

    branch_id: int
    status: BranchStatus = BranchStatus.RUNNING
    failed: bool = False
    """It finished with an error or without a move."""
    move: str | None = None
    """The move it computed (canonical notation)."""
    move_text: str | None = None
    """That move in the game's readable notation."""
    duration_s: float | None = None
    ready: bool | None = None
    """Once adopted: True if it had already finished then (played at once), False if it was
    still thinking (kept)."""

    @property
    def shown(self) -> Shown:
        return shown(self.status, self.failed)

    @property
    def label(self) -> Label:
        return LABELS[self.shown]


@dataclass
class DeepRow:
    """A depth-2 branch: after the guessed move and a guessed answer, the mover pre-thinks."""

    guess: str
    """The depth-1 guess this line continues (canonical)."""
    answer: str
    """The guesser's guessed answer to it (canonical)."""
    answer_text: str
    probability: float
    """Of the whole two-move line."""
    branch: Branch
    state: GameState | None = None
    """The state the branch decides on (after the guess and the answer)."""


@dataclass
class GuessRow:
    """One guess of the mover's move and the reply branch started for it."""

    rank: int
    move: str
    text: str
    """The move in the game's readable notation."""
    probability: float
    branch: Branch | None = None
    deep: list[DeepRow] = field(default_factory=list)

    @property
    def shown(self) -> Shown:
        return Shown.NONE if self.branch is None else self.branch.shown

    @property
    def label(self) -> Label:
        return LABELS[self.shown]


@dataclass
class PlyView:
    """Everything speculated on one ply: the guesser waits while the mover thinks."""

    ply: int
    guesser: Side
    state: GameState
    """The state the mover decides on."""
    rows: list[GuessRow] = field(default_factory=list)
    played: str | None = None
    """The move played (canonical), once it is."""
    played_text: str | None = None
    hit_rank: int | None = None
    """Rank of the guess that matched the played move."""
    saved_s: float | None = None
    """Once the reply is played: the time that reply saved (negative: lost)."""
    reply_text: str | None = None
    """The reply played on the next ply, once it is."""
    hidden: bool = False
    """The guesses are about a person's move: kept out of sight until the person plays."""
    person_moves: bool = False
    """A person is the mover (the sentence says "your move")."""

    @property
    def mover(self) -> Side:
        return 1 - self.guesser

    @property
    def is_hidden(self) -> bool:
        """True while the guesses must not be shown (a person has yet to play)."""
        return self.hidden and self.played is None

    @property
    def deep(self) -> list[DeepRow]:
        """Every depth-2 line started from this ply."""
        return [d for r in self.rows for d in r.deep]

    @property
    def hit(self) -> GuessRow | None:
        if self.hit_rank is None:
            return None
        return next((r for r in self.rows if r.rank == self.hit_rank), None)

    def outcome(self, row: GuessRow) -> Literal["hit", "miss"] | None:
        """How `row`'s guess did, once the move is played."""
        if self.played is None:
            return None
        return "hit" if row.move == self.played else "miss"

    def headline(self) -> str:
        """`Black guesses White's move` (or `your move` for a person)."""
        mover = "your" if self.person_moves else f"{side_name(self.mover, self.state)}'s"
        verb = "guessed" if self.played is not None else "guesses"
        return f"ply {self.ply + 1}: {side_name(self.guesser, self.state)} {verb} {mover} move"

    def sentence(self) -> str:
        """What happened, in plain words, once the move is played; "" before.

        e.g. `Black predicted White's move Nf3 (#1, 42%) — reply was ready, 1.00s saved`.
        """
        if self.played is None:
            return ""
        guesser = side_name(self.guesser, self.state)
        mover = "your" if self.person_moves else f"{side_name(self.mover, self.state)}'s"
        hit = self.hit
        if hit is None:
            if not self.rows:
                who = side_name(self.mover, self.state)
                return f"{guesser} made no guess; {who} played {self.played_text}"
            return f"{guesser} did not predict {mover} move {self.played_text}" + (
                " — its replies were dropped" if any(r.branch for r in self.rows) else ""
            )
        head = (
            f"{guesser} predicted {mover} move {self.played_text} "
            f"(#{hit.rank}, {100 * hit.probability:.0f}%)"
        )
        branch = hit.branch
        if branch is None:
            return f"{head} — no reply had been started"
        if branch.status == BranchStatus.ADOPTED:
            how = "reply was ready" if branch.ready else "reply was still thinking, kept"
            if self.saved_s is None:
                return f"{head} — {how}"
            if self.saved_s < 0:
                return f"{head} — {how}, {seconds(-self.saved_s)} lost"
            return f"{head} — {how}, {seconds(self.saved_s)} saved"
        if branch.failed:
            return f"{head} — but its reply failed"
        return f"{head} — reply {branch.label.word}"


class SpeculationModel:
    """Folds a match's events into one `PlyView` per ply. Pure: no UI, no I/O."""

    def __init__(self, *, persons: Iterable[Side] = ()) -> None:
        self.persons = frozenset(persons)
        """Sides a person plays: guesses about their moves stay hidden until they are played."""
        self.plies: dict[int, PlyView] = {}
        """Views by the ply whose move was guessed."""
        self._rows: dict[int, tuple[int, GuessRow]] = {}
        self._deep: dict[int, tuple[int, DeepRow]] = {}
        self._adopted: dict[int, tuple[int, Branch]] = {}
        """Branch adopted on ply n+1 → (n, branch)."""

    # -- reading ------------------------------------------------------------------------------

    @property
    def last_ply(self) -> int | None:
        """The newest ply with guesses."""
        return max(self.plies, default=None)

    def view(self, ply: int) -> PlyView | None:
        return self.plies.get(ply)

    def played_before(self, ply: int) -> PlyView | None:
        """The newest ply before `ply` whose move was played."""
        earlier = [p for n, p in self.plies.items() if n < ply and p.played is not None]
        return max(earlier, key=lambda p: p.ply, default=None)

    # -- folding ------------------------------------------------------------------------------

    def feed(self, event: Event, state: GameState | None = None) -> None:
        """Folds one event; `state` is the state of the ply guessed on (for GuessesMade)."""
        match event:
            case GuessesMade() if state is not None:
                self.guesses_made(event, state)
            case BranchStarted():
                self.branch_started(event)
            case BranchFinished():
                self.branch_finished(event)
            case BranchCancelled():
                self.branch_cancelled(event)
            case BranchAdopted():
                self.branch_adopted(event)
            case MoveCommitted():
                self.move_committed(event.record)
            case _:
                pass

    def guesses_made(self, event: GuessesMade, state: GameState) -> None:
        rows = [
            GuessRow(g_rank, g.move, _text(state, g.move), g.probability)
            for g_rank, g in enumerate(event.guesses, 1)
        ]
        self.plies[event.ply] = PlyView(
            event.ply,
            event.side,
            state,
            rows,
            hidden=(1 - event.side) in self.persons,
            person_moves=(1 - event.side) in self.persons,
        )

    def branch_started(self, event: BranchStarted) -> None:
        if event.depth != 1:
            self._deep_started(event)
            return
        view = self.plies.get(event.ply - 1)
        if view is None:
            return
        row = next((r for r in view.rows if r.move == event.guess), None)
        if row is not None:
            row.branch = Branch(event.branch_id)
            self._rows[event.branch_id] = (view.ply, row)

    def _deep_started(self, event: BranchStarted) -> None:
        origin = event.ply - event.depth
        view = self.plies.get(origin)
        if view is None or len(event.path) < origin + 2:
            return
        guess, answer = event.path[origin], event.path[origin + 1]
        row = next((r for r in view.rows if r.move == guess), None)
        after_guess = _apply(view.state, guess)
        deep = DeepRow(
            guess,
            answer,
            _text(after_guess, answer) if after_guess is not None else answer,
            event.probability,
            Branch(event.branch_id),
            _apply(after_guess, answer) if after_guess is not None else None,
        )
        if row is not None:
            row.deep.append(deep)
        self._deep[event.branch_id] = (origin, deep)

    def _branch(self, branch_id: int) -> tuple[Branch, GameState | None] | None:
        found = self._rows.get(branch_id)
        if found is not None:
            ply, row = found
            if row.branch is not None and ply in self.plies:
                return row.branch, _apply(self.plies[ply].state, row.move)
        deep = self._deep.get(branch_id)
        if deep is not None:
            return deep[1].branch, deep[1].state
        return None

    def branch_finished(self, event: BranchFinished) -> None:
        found = self._branch(event.branch_id)
        if found is None:
            return
        branch, state = found
        if branch.status == BranchStatus.RUNNING:
            branch.status = BranchStatus.FINISHED
        branch.failed = event.error is not None or event.move is None
        branch.duration_s = event.duration_s
        if event.move is not None:
            branch.move = event.move
            branch.move_text = _text(state, event.move)

    def branch_cancelled(self, event: BranchCancelled) -> None:
        found = self._branch(event.branch_id)
        if found is not None:
            found[0].status = BranchStatus.CANCELLED
            found[0].duration_s = found[0].duration_s or event.running_s

    def branch_adopted(self, event: BranchAdopted) -> None:
        found = self._branch(event.branch_id)
        if found is None:
            return
        branch = found[0]
        branch.status = BranchStatus.ADOPTED
        branch.ready = event.ready
        self._adopted[event.ply] = (event.ply - 1, branch)

    def move_committed(self, record: PlyRecord) -> None:
        view = self.plies.get(record.ply)
        if view is not None:
            view.played = record.move
            view.played_text = record.san
            view.hit_rank = record.rank
            if view.hit_rank is None:
                # The runner's rank counts guesses that arrived in time; a late match still is one.
                view.hit_rank = next((r.rank for r in view.rows if r.move == record.move), None)
        # The ply that adopts a reply tells how much waiting the reply saved.
        adopted = self._adopted.pop(record.ply, None)
        before = self.plies.get(record.ply - 1)
        if before is not None and (record.hit or adopted is not None):
            before.saved_s = record.saved_s
            before.reply_text = record.san
            if adopted is not None and adopted[1].move_text is None:
                adopted[1].move = record.move
                adopted[1].move_text = record.san

    # -- a saved match ------------------------------------------------------------------------

    @classmethod
    def from_saved(
        cls,
        states: Sequence[GameState],
        records: Sequence[PlyRecord],
        branches: Iterable[SavedBranch],
    ) -> SpeculationModel:
        """The views of a saved match: `states[n]` is the state before ply n (one more than
        the records), `records` its plies, `branches` its stored branches."""
        model = cls(persons=frozenset(r.side for r in records if r.by_person))
        for record, state in zip(records, states, strict=False):
            if record.guesses:
                model.plies[record.ply] = PlyView(
                    record.ply,
                    1 - record.side,
                    state,
                    [
                        GuessRow(rank, g.move, _text(state, g.move), g.probability)
                        for rank, g in enumerate(record.guesses, 1)
                    ],
                    person_moves=record.by_person,
                )
        by_ply = {r.ply: r for r in records}
        for b in branches:
            origin = b.ply - b.depth
            view = model.plies.get(origin)
            if view is None:
                continue
            reply = by_ply.get(b.ply)
            branch = Branch(
                b.branch_id,
                status=b.status,
                failed=b.status == BranchStatus.FINISHED and (b.error is not None or not b.move),
                move=b.move,
                duration_s=b.duration_s,
                ready=(reply.commit_latency_s is not None)
                if reply is not None and b.status == BranchStatus.ADOPTED
                else None,
            )
            if b.depth == 1:
                row = next((r for r in view.rows if r.move == b.guess), None)
                if row is None:
                    continue
                row.branch = branch
                after = _apply(view.state, b.guess)
                if b.move and after is not None:
                    branch.move_text = _text(after, b.move)
            elif len(b.path) >= origin + 2:
                guess, answer = b.path[origin], b.path[origin + 1]
                after_guess = _apply(view.state, guess)
                after = _apply(after_guess, answer) if after_guess is not None else None
                if b.move and after is not None:
                    branch.move_text = _text(after, b.move)
                deep = DeepRow(
                    guess,
                    answer,
                    _text(after_guess, answer) if after_guess is not None else answer,
                    b.probability,
                    branch,
                    after,
                )
                row = next((r for r in view.rows if r.move == guess), None)
                if row is not None:
                    row.deep.append(deep)
        for record in records:
            model.move_committed(record)
            if record.hit and record.ply - 1 in model.plies:
                view = model.plies[record.ply - 1]
                hit = view.hit
                if hit is not None and hit.branch is not None and hit.branch.move_text is None:
                    hit.branch.move_text = record.san
        return model


@dataclass(frozen=True, kw_only=True)
class SavedBranch:
    """What the store keeps of a branch (the fields the model reads)."""

    branch_id: int
    ply: int
    depth: int
    path: tuple[str, ...]
    guess: str
    probability: float
    status: BranchStatus
    move: str | None
    error: str | None
    duration_s: float | None


def _apply(state: GameState | None, move: str) -> GameState | None:
    if state is None or not state.is_legal(move):
        return None
    return state.apply(move)


def _text(state: GameState | None, move: str) -> str:
    """The move in the game's readable notation, or as given when it is not legal there."""
    if state is None or not state.is_legal(move):
        return move
    try:
        return state.format_move(move)
    except ValueError:
        return move


__all__ = [
    "LABELS",
    "Branch",
    "DeepRow",
    "GuessRow",
    "Label",
    "PlyView",
    "SavedBranch",
    "Shown",
    "SpeculationModel",
    "shown",
]
