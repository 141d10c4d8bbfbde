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
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from arena.core.actor import Actor, Attempt, Decision, Guess, Speculator, Usage, clean_guesses
from arena.core.branches import Branch, BranchTable
from arena.core.budget import Calibrator, SideHistory, TokenBudget, expected_waste_tokens
from arena.core.clock import ActiveClock, Clock
from arena.core.errors import ArenaError
from arena.core.events import (
    BranchAdopted,
    Event,
    EventBus,
    GuessesMade,
    IllegalAttempt,
    MatchEnded,
    MatchStarted,
    MoveCommitted,
    TurnStarted,
)
from arena.core.game import GameState, Outcome, Side, loss_for
from arena.core.ledger import MatchStats, PlyRecord, Tail
from arena.core.policy import NO_SPECULATION, SpeculationPolicy

log = logging.getLogger(__name__)


class Journal(Protocol):
    """Durable record of a match; the runner awaits it so a committed ply is on disk."""

    async def record(self, event: Event) -> None: ...


@dataclass
class Seat:
    """One side of a match: who decides and who guesses the opponent's moves."""

    actor: Actor
    speculator: Speculator | None = None


class _Stopped(Exception):
    """`Match.stop()` was called: end the match as aborted at the next safe point."""


@dataclass(frozen=True, kw_only=True)
class MatchSummary:
    """What a finished (or stopped) match produced."""

    match_id: str
    outcome: Outcome
    records: tuple[PlyRecord, ...]
    """The plies of this session."""
    history: tuple[PlyRecord, ...] = ()
    """The plies of earlier sessions (a resumed match)."""
    tail: Tail = field(default_factory=Tail)
    start_ply: int = 0
    moves: tuple[str, ...] = ()

    @property
    def stats(self) -> MatchStats:
        """The whole match's accounting, earlier sessions included."""
        return MatchStats.from_records((*self.history, *self.records), (self.tail,))


