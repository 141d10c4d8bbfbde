"""The match runner and speculation engine: lossless, cancellation, accounting, faults."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.core.actor import Actor, Decision, Guess, Speculator
from arena.core.events import BranchAdopted, BranchCancelled, Event, MoveCommitted
from arena.core.game import GameState
from arena.core.match import Match, Seat
from arena.core.policy import NO_SPECULATION, SpeculationPolicy
from arena.games.chess import ChessState
from tests.unit.helpers import OracleSpeculator, SeededActor, chosen_move


def _match(
    white: Actor,
    black: Actor,
    specs: tuple[Speculator | None, Speculator | None],
    policy: SpeculationPolicy,
    max_plies: int,
) -> Match:
    return Match(
        "test",
        ChessState.from_fen(None),
        (Seat(white, specs[0]), Seat(black, specs[1])),
        policy=policy,
        max_plies=max_plies,
        # The loop's clock: under `looptime` it is fake and exact.
        clock=asyncio.get_running_loop().time,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed_w=st.integers(0, 10_000),
    seed_b=st.integers(0, 10_000),
    quality=st.floats(0.0, 1.0),
    k=st.integers(1, 3),
    depth=st.sampled_from([1, 2]),
    max_in_flight=st.integers(1, 6),
)
def test_lossless_same_game_with_and_without_speculation(
    seed_w: int, seed_b: int, quality: float, k: int, depth: int, max_in_flight: int
) -> None:
    async def play(speculate: bool) -> list[str]:
        specs = (
            (OracleSpeculator(seed_b, quality, 1), OracleSpeculator(seed_w, quality, 2))
            if speculate
            else (None, None)
        )
        policy = (
            SpeculationPolicy(k=k, depth=depth, max_in_flight=max_in_flight)
            if speculate
            else NO_SPECULATION
        )
        m = _match(SeededActor(seed_w, 0.004), SeededActor(seed_b, 0.004), specs, policy, 16)
        summary = await m.run()
        assert not summary.outcome.termination.startswith("error"), summary.outcome
        return list(summary.moves)

    with_spec = asyncio.run(play(True))
    without = asyncio.run(play(False))
    assert with_spec == without
    start = ChessState.from_fen().position()
    assert len(without) == 16 or ChessState.from_moves(start, without).outcome()


async def test_speculation_hits_and_tasks_do_not_leak() -> None:
    m = _match(
        SeededActor(1, 0.01),
        SeededActor(2, 0.01),
        (OracleSpeculator(2, 1.0), OracleSpeculator(1, 1.0)),
        SpeculationPolicy(k=2),
        12,
    )
    summary = await m.run()
    assert summary.stats.hit_rate == 1.0
    assert summary.stats.adopted_plies >= 5
    assert summary.stats.branches_started >= 12
    assert {t for t in asyncio.all_tasks() if not t.done()} == {asyncio.current_task()}


class SlowWrongActor(SeededActor):
    """Answers states that will be played quickly; everything else takes a long time."""

    def __init__(self, seed: int, opponent_seed: int) -> None:
        super().__init__(seed, 0.0)
        self.opponent_seed = opponent_seed

    async def decide(self, state: GameState) -> Decision:
        played_parent = all(
            m == chosen_move(self.opponent_seed if i % 2 == 0 else self.seed, s)
            for i, (m, s) in enumerate(_walk(state))
        )
        self.calls.append(state.key())
        try:
            await asyncio.sleep(0.01 if played_parent else 30)
        except asyncio.CancelledError:
            self.cancelled.append(state.key())
            raise
        move = chosen_move(self.seed, state)
        return Decision(move=move, raw=move)


def _walk(state: GameState) -> list[tuple[str, GameState]]:
    start = ChessState.from_fen(None)
    out = []
    s: GameState = start
    for move in state.path:
        out.append((move, s))
        s = s.apply(move)
    return out


async def test_losing_branches_are_cancelled_at_once_and_never_awaited() -> None:
    events: list[tuple[float, Event]] = []
    white = SeededActor(1, 0.05)
    black = SlowWrongActor(2, 1)
    m = _match(white, black, (None, OracleSpeculator(1, 1.0)), SpeculationPolicy(k=3), 6)
    m.bus.subscribe(lambda e: events.append((time.monotonic(), e)))
    t0 = time.monotonic()
    summary = await m.run()
    # Each wrong-guess branch would take 30 s: the match finishing fast proves none was awaited.
    assert time.monotonic() - t0 < 5
    walked = _walk_moves(list(summary.moves))
    assert list(summary.moves) == [
        chosen_move(1 if i % 2 == 0 else 2, s) for i, (_, s) in enumerate(walked)
    ]
    cancels = [(t, e) for t, e in events if isinstance(e, BranchCancelled)]
    assert cancels, "wrong guesses must be cancelled"
    commits = {e.record.ply: t for t, e in events if isinstance(e, MoveCommitted)}
    for t, e in cancels:
        # Cancelled at the commit of the ply before the branch's ply, within milliseconds.
        assert t - commits[e.ply - 1] < 0.05
    assert len(black.cancelled) == len(cancels)


def _walk_moves(moves: list[str]) -> list[tuple[str, GameState]]:
    s: GameState = ChessState.from_fen(None)
    out = []
    for move in moves:
        out.append((move, s))
        s = s.apply(move)
    return out


class FixedLatencyActor(SeededActor):
    def __init__(self, seed: int, latency: float) -> None:
        super().__init__(seed)
        self.latency = latency

    async def decide(self, state: GameState) -> Decision:
        await asyncio.sleep(self.latency)
        move = chosen_move(self.seed, state)
        return Decision(move=move, raw=move)


@pytest.mark.looptime
async def test_accounting_exact_saving_with_scripted_latencies() -> None:
    # White thinks 0.2 s, Black 0.1 s; Black's speculator always guesses White's move at once.
    # Every Black reply is then ready when White commits: 0.1 s saved per Black ply, no more.
    plies = 8
    m = _match(
        FixedLatencyActor(1, 0.2),
        FixedLatencyActor(2, 0.1),
        (None, OracleSpeculator(1, 1.0)),
        SpeculationPolicy(k=1),
        plies,
    )
    summary = await m.run()
    stats = summary.stats
    black_plies = plies // 2
    assert stats.adopted_plies == black_plies
    assert stats.saved_s == pytest.approx(0.1 * black_plies, abs=1e-6)
    assert stats.sequential_s == pytest.approx((0.2 + 0.1) * black_plies, abs=1e-6)
    assert stats.wall_s == pytest.approx(0.2 * black_plies, abs=1e-6)
    assert stats.saved_s == pytest.approx(stats.sequential_s - stats.wall_s, abs=1e-6)
    for r in summary.records:
        if r.side == 1:
            assert r.hit and r.wait_s == pytest.approx(0.0, abs=1e-6)
            assert r.saved_s == pytest.approx(0.1, abs=1e-6)
        else:
            # Black's speculator foresaw every White move at rank 1; White's thinking is not saved.
            assert not r.hit and r.saved_s == pytest.approx(0.0, abs=1e-6) and r.rank == 1


class FaultyActor(SeededActor):
    """Good on a state's second call; on the first: raises, returns garbage, or hangs."""

    def __init__(self, seed: int, fault: str) -> None:
        super().__init__(seed, 0.005)
        self.fault = fault
        self.seen: set[str] = set()

    async def decide(self, state: GameState) -> Decision:
        first = state.key() not in self.seen
        self.seen.add(state.key())
        if first and state.ply > 0:
            if self.fault == "raise":
                raise RuntimeError("provider exploded")
            if self.fault == "illegal":
                return Decision(move="a1a1", raw="a1a1")
            if self.fault == "none":
                return Decision(move=None, raw="garbage")
        return await super().decide(state)


