"""The branch table: every decision a match has in flight, and what the wasted ones cost.

A branch is one `Actor.decide` call: the real one for the current ply, or a speculative one for a
state a guess leads to. Speculative branches live in the table under (side, fingerprint + state
key) until they are adopted (their state came about) or discarded (it can no longer come about).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from arena.core.actor import Actor, Decision, Usage
from arena.core.events import BranchCancelled, BranchFinished, BranchStarted, Event
from arena.core.game import GameState, Side

Clock = Callable[[], float]


@dataclass(eq=False, kw_only=True)
class Branch:
    """One decision in flight."""

    id: int
    side: Side
    state: GameState
    started: float
    """When the call started, on the match's active clock (pauses excluded)."""
    task: asyncio.Task[Decision]
    speculative: bool
    guess: str = ""
    """The guessed move that leads to `state` (speculative branches)."""
    probability: float = 1.0
    rank: int = 0
    depth: int = 0
    finished: float | None = None

    @property
    def path(self) -> tuple[str, ...]:
        return self.state.path

    def reachable_from(self, path: tuple[str, ...]) -> bool:
        return self.path[: len(path)] == path

    def usage(self) -> Usage:
        if self.task.done() and not self.task.cancelled() and self.task.exception() is None:
            return self.task.result().usage
        return Usage()


@dataclass(frozen=True, kw_only=True)
class Waste:
    """What discarded branches cost since the last `take_waste`."""

    started: int = 0
    wasted: int = 0
    cancelled: int = 0
    usage: Usage = field(default_factory=Usage)


class BranchTable:
    """Starts, adopts, prunes and discards a match's branches; counts the waste.

    `clock` is the match's active clock; `stamp` gives an event's `t`; `publish` sends events.
    """

    def __init__(
        self,
        match_id: str,
        actors: tuple[Actor, Actor],
        *,
        clock: Clock,
        stamp: Clock,
        publish: Callable[[Event], None],
    ) -> None:
        self.match_id = match_id
        self.actors = actors
        self.clock = clock
        self.stamp = stamp
        self.publish = publish
        self._ids = itertools.count(1)
        self._speculative: dict[tuple[Side, str], Branch] = {}
        self._cancelled: set[asyncio.Task[Decision]] = set()
        self._waste = Waste()

    # -- keys ---------------------------------------------------------------------------------

    def key(self, side: Side, state: GameState) -> tuple[Side, str]:
        """What a branch is filed under: the request an actor would send for `state`."""
        return side, f"{self.actors[side].fingerprint()}\x00{state.key()}"

    def __contains__(self, item: tuple[Side, GameState]) -> bool:
        return self.key(*item) in self._speculative

    def in_flight(self, side: Side | None = None) -> int:
        """Speculative branches still running (of one side, or of both)."""
        return sum(
            1
            for b in self._speculative.values()
            if not b.task.done() and (side is None or b.side == side)
        )

    def has_room(self, side: Side) -> bool:
        """True while `side`'s actor can take one more speculative decision: its `concurrency`
        counts the real decision too, so one place is always left for that."""
        return self.in_flight(side) < self.actors[side].concurrency - 1

    # -- verbs --------------------------------------------------------------------------------

    def start(
        self,
        side: Side,
        state: GameState,
        *,
        speculative: bool,
        guess: str = "",
        probability: float = 1.0,
        rank: int = 0,
        depth: int = 0,
    ) -> Branch:
        """Starts `decide(state)` for `side`; a speculative branch is filed for adoption."""
        task = asyncio.ensure_future(self.actors[side].decide(state))
        branch = Branch(
            id=next(self._ids),
            side=side,
            state=state,
            started=self.clock(),
            task=task,
            speculative=speculative,
            guess=guess,
            probability=probability,
            rank=rank,
            depth=depth,
        )
        task.add_done_callback(functools.partial(self._finished, branch))
        if speculative:
            self._speculative[self.key(side, state)] = branch
            self._waste = _plus(self._waste, started=1)
            self.publish(
                BranchStarted(
                    match_id=self.match_id,
                    t=self.stamp(),
                    branch_id=branch.id,
                    ply=state.ply,
                    side=side,
                    path=state.path,
                    guess=guess,
                    probability=probability,
                    rank=rank,
                    depth=depth,
                )
            )
        return branch

    def adopt(self, side: Side, state: GameState) -> Branch | None:
        """Takes the speculative branch for (side, state) out of the table, if there is one."""
        return self._speculative.pop(self.key(side, state), None)

    def prune(self, path: tuple[str, ...]) -> int:
        """Discards every branch the game can no longer reach; returns how many were running."""
        cancelled = 0
        for key, branch in list(self._speculative.items()):
            if not branch.reachable_from(path):
                del self._speculative[key]
                cancelled += self.discard(branch)
        return cancelled

    def discard(self, branch: Branch) -> bool:
        """Drops a branch that will not be used, cancelling it if it runs. True if cancelled."""
        if branch.task.done():
            self._waste = _plus(self._waste, wasted=1, usage=branch.usage())
            return False
        running = self.clock() - branch.started
        estimate = self.actors[branch.side].cancelled_usage(branch.state, running)
        self._waste = _plus(self._waste, wasted=1, cancelled=1, usage=estimate)
        branch.task.cancel()
        self._cancelled.add(branch.task)
        branch.task.add_done_callback(self._cancelled.discard)
        self.publish(
            BranchCancelled(
                match_id=self.match_id,
                t=self.stamp(),
                branch_id=branch.id,
                ply=branch.state.ply,
                side=branch.side,
                running_s=running,
                usage=estimate,
            )
        )
        return True

    def discard_all(self) -> list[asyncio.Task[Decision]]:
        """Discards every branch; returns the tasks still winding down (to await at the end)."""
        for key, branch in list(self._speculative.items()):
            del self._speculative[key]
            self.discard(branch)
        return [t for t in self._cancelled if not t.done()]

    def take_waste(self) -> Waste:
        """The waste counted since the last call, and a fresh count."""
        waste, self._waste = self._waste, Waste()
        return waste

    # -- callbacks ----------------------------------------------------------------------------

    def _finished(self, branch: Branch, _task: asyncio.Task[Decision]) -> None:
        branch.finished = self.clock()
        if branch.task.cancelled() or not branch.speculative:
            return
        exc = branch.task.exception()
        decision = None if exc is not None else branch.task.result()
        with contextlib.suppress(Exception):
            self.publish(
                BranchFinished(
                    match_id=self.match_id,
                    t=self.stamp(),
                    branch_id=branch.id,
                    ply=branch.state.ply,
                    side=branch.side,
                    move=decision.move if decision else None,
                    duration_s=branch.finished - branch.started,
                    usage=decision.usage if decision else Usage(),
                    error=None if exc is None else f"{type(exc).__name__}: {exc}",
                )
            )


def _plus(
    waste: Waste,
    *,
    started: int = 0,
    wasted: int = 0,
    cancelled: int = 0,
    usage: Usage | None = None,
) -> Waste:
    return Waste(
        started=waste.started + started,
        wasted=waste.wasted + wasted,
        cancelled=waste.cancelled + cancelled,
        usage=waste.usage if usage is None else waste.usage + usage,
    )


__all__ = ["Branch", "BranchTable", "Waste"]
