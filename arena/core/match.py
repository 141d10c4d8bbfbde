"""The match runner and its speculation engine.

For each ply, with P to move at state s and Q waiting:

1. If a branch for (P, key(s)) already runs or finished, adopt it (a hit); else start P.decide(s).
2. On Q's behalf, Q's speculator predicts P's move; for each guess worth it, start Q.decide(s + m)
   as a branch keyed (Q, key(s + m)).
3. When P's move arrives, check it is legal on the real s, commit it, persist it, then cancel every
   branch that can no longer be reached. Losing branches are never awaited.
4. Speculate again on the next ply, right after a hit too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from arena.core.actor import Actor, Attempt, Decision, Guess, Speculator, Usage, clean_guesses
from arena.core.errors import ArenaError
from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    Event,
    EventBus,
    GuessesMade,
    IllegalAttempt,
    MatchEnded,
    MatchStarted,
    MoveCommitted,
    PlyRecord,
    TurnStarted,
)
from arena.core.game import GameState, Outcome, Side, loss_for
from arena.core.policy import NO_SPECULATION, SpeculationPolicy

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Journal(Protocol):
    """Durable record of a match; the runner awaits it so a committed ply is on disk."""

    async def record(self, event: Event) -> None: ...


@dataclass
class Seat:
    """One side of a match: who decides and who guesses the opponent's moves."""

    actor: Actor
    speculator: Speculator | None = None


@dataclass(eq=False)
class Branch:
    """One decision in flight: the real one for the current ply, or a speculative one."""

    id: int
    side: Side
    state: GameState
    started: float
    task: asyncio.Task[Decision]
    speculative: bool
    guess: str = ""
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


@dataclass
class MatchSummary:
    """What a finished (or stopped) match produced."""

    match_id: str
    outcome: Outcome
    records: list[PlyRecord]
    wall_s: float
    start_ply: int
    moves: list[str] = field(default_factory=list)
    branches_started: int = 0
    branches_wasted: int = 0
    wasted_usage: Usage = field(default_factory=Usage)
    speculated_plies: int = 0
    """Plies for which the waiting side's guesses arrived before the move was committed."""
    predicted_plies: int = 0
    """Of those, plies whose played move was among the guesses."""
    uncommitted_attempts: int = 0
    """Rejected tries of a decision that ended the match (a forfeit) without a ply."""
    speculator_usage: Usage = field(default_factory=Usage)
    """Usage of the speculators' own calls (counted as overhead)."""

    @property
    def stats(self) -> dict[str, Any]:
        recs = self.records
        sequential = sum(r.decision_s for r in recs)
        saved = sum(r.saved_s for r in recs)
        hits = sum(1 for r in recs if r.hit)
        committed_tokens = sum(r.usage.tokens for r in recs)
        wasted_tokens = self.wasted_usage.tokens + self.speculator_usage.tokens
        usage: list[dict[str, Any]] = []
        for side in (0, 1):
            total = Usage()
            for r in recs:
                if r.side == side:
                    total = total + r.usage
            usage.append(total.as_dict())
        latencies = sorted(
            r.commit_latency_s * 1000 for r in recs if r.commit_latency_s is not None
        )
        return {
            "plies": len(recs),
            "sequential_s": round(sequential, 4),
            "wall_s": round(self.wall_s, 4),
            "saved_s": round(saved, 4),
            "saved_pct": round(100 * saved / sequential, 2) if sequential > 0 else 0.0,
            "hit_rate": (
                round(self.predicted_plies / self.speculated_plies, 4)
                if self.speculated_plies
                else 0.0
            ),
            "hits": hits,
            "predicted_plies": self.predicted_plies,
            "speculated_plies": self.speculated_plies,
            "branches_started": self.branches_started,
            "branches_wasted": self.branches_wasted,
            "token_overhead_pct": (
                round(100 * wasted_tokens / committed_tokens, 2) if committed_tokens else 0.0
            ),
            "wasted_tokens": wasted_tokens,
            "illegal_attempts": sum(len(r.attempts) for r in recs) + self.uncommitted_attempts,
            "usage": {"white": usage[0], "black": usage[1]},
            "commit_latency_p95_ms": (
                round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 3)
                if latencies
                else None
            ),
        }