async def test_faulty_branches_are_never_committed() -> None:
    reference = await _match(
        SeededActor(1, 0.01), SeededActor(2, 0.005), (None, None), NO_SPECULATION, 10
    ).run()
    for fault in ("raise", "illegal", "none"):
        m = _match(
            SeededActor(1, 0.01),
            FaultyActor(2, fault),
            (None, OracleSpeculator(1, 1.0)),
            SpeculationPolicy(k=3),
            10,
        )
        summary = await m.run()
        assert summary.moves == reference.moves, fault
        assert not summary.outcome.termination.startswith("error"), summary.outcome


class HangingSpeculatedActor(SeededActor):
    """Hangs forever on any state that was not reached by the real game."""

    def __init__(self, seed: int, opponent_seed: int) -> None:
        super().__init__(seed, 0.005)
        self.opponent_seed = opponent_seed

    async def decide(self, state: GameState) -> Decision:
        real = all(
            m == chosen_move(self.opponent_seed if i % 2 == 0 else self.seed, s)
            for i, (m, s) in enumerate(_walk(state))
        )
        if not real:
            await asyncio.Event().wait()
        return await super().decide(state)


async def test_hanging_losing_branch_does_not_block() -> None:
    m = _match(
        SeededActor(1, 0.01),
        HangingSpeculatedActor(2, 1),
        (None, OracleSpeculator(1, 0.0)),
        SpeculationPolicy(k=3),
        8,
    )
    summary = await asyncio.wait_for(m.run(), timeout=5)
    assert len(summary.moves) == 8
    assert summary.stats.adopted_plies == 0


