"""The one ledger: every figure defined once, honest across pauses, people and resumes.

Timing runs on `looptime`'s fake event-loop clock, so durations are exact, not wall-clock luck.
"""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.core.actor import Actor, Decision, Speculator, Usage
from arena.core.events import BranchStarted, Event, MatchEnded
from arena.core.game import GameState
from arena.core.ledger import MatchStats, PlyRecord, Tail
from arena.core.match import Match, Seat
from arena.core.policy import NO_SPECULATION, SpeculationPolicy
from arena.games.chess import ChessState
from tests.unit.helpers import OracleSpeculator, SeededActor, chosen_move


class Fixed(SeededActor):
    """A deterministic actor that thinks exactly `latency` seconds."""

    def __init__(self, seed: int, latency: float, *, person: bool = False) -> None:
        super().__init__(seed)
        self.latency = latency
        self.person = person

    async def decide(self, state: GameState) -> Decision:
        await asyncio.sleep(self.latency)
        move = chosen_move(self.seed, state)
        return Decision(move=move, raw=move, usage=Usage(10, 5))


def _match(
    white: Actor,
    black: Actor,
    specs: tuple[Speculator | None, Speculator | None] = (None, None),
    policy: SpeculationPolicy = NO_SPECULATION,
    *,
    plies: int = 8,
    start: ChessState | None = None,
    history: tuple[PlyRecord, ...] = (),
) -> Match:
    return Match(
        "ledger",
        start or ChessState.from_fen(None),
        (Seat(white, specs[0]), Seat(black, specs[1])),
        policy=policy,
        max_plies=plies,
        clock=asyncio.get_running_loop().time,
        history=history,
    )


@pytest.mark.looptime
async def test_pause_is_not_thinking_waiting_or_saving() -> None:
    m = _match(Fixed(1, 0.5), Fixed(2, 0.5), plies=6)
    run = asyncio.ensure_future(m.run())
    await asyncio.sleep(0.75)  # mid-way through ply 2
    m.pause()
    await asyncio.sleep(100)
    assert m.paused and len(m.records) == 2  # the decision in flight finished; no new turn
    m.resume()
    summary = await run
    stats = summary.stats
    assert stats.plies == 6
    assert stats.sequential_s == pytest.approx(3.0, abs=1e-6)
    assert stats.wall_s == pytest.approx(3.0, abs=1e-6)
    assert stats.saved_s == pytest.approx(0.0, abs=1e-6)
    assert stats.commit_latency_p95_ms is None


@pytest.mark.looptime
async def test_a_person_is_never_speculated_on_behalf_of_nor_credited() -> None:
    person = Fixed(1, 7.0, person=True)
    engine = Fixed(2, 1.0)
    events: list[Event] = []
    m = _match(
        person,
        engine,
        (OracleSpeculator(2, 1.0), OracleSpeculator(1, 1.0)),
        SpeculationPolicy(k=2),
        plies=8,
    )
    m.bus.subscribe(events.append)
    summary = await m.run()
    started = [e for e in events if isinstance(e, BranchStarted)]
    # Only the engine pre-thinks (its replies to guesses of the person's move).
    assert started and all(e.side == 1 for e in started)
    people = [r for r in summary.records if r.by_person]
    assert len(people) == 4 and all(r.saved_s == 0.0 and not r.hit for r in people)
    stats = summary.stats
    # The engine's replies were ready when the person moved: its 4 s of thinking were saved,
    # and the person's 28 s count nowhere.
    assert stats.machine_plies == 4
    assert stats.sequential_s == pytest.approx(4.0, abs=1e-6)
    assert stats.saved_s == pytest.approx(4.0, abs=1e-6)
    assert stats.adopted_plies == 4


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), quality=st.floats(0, 1), k=st.integers(1, 3))
def test_saving_never_exceeds_what_the_wall_clock_shows(seed: int, quality: float, k: int) -> None:
    async def play() -> MatchStats:
        m = _match(
            SeededActor(seed, 0.01),
            SeededActor(seed + 1, 0.01),
            (OracleSpeculator(seed + 1, quality), OracleSpeculator(seed, quality)),
            SpeculationPolicy(k=k),
            plies=12,
        )
        return (await m.run()).stats

    stats = asyncio.run(play())
    assert stats.sequential_s > 0
    bound = 100 * (1 - stats.wall_s / stats.sequential_s)
    assert stats.saved_pct <= bound + 0.2  # figures are rounded to 0.1 ms
    assert math.isclose(stats.saved_s, stats.sequential_s - stats.wall_s, abs_tol=1e-3)