class Match:
    """Runs one match between two seats, speculating per `policy`."""

    def __init__(
        self,
        match_id: str,
        start: GameState,
        seats: tuple[Seat, Seat],
        *,
        policy: SpeculationPolicy = NO_SPECULATION,
        max_plies: int | None = None,
        bus: EventBus | None = None,
        journal: Journal | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.match_id = match_id
        self.start_state = start
        self.seats = seats
        self.policy = policy
        self.max_plies = max_plies
        self.bus = bus or EventBus()
        self.journal = journal
        self.clock = clock
        self._ids = itertools.count(1)
        self._branches: dict[tuple[Side, str], Branch] = {}
        self._t0 = 0.0
        self._guesses: dict[int, tuple[Guess, ...]] = {}
        self._started_this_turn = 0
        self._depth2_this_turn = 0
        self._branches_started = 0
        self._branches_wasted = 0
        self._wasted = Usage()
        self._decision_times: tuple[list[float], list[float]] = ([], [])
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cancelled: set[asyncio.Task[Decision]] = set()
        self._started: list[Actor | Speculator] = []
        self._opened = False
        self._speculated_plies = 0
        self._uncommitted_attempts = 0
        self._predicted = 0
        self._wasted_this_turn = Usage()
        self.state: GameState = start
        self.records: list[PlyRecord] = []
        self.paused = asyncio.Event()
        self.paused.set()

    # -- events -----------------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock() - self._t0

    async def _emit(self, event: Event, durable: bool = False) -> None:
        if durable and self.journal is not None:
            await self.journal.record(event)
        self.bus.publish(event)

    def _publish(self, event: Event) -> None:
        self.bus.publish(event)

    # -- branches ---------------------------------------------------------------------------

    def _start_branch(
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
        task = asyncio.ensure_future(self.seats[side].actor.decide(state))
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
        task.add_done_callback(functools.partial(self._on_branch_done_cb, branch))
        if speculative:
            self._branches[(side, self._branch_key(side, state))] = branch
            self._branches_started += 1
            self._started_this_turn += 1
            self._publish(
                BranchStarted(
                    self.match_id,
                    self._now(),
                    branch.id,
                    state.ply,
                    side,
                    state.path,
                    guess,
                    probability,
                    rank,
                    depth,
                )
            )
        return branch

    def _branch_key(self, side: Side, state: GameState) -> str:
        return f"{self.seats[side].actor.fingerprint()}\x00{state.key()}"

    def _on_branch_done_cb(self, branch: Branch, _task: asyncio.Task[Decision]) -> None:
        self._on_branch_done(branch)

    def _on_branch_done(self, branch: Branch) -> None:
        branch.finished = self.clock()
        if branch.task.cancelled() or not branch.speculative:
            return
        exc = branch.task.exception()
        decision = None if exc is not None else branch.task.result()
        self._publish(
            BranchFinished(
                self.match_id,
                self._now(),
                branch.id,
                branch.state.ply,
                branch.side,
                decision.move if decision else None,
                branch.finished - branch.started,
                decision.usage if decision else Usage(),
                None if exc is None else f"{type(exc).__name__}: {exc}",
            )
        )

    def _in_flight(self) -> int:
        return sum(1 for b in self._branches.values() if not b.task.done())

    def _discard(self, branch: Branch) -> bool:
        """Drops a branch that can no longer be used; cancels it if it runs. True if cancelled."""
        self._branches_wasted += 1
        if branch.task.done():
            self._wasted = self._wasted + branch.usage()
            self._wasted_this_turn = self._wasted_this_turn + branch.usage()
            return False
        running = self.clock() - branch.started
        estimate = self.seats[branch.side].actor.cancelled_usage(branch.state, running)
        self._wasted = self._wasted + estimate
        self._wasted_this_turn = self._wasted_this_turn + estimate
        branch.task.cancel()
        self._cancelled.add(branch.task)
        branch.task.add_done_callback(self._cancelled.discard)
        self._publish(
            BranchCancelled(
                self.match_id,
                self._now(),
                branch.id,
                branch.state.ply,
                branch.side,
                running,
                estimate,
            )
        )
        return True

    def _prune(self, path: tuple[str, ...]) -> int:
        cancelled = 0
        for key, branch in list(self._branches.items()):
            if not branch.reachable_from(path):
                del self._branches[key]
                cancelled += self._discard(branch)
        return cancelled

    # -- speculation ------------------------------------------------------------------------

    def _expected_decision_s(self, side: Side) -> float:
        times = self._decision_times[side]
        return statistics.median(times) if times else 1.0

    async def _speculate(self, state: GameState) -> None:
        """On the waiting side's behalf: guess the mover's move, start replies to the guesses."""
        mover = state.to_move
        waiter = 1 - mover
        speculator = self.seats[waiter].speculator
        if speculator is None:
            return
        t = self.clock()
        raw = await speculator.predict(state, self.policy.k)
        guesses = tuple(clean_guesses(state, raw, self.policy.k))
        self._guesses[state.ply] = guesses
        self._publish(
            GuessesMade(self.match_id, self._now(), state.ply, waiter, guesses, self.clock() - t)
        )
        # A reply can save at most the shorter of the two thinking times.
        saving = min(self._expected_decision_s(mover), self._expected_decision_s(waiter))
        cost = self.seats[waiter].actor.expected_cost_usd()
        for rank, guess in enumerate(guesses, 1):
            if self._in_flight() >= self.policy.max_in_flight:
                break
            if not self.policy.worth(guess.probability, saving, cost):
                continue
            child = state.apply(guess.move)
            if child.outcome() is not None:
                continue
            if (waiter, self._branch_key(waiter, child)) in self._branches:
                continue
            self._start_branch(
                waiter,
                child,
                speculative=True,
                guess=guess.move,
                probability=guess.probability,
                rank=rank,
                depth=1,
            )
        # Depth 2 waits on another prediction: it comes after every depth-1 branch is running.
        if self.policy.depth >= 2 and guesses:
            top = guesses[0]
            child = state.apply(top.move)
            if child.outcome() is None:
                await self._speculate_depth2(child, top.probability)

    async def _speculate_depth2(self, child: GameState, p1: float) -> None:
        """Pre-thinks the mover's answer to the waiter's most likely reply at `child`."""
        mover = child.to_move ^ 1
        speculator = self.seats[mover].speculator
        if speculator is None or self._depth2_this_turn >= self.policy.depth2_budget:
            return
        replies = clean_guesses(child, await speculator.predict(child, 1), 1)
        if not replies or self._in_flight() >= self.policy.max_in_flight:
            return
        reply = replies[0]
        grandchild = child.apply(reply.move)
        p = p1 * reply.probability
        saving = self._expected_decision_s(mover)
        if grandchild.outcome() is not None or not self.policy.worth(
            p, saving, self.seats[mover].actor.expected_cost_usd()
        ):
            return
        if (mover, self._branch_key(mover, grandchild)) in self._branches:
            return
        self._depth2_this_turn += 1
        self._start_branch(
            mover, grandchild, speculative=True, guess=reply.move, probability=p, rank=1, depth=2
        )

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    # -- the loop ---------------------------------------------------------------------------

    async def _real_decision(self, state: GameState, branch: Branch) -> tuple[Decision, Branch]:
        """Awaits the decision for `state`; a failed or unusable speculative one is just a miss."""
        try:
            decision = await branch.task
        except asyncio.CancelledError:
            # Only a speculative branch cancelled from inside is a miss; the match itself being
            # cancelled (which cancels the branch it awaits too) stops us.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            if not (branch.speculative and branch.task.cancelled()):
                raise
            decision = Decision(move=None, raw="cancelled")
        except Exception:
            if not branch.speculative:
                raise
            decision = Decision(move=None, raw="speculative branch failed")
        if branch.speculative and (decision.move is None or not state.is_legal(decision.move)):
            branch = self._start_branch(state.to_move, state, speculative=False)
            return await self._real_decision(state, branch)
        return decision, branch

    async def open(self) -> None:
        """Starts every actor and speculator once; on failure closes those started and raises."""
        if self._opened:
            return
        try:
            for seat in self.seats:
                for part in (seat.actor, seat.speculator):
                    if part is not None and part not in self._started:
                        await part.start()
                        self._started.append(part)
        except BaseException:
            await self._shutdown(self._started)
            self._started.clear()
            raise
        self._opened = True

    def _speculator_spec(self, side: Side) -> str | None:
        speculator = self.seats[side].speculator
        return speculator.spec if speculator is not None else None

    async def close(self) -> None:
        """Releases what `open` started, for a match that will not be run."""
        await self._shutdown(self._started)
        self._started.clear()
        self._opened = False

    async def run(self) -> MatchSummary:
        """Plays the match to its end; every committed ply is journaled before the next turn."""
        outcome: Outcome | None = None
        started = self._started
        try:
            await self.open()
            self._t0 = self.clock()
            await self._emit(
                MatchStarted(
                    self.match_id,
                    0.0,
                    (self.seats[0].actor.spec, self.seats[1].actor.spec),
                    (self._speculator_spec(0), self._speculator_spec(1)),
                    self.start_state.position(),
                    self.state.ply,
                ),
                durable=True,
            )
            last_commit = self.clock()
            while outcome is None:
                outcome = self.state.outcome()
                if outcome is not None:
                    break
                if self.max_plies is not None and self.state.ply >= self.max_plies:
                    outcome = Outcome("*", "max plies")
                    break
                await self.paused.wait()
                outcome, last_commit = await self._play_turn(last_commit)
        except asyncio.CancelledError:
            outcome = Outcome("*", "aborted")
            raise
        except ArenaError as exc:
            outcome = Outcome("*", f"error: {exc}")
        except Exception as exc:
            log.exception("match %s failed", self.match_id)
            outcome = Outcome("*", f"error: {type(exc).__name__}: {exc}")
        finally:
            await self._shutdown(started)
            summary = self._summary(outcome or Outcome("*", "aborted"))
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self._emit(
                        MatchEnded(
                            self.match_id,
                            self._now(),
                            summary.outcome.result,
                            summary.outcome.termination,
                            summary.stats,
                        ),
                        durable=True,
                    )
                )
        return summary

    async def _play_turn(self, last_commit: float) -> tuple[Outcome | None, float]:
        state = self.state
        mover = state.to_move
        turn_start = self.clock()
        self._started_this_turn = 0
        self._depth2_this_turn = 0
        self._wasted_this_turn = Usage()
        self._publish(TurnStarted(self.match_id, self._now(), state.ply, mover, state.key()))

        adopted = self._branches.pop((mover, self._branch_key(mover, state)), None)
        if adopted is not None:
            self._publish(
                BranchAdopted(
                    self.match_id, self._now(), adopted.id, state.ply, mover, adopted.task.done()
                )
            )
            branch = adopted
        else:
            branch = self._start_branch(mover, state, speculative=False)
        was_ready = adopted is not None and adopted.task.done()

        speculating = self.policy.enabled and self.seats[1 - mover].speculator is not None
        spec_task = self._spawn(self._speculate(state)) if speculating else None
        try:
            decision, branch = await self._real_decision(state, branch)
        finally:
            if spec_task is not None and not spec_task.done():
                spec_task.cancel()
        hit = branch is adopted

        for attempt in decision.attempts:
            self._publish(IllegalAttempt(self.match_id, self._now(), state.ply, mover, attempt))
        if decision.move is None or not state.is_legal(decision.move):
            self._uncommitted_attempts += len(decision.attempts)
            reason = decision.forfeit or (
                "forfeit: illegal move" if decision.move is not None else "forfeit: no move"
            )
            return loss_for(mover, reason), last_commit

        move = decision.move
        commit = self.clock()
        new_state = state.apply(move)
        cancelled = self._prune(new_state.path)
        finished = branch.finished if branch.finished is not None else commit
        decision_s = finished - branch.started
        wait_s = commit - turn_start
        guessed = state.ply in self._guesses
        guesses = self._guesses.pop(state.ply, ())
        rank = next((i for i, g in enumerate(guesses, 1) if g.move == move), None)
        self._decision_times[mover].append(decision_s)
        record = PlyRecord(
            ply=state.ply,
            side=mover,
            move=move,
            san=state.format_move(move, "san"),
            fen_after=new_state.position(),
            decision_s=decision_s,
            wait_s=wait_s,
            saved_s=max(0.0, decision_s - wait_s) if hit else 0.0,
            hit=hit,
            rank=rank,
            guesses=guesses,
            branches_started=self._started_this_turn,
            branches_cancelled=cancelled,
            usage=decision.usage,
            wasted_usage=self._wasted_this_turn,
            attempts=decision.attempts,
            flagged=decision.flagged,
            raw=decision.raw,
            commit_latency_s=(commit - last_commit) if hit and was_ready else None,
        )
        if guessed:
            self._speculated_plies += 1
            self._predicted += rank is not None
        self.state = new_state
        self.records.append(record)
        await self._emit(MoveCommitted(self.match_id, self._now(), record), durable=True)
        for seat in self.seats:
            if seat.speculator is not None:
                seat.speculator.observe(state, move)
        return None, commit

    async def _shutdown(self, started: list[Actor | Speculator]) -> None:
        for key, branch in list(self._branches.items()):
            del self._branches[key]
            self._discard(branch)
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        # Cancelled work is awaited only here, at the end, so no task or process outlives the match.
        leftovers = [t for t in self._cancelled if not t.done()]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                asyncio.gather(*pending, *leftovers, return_exceptions=True), timeout=10
            )
        for part in reversed(started):
            try:
                await asyncio.shield(part.close())
            except Exception:
                log.exception("closing %s failed", part)

    def _summary(self, outcome: Outcome) -> MatchSummary:
        return MatchSummary(
            match_id=self.match_id,
            outcome=outcome,
            records=self.records,
            wall_s=(self.clock() - self._t0) if self._t0 else 0.0,
            start_ply=self.start_state.ply,
            moves=list(self.state.path),
            branches_started=self._branches_started,
            branches_wasted=self._branches_wasted,
            wasted_usage=self._wasted,
            speculated_plies=self._speculated_plies,
            predicted_plies=self._predicted,
            uncommitted_attempts=self._uncommitted_attempts,
            speculator_usage=sum(
                (s.speculator.usage for s in self.seats if s.speculator is not None), Usage()
            ),
        )


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("speculation task failed: %r", task.exception())


__all__ = ["Attempt", "Branch", "Journal", "Match", "MatchSummary", "Seat"]