class ExplodingActor(Actor):
    spec = "explodes"

    async def decide(self, state: GameState) -> Decision:
        raise RuntimeError("boom")


class IllegalActor(Actor):
    spec = "illegal"

    async def decide(self, state: GameState) -> Decision:
        return Decision(move="e2e5")


async def test_real_decision_failures_end_the_match_cleanly() -> None:
    summary = await _match(ExplodingActor(), SeededActor(2), (None, None), NO_SPECULATION, 4).run()
    assert summary.outcome.termination == "error: RuntimeError: boom"
    assert summary.outcome.result == "*"
    summary = await _match(IllegalActor(), SeededActor(2), (None, None), NO_SPECULATION, 4).run()
    assert summary.outcome.termination == "forfeit: illegal move"
    assert summary.outcome.result == "0-1"


async def test_cost_aware_policy_skips_unlikely_expensive_branches() -> None:
    class Pricey(SeededActor):
        def expected_cost_usd(self) -> float:
            return 1.0

    policy = SpeculationPolicy(k=3, cost_aware=True, price_per_hour=10.0)
    m = _match(SeededActor(1, 0.005), Pricey(2, 0.005), (None, OracleSpeculator(1, 1.0)), policy, 6)
    summary = await m.run()
    assert summary.stats.branches_started == 0
    assert not policy.worth(0.9, 60.0, 1.0) and policy.worth(0.9, 3600.0, 1.0)
    _ = Guess


async def test_a_failing_subscriber_cannot_break_the_match() -> None:
    m = _match(SeededActor(1, 0.001), SeededActor(2, 0.001), (None, None), NO_SPECULATION, 6)
    seen: list[Event] = []

    def explode(_event: Event) -> None:
        raise RuntimeError("subscriber bug")

    m.bus.subscribe(explode)
    m.bus.subscribe(seen.append)
    summary = await m.run()
    assert len(summary.moves) == 6 and summary.outcome.termination == "max plies"
    assert sum(isinstance(e, MoveCommitted) for e in seen) == 6


async def test_cancelling_while_an_adopted_branch_runs_stops_the_match() -> None:
    # Black's replies take 0.5 s and are pre-computed during White's 0.05 s: at Black's turn the
    # adopted branch is still running. Cancelling then must stop the match, not re-think.
    m = _match(
        FixedLatencyActor(1, 0.05),
        FixedLatencyActor(2, 0.5),
        (None, OracleSpeculator(1, 1.0)),
        SpeculationPolicy(k=1),
        40,
    )
    adopted = asyncio.Event()
    m.bus.subscribe(lambda e: adopted.set() if isinstance(e, BranchAdopted) else None)
    task = asyncio.ensure_future(m.run())
    await asyncio.wait_for(adopted.wait(), timeout=5)
    plies = len(m.records)
    task.cancel()
    t0 = time.monotonic()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert time.monotonic() - t0 < 0.3
    assert len(m.records) == plies


async def test_depth_two_pre_thinks_the_movers_next_move() -> None:
    # White thinks 0.2 s, Black 0.05 s, both speculators perfect. At depth 1 Black's replies are
    # ready when White commits, so White's next turn starts from scratch. At depth 2 White also
    # starts on its answer to Black's predicted reply while still thinking about its move.
    async def white_hits(depth: int) -> tuple[int, list[str]]:
        m = _match(
            FixedLatencyActor(1, 0.2),
            FixedLatencyActor(2, 0.05),
            (OracleSpeculator(2, 1.0), OracleSpeculator(1, 1.0)),
            SpeculationPolicy(k=1, depth=depth),
            8,
        )
        summary = await m.run()
        return sum(r.hit for r in summary.records if r.side == 0), summary.moves

    shallow, moves_1 = await white_hits(1)
    deep, moves_2 = await white_hits(2)
    assert moves_1 == moves_2
    assert shallow == 0
    assert deep >= 2


async def test_an_actors_concurrency_bounds_its_speculative_branches() -> None:
    # Black may run 2 decisions at once: the real one and at most one speculative branch.
    black = SeededActor(2, 0.05)
    black.concurrency = 2
    m = _match(
        SeededActor(1, 0.05), black, (None, OracleSpeculator(1, 0.5)), SpeculationPolicy(k=3), 10
    )
    peak = 0

    def watch(event: Event) -> None:
        nonlocal peak
        peak = max(peak, m.branches.in_flight(1))

    m.bus.subscribe(watch)
    summary = await m.run()
    assert summary.stats.branches_started > 0
    assert peak == 1