class Match:
    """Runs one match between two seats, speculating per `policy`.

    Lifecycle verbs: `open()` (optional, starts the players), `run()`, `pause()`, `resume()`,
    `stop()`, `close()` (for a match that will not be run).
    """

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
        history: tuple[PlyRecord, ...] = (),
    ) -> None:
        self.match_id = match_id
        self.start_state = start
        self.seats = seats
        self.policy = policy
        self.max_plies = max_plies
        self.bus = bus or EventBus()
        self.journal = journal
        self.history = history
        """Plies of earlier sessions of this match (resume); the ledger covers them too."""
        self.clock = ActiveClock(clock)
        self.state: GameState = start
        self.records: list[PlyRecord] = []
        self.branches = BranchTable(
            match_id,
            (seats[0].actor, seats[1].actor),
            clock=self.clock,
            stamp=self._now,
            publish=self.bus.publish,
        )
        self._t0: float | None = None
        self._guesses: dict[int, tuple[Guess, ...]] = {}
        self._depth2_this_turn = 0
        self._sides = (SideHistory(), SideHistory())
        """Each side's decision times and tokens so far (history included)."""
        self._calibrators = (Calibrator(), Calibrator())
        """What each side's speculator's stated probabilities have meant in this match."""
        self._budget = (
            TokenBudget(policy.max_overhead_pct) if policy.max_overhead_pct is not None else None
        )
        for record in history:
            self._learn(record)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started: list[Actor | Speculator] = []
        self._opened = False
        self._tail_attempts = 0
        self._speculator_usage_seen = Usage()
        self._gate = asyncio.Event()
        self._gate.set()
        self._stopping = False
        self._current: Branch | None = None

    # -- lifecycle verbs ----------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return not self._gate.is_set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def pause(self) -> None:
        """The match plays no new turn until `resume()`; a decision in flight still finishes
        and is committed. The ledger's clock stops while the match waits at the pause."""
        self._gate.clear()

    def resume(self) -> None:
        self._gate.set()

    def stop(self) -> None:
        """Ends the match as `aborted` at once: the decision in flight is cancelled, every
        committed ply is already saved, and the final record is still written."""
        self._stopping = True
        if self._current is not None and not self._current.task.done():
            self._current.task.cancel()
        self._gate.set()

    @property
    def all_records(self) -> tuple[PlyRecord, ...]:
        """Every ply of the match, earlier sessions' included."""
        return (*self.history, *self.records)

    # -- events -------------------------------------------------------------------------------

    def _now(self) -> float:
        return (self.clock() - self._t0) if self._t0 is not None else 0.0

    async def _emit(self, event: Event, durable: bool = False) -> None:
        if durable and self.journal is not None:
            await self.journal.record(event)
        self.bus.publish(event)

    def _publish(self, event: Event) -> None:
        self.bus.publish(event)

    # -- speculation --------------------------------------------------------------------------

    def _expected_decision_s(self, side: Side) -> float:
        return self._sides[side].median_s(1.0)

    def _learn(self, record: PlyRecord) -> None:
        """What a committed ply teaches the policy: times, tokens, calibration, the budget."""
        if not record.by_person:
            self._sides[record.side].add(record.decision_s, record.usage.tokens)
        if record.speculated and record.guesses:
            self._calibrators[1 - record.side].observe(
                [g.probability for g in record.guesses],
                None if record.rank is None else record.rank - 1,
            )
        if self._budget is not None:
            self._budget.settle(
                record.usage.tokens, record.wasted_usage.tokens + record.speculator_usage.tokens
            )

    def _expected_waste(self, waiter: Side, mover: Side, p: float) -> float | None:
        """Tokens a branch of `waiter` is expected to waste, None while nothing is known of
        what the waiter's calls cost."""
        tokens = self._sides[waiter].median_tokens()
        if tokens is None:
            tokens = self._sides[mover].median_tokens()
        if tokens is None:
            return None
        return expected_waste_tokens(
            p, tokens, self._expected_decision_s(waiter), self._expected_decision_s(mover)
        )

    def _fits_budget(self, waiter: Side, mover: Side, p: float, rank: int) -> bool:
        """The budget policy's verdict on a branch of calibrated probability `p` (reserving its
        expected waste when it fits). Without a budget every branch fits."""
        budget = self._budget
        if budget is None:
            return True
        waste = self._expected_waste(waiter, mover, p)
        if waste is None:
            # Nothing known yet of what a call costs: the top guess only.
            return rank == 1
        commit = sum(self._sides[s].median_tokens() or 0.0 for s in (waiter, mover))
        if not budget.allows(waste, commit):
            return False
        budget.spend(waste)
        return True

    async def _speculate(self, state: GameState) -> None:
        """On the waiting side's behalf: guess the mover's move, start replies to the guesses."""
        mover = state.to_move
        waiter = 1 - mover
        speculator = self.seats[waiter].speculator
        # A person does not pre-think a reply on request: nothing to speculate for them.
        if speculator is None or self.seats[waiter].actor.person:
            return
        t = self.clock()
        raw = await speculator.predict(state, self.policy.k)
        guesses = tuple(clean_guesses(state, raw, self.policy.k))
        if not guesses:
            return  # no guess (none arrived, or the engine was too busy): not speculated on
        self._guesses[state.ply] = guesses
        self._publish(
            GuessesMade(
                match_id=self.match_id,
                t=self._now(),
                ply=state.ply,
                side=waiter,
                guesses=guesses,
                predict_s=self.clock() - t,
            )
        )
        calibrated = self._calibrators[waiter]
        replies = [(rank, g, calibrated(g.probability)) for rank, g in enumerate(guesses, 1)]
        deep = self.policy.depth >= 2 and bool(guesses)
        if self._budget is None or not deep:
            for rank, guess, p in replies:
                if not self._start_reply(state, rank, guess, p):
                    break
            # Depth 2 waits on another prediction: after every depth-1 branch is running.
            if deep:
                line = await self._depth2_line(state, guesses[0], replies[0][2])
                if line is not None:
                    self._start_depth2(*line)
            return
        # Under a budget the top reply starts at once; the other replies and the depth-2 line
        # then share what is left, most probable first.
        rank, top, p_top = replies[0]
        if not self._start_reply(state, rank, top, p_top):
            return
        line = await self._depth2_line(state, top, p_top)
        options: list[tuple[float, Callable[[], bool]]] = [
            (p, functools.partial(self._start_reply, state, rank, g, p))
            for rank, g, p in replies[1:]
        ]
        if line is not None and line[2] >= self.policy.depth2_min_probability:
            options.append((line[2], functools.partial(self._start_depth2, *line)))
        for _, start in sorted(options, key=lambda o: -o[0]):
            if not start():
                break

    def _start_reply(self, state: GameState, rank: int, guess: Guess, p: float) -> bool:
        """Starts the waiter's reply to `guess` (calibrated probability `p`) if the policy lets
        it; False when no further (less likely) reply should be tried."""
        mover = state.to_move
        waiter = 1 - mover
        if self.branches.in_flight() >= self.policy.max_in_flight or not self.branches.has_room(
            waiter
        ):
            return False
        # A reply can save at most the shorter of the two thinking times.
        saving = min(self._expected_decision_s(mover), self._expected_decision_s(waiter))
        if not self.policy.worth(
            guess.probability, saving, self.seats[waiter].actor.expected_cost_usd()
        ):
            return True
        child = state.apply(guess.move)
        if child.outcome() is not None or (waiter, child) in self.branches:
            return True
        if not self._fits_budget(waiter, mover, p, rank):
            return False
        self.branches.start(
            waiter,
            child,
            speculative=True,
            guess=guess.move,
            probability=guess.probability,
            rank=rank,
            depth=1,
        )
        return True

    async def _depth2_line(
        self, state: GameState, top: Guess, p1: float
    ) -> tuple[GameState, Guess, float] | None:
        """The mover's most likely answer to the waiter's most likely reply after `top`: the
        position it would be decided at, the answer guessed, and the line's probability."""
        mover = state.to_move
        child = state.apply(top.move)
        speculator = self.seats[mover].speculator
        if (
            child.outcome() is not None
            or speculator is None
            or self.seats[mover].actor.person
            or self._depth2_this_turn >= self.policy.depth2_budget
        ):
            return None
        answers = clean_guesses(child, await speculator.predict(child, 1), 1)
        if not answers:
            return None
        grandchild = child.apply(answers[0].move)
        if grandchild.outcome() is not None or (mover, grandchild) in self.branches:
            return None
        return grandchild, answers[0], p1 * self._calibrators[mover](answers[0].probability)

    def _start_depth2(self, grandchild: GameState, answer: Guess, p: float) -> bool:
        """Pre-thinks the mover's decision two plies ahead; False if the policy refuses."""
        mover = grandchild.to_move
        if (
            self.branches.in_flight() >= self.policy.max_in_flight
            or not self.branches.has_room(mover)
            or (mover, grandchild) in self.branches
        ):
            return False
        saving = self._expected_decision_s(mover)
        if not self.policy.worth(p, saving, self.seats[mover].actor.expected_cost_usd()):
            return False
        # Its call runs until the reply after next, so all of it is at stake.
        if not self._fits_budget(mover, mover, p, rank=2):
            return False
        self._depth2_this_turn += 1
        self.branches.start(
            mover, grandchild, speculative=True, guess=answer.move, probability=p, rank=1, depth=2
        )
        return True

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    # -- the loop -----------------------------------------------------------------------------

    async def _real_decision(self, state: GameState, branch: Branch) -> tuple[Decision, Branch]:
        """Awaits the decision for `state`; a failed or unusable speculative one is just a miss."""
        self._current = branch
        try:
            decision = await branch.task
        except asyncio.CancelledError:
            # The match itself being cancelled (which cancels the branch it awaits too) stops
            # us; so does `stop()`. Only a speculative branch cancelled otherwise is a miss.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            if self._stopping:
                raise _Stopped from None
            if not (branch.speculative and branch.task.cancelled()):
                raise
            decision = Decision(move=None, raw="cancelled")
        except Exception:
            if self._stopping:
                raise _Stopped from None
            if not branch.speculative:
                raise
            decision = Decision(move=None, raw="speculative branch failed")
        if branch.speculative and (decision.move is None or not state.is_legal(decision.move)):
            branch = self.branches.start(state.to_move, state, speculative=False)
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

    def _over(self) -> Outcome | None:
        outcome = self.state.outcome()
        if outcome is None and self.max_plies is not None and self.state.ply >= self.max_plies:
            outcome = Outcome("*", "max plies")
        return outcome

    async def run(self) -> MatchSummary:
        """Plays the match to its end; every committed ply is journaled before the next turn."""
        outcome: Outcome | None = None
        started = self._started
        last_commit: float | None = None
        try:
            await self.open()
            self._t0 = self.clock()
            await self._emit(
                MatchStarted(
                    match_id=self.match_id,
                    t=0.0,
                    players=(self.seats[0].actor.spec, self.seats[1].actor.spec),
                    speculators=(self._speculator_spec(0), self._speculator_spec(1)),
                    start_fen=self.start_state.position(),
                    ply=self.state.ply,
                    history=self.history,
                ),
                durable=True,
            )
            last_commit = self.clock()
            while outcome is None:
                outcome = self._over()
                if outcome is not None or self._stopping:
                    break
                if self.paused:
                    self.clock.pause()
                    try:
                        await self._gate.wait()
                    finally:
                        self.clock.resume()
                if self._stopping:
                    break
                outcome, last_commit = await self._play_turn(last_commit)
        except _Stopped:
            outcome = None
        except asyncio.CancelledError:
            outcome = None
            raise
        except ArenaError as exc:
            outcome = Outcome("*", f"error: {exc}")
        except Exception as exc:
            log.exception("match %s failed", self.match_id)
            outcome = Outcome("*", f"error: {type(exc).__name__}: {exc}")
        finally:
            await self._shutdown(started)
            final = outcome or Outcome("*", "aborted")
            summary = self._summary(final)
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self._emit(
                        MatchEnded(
                            match_id=self.match_id,
                            t=self._now(),
                            result=final.result,
                            termination=final.termination,
                            stats=summary.stats,
                            max_plies=self.max_plies,
                        ),
                        durable=True,
                    )
                )
        return summary

    async def _play_turn(self, last_commit: float) -> tuple[Outcome | None, float]:
        """Plays one ply. `last_commit` is when the previous ply (or the match start) was on
        disk; returns the outcome if the match ended, and when this ply was on disk."""
        state = self.state
        mover = state.to_move
        actor = self.seats[mover].actor
        turn_start = self.clock()
        self._depth2_this_turn = 0
        self._publish(TurnStarted(match_id=self.match_id, t=self._now(), ply=state.ply, side=mover))

        adopted = self.branches.adopt(mover, state)
        if adopted is not None:
            self._publish(
                BranchAdopted(
                    match_id=self.match_id,
                    t=self._now(),
                    branch_id=adopted.id,
                    ply=state.ply,
                    side=mover,
                    ready=adopted.task.done(),
                )
            )
            branch = adopted
        else:
            branch = self.branches.start(mover, state, speculative=False)
        was_ready = adopted is not None and adopted.task.done()

        speculating = self.policy.enabled and self.seats[1 - mover].speculator is not None
        spec_task = self._spawn(self._speculate(state)) if speculating else None
        try:
            decision, branch = await self._real_decision(state, branch)
        finally:
            self._current = None
            if spec_task is not None and not spec_task.done():
                spec_task.cancel()
        hit = branch is adopted

        for attempt in decision.attempts:
            self._publish(
                IllegalAttempt(
                    match_id=self.match_id,
                    t=self._now(),
                    ply=state.ply,
                    side=mover,
                    attempt=attempt,
                )
            )
        if decision.move is None or not state.is_legal(decision.move):
            self._tail_attempts += len(decision.attempts)
            reason = decision.forfeit or (
                "forfeit: illegal move" if decision.move is not None else "forfeit: no move"
            )
            return loss_for(mover, reason), last_commit

        move = decision.move
        commit = self.clock()
        new_state = state.apply(move)
        cancelled = self.branches.prune(new_state.path)
        waste = self.branches.take_waste()
        finished = branch.finished if branch.finished is not None else commit
        decision_s = finished - branch.started
        wall_s = commit - last_commit
        speculated = state.ply in self._guesses
        guesses = self._guesses.pop(state.ply, ())
        rank = next((i for i, g in enumerate(guesses, 1) if g.move == move), None)
        record = PlyRecord(
            ply=state.ply,
            side=mover,
            move=move,
            san=state.format_move(move, "san"),
            fen_after=new_state.position(),
            decision_s=decision_s,
            wait_s=commit - turn_start,
            wall_s=wall_s,
            saved_s=0.0 if actor.person else decision_s - wall_s,
            hit=hit,
            rank=rank,
            speculated=speculated,
            by_person=actor.person,
            guesses=guesses,
            branches_started=waste.started,
            branches_cancelled=cancelled,
            branches_wasted=waste.wasted,
            usage=decision.usage,
            wasted_usage=waste.usage,
            speculator_usage=self._take_speculator_usage(),
            attempts=decision.attempts,
            flagged=decision.flagged,
            raw=decision.raw,
            commit_latency_s=wall_s if hit and was_ready else None,
        )
        self.state = new_state
        self.records.append(record)
        self._learn(record)
        await self._emit(
            MoveCommitted(match_id=self.match_id, t=self._now(), record=record), durable=True
        )
        # The next ply's wall time starts once this one is on disk: the same match without
        # speculation pays for that write too, so it is neither thinking nor speculation.
        persisted = self.clock()
        for seat in self.seats:
            if seat.speculator is not None:
                seat.speculator.observe(state, move)
        return None, persisted

    def _take_speculator_usage(self) -> Usage:
        """The speculators' usage since the last call (each speculator counted once)."""
        speculators = {id(s.speculator): s.speculator for s in self.seats if s.speculator}
        total = sum((s.usage for s in speculators.values()), Usage())
        seen, self._speculator_usage_seen = self._speculator_usage_seen, total
        return _minus(total, seen)

    async def _shutdown(self, started: list[Actor | Speculator]) -> None:
        leftovers = self.branches.discard_all()
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        # Cancelled work is awaited only here, at the end, so no task or process outlives the match.
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
        waste = self.branches.take_waste()
        return MatchSummary(
            match_id=self.match_id,
            outcome=outcome,
            records=tuple(self.records),
            history=self.history,
            tail=Tail(
                branches_wasted=waste.wasted,
                wasted_usage=waste.usage,
                speculator_usage=self._take_speculator_usage(),
                uncommitted_attempts=self._tail_attempts,
            ),
            start_ply=self.start_state.ply,
            moves=tuple(self.state.path),
        )


def _minus(a: Usage, b: Usage) -> Usage:
    cost = None if a.cost_usd is None or b.cost_usd is None else a.cost_usd - b.cost_usd
    return Usage(
        a.input_tokens - b.input_tokens,
        a.output_tokens - b.output_tokens,
        a.cached_tokens - b.cached_tokens,
        a.reasoning_tokens - b.reasoning_tokens,
        cost,
    )


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("speculation task failed: %r", task.exception())


__all__ = ["Attempt", "Branch", "Journal", "Match", "MatchSummary", "Seat"]