@pytest.mark.looptime
async def test_resumed_match_accounts_for_every_ply() -> None:
    def seats() -> tuple[Actor, Actor, tuple[Speculator, Speculator]]:
        return Fixed(1, 0.3), Fixed(2, 0.2), (OracleSpeculator(2, 1.0), OracleSpeculator(1, 1.0))

    white, black, specs = seats()
    first = await _match(white, black, specs, SpeculationPolicy(k=1), plies=6).run()
    assert first.stats.plies == 6
    start = ChessState.from_fen(None)
    state = ChessState.from_moves(start.position(), first.moves)
    white, black, specs = seats()
    ended: list[MatchEnded] = []
    second = _match(
        white,
        black,
        specs,
        SpeculationPolicy(k=1),
        plies=12,
        start=state,
        history=first.records,
    )
    second.bus.subscribe(lambda e: ended.append(e) if isinstance(e, MatchEnded) else None)
    summary = await second.run()
    assert len(summary.records) == 6
    stats = summary.stats
    assert stats.plies == 12
    assert stats.sequential_s >= first.stats.sequential_s
    assert stats.branches_started >= first.stats.branches_started
    assert ended[0].stats == stats
    # The same figures as if the twelve plies had been one record.
    assert stats == MatchStats.from_records((*first.records, *summary.records), (summary.tail,))


@pytest.mark.looptime
async def test_stop_ends_the_match_as_aborted_with_its_accounting() -> None:
    events: list[Event] = []
    m = _match(Fixed(1, 1.0), Fixed(2, 60.0), plies=10)
    m.bus.subscribe(events.append)
    run = asyncio.ensure_future(m.run())
    await asyncio.sleep(5)  # Black is thinking its first 60 s move
    m.stop()
    summary = await run
    assert summary.outcome.termination == "aborted"
    assert len(summary.records) == 1
    ended = [e for e in events if isinstance(e, MatchEnded)]
    assert ended and ended[0].stats.plies == 1
    # An aborted session's unfinished thinking is not wall time against nothing.
    assert summary.stats.wall_s == pytest.approx(1.0, abs=1e-6)


def test_stats_round_trip_and_garbage() -> None:
    record = PlyRecord(
        ply=0,
        side=0,
        move="e2e4",
        san="e4",
        fen_after="x",
        decision_s=2.0,
        wait_s=0.5,
        wall_s=0.5,
        saved_s=1.5,
        hit=True,
        rank=1,
        speculated=True,
        usage=Usage(100, 20, cost_usd=0.01),
        wasted_usage=Usage(50, 10, cost_usd=0.005),
        commit_latency_s=0.5,
    )
    stats = MatchStats.from_records([record], [Tail(speculator_usage=Usage(10, 2))])
    assert stats.saved_pct == 75.0 and stats.hit_rate == 1.0 and stats.top1 == 1
    assert stats.wasted_tokens == 72 and stats.token_overhead_pct == 60.0
    assert stats.cost_usd == pytest.approx(0.015)
    assert MatchStats.from_dict(stats.as_dict()) == stats
    broken = MatchStats.from_dict({"plies": "many", "wall_s": float("nan"), "usage": 5})
    assert broken == MatchStats()
    assert record.as_dict()["usage"]["input_tokens"] == 100


@pytest.mark.looptime
async def test_combined_stats_follow_the_same_definitions() -> None:
    games = [
        await _match(
            Fixed(seed, 0.3),
            Fixed(seed + 1, 0.2),
            (OracleSpeculator(seed + 1, 0.7), OracleSpeculator(seed, 0.7)),
            SpeculationPolicy(k=2),
            plies=10,
        ).run()
        for seed in (1, 5, 9)
    ]
    combined = MatchStats.combine(g.stats for g in games)
    whole = MatchStats.from_records([r for g in games for r in g.records], [g.tail for g in games])
    for name in ("plies", "adopted_plies", "speculated_plies", "predicted_plies", "top1"):
        assert getattr(combined, name) == getattr(whole, name)
    for name in ("sequential_s", "wall_s", "saved_s", "saved_pct", "hit_rate"):
        assert getattr(combined, name) == pytest.approx(getattr(whole, name), abs=0.01)
    assert MatchStats.combine([]) == MatchStats()
