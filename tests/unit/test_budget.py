"""The speculation budget: calibrated probabilities, token overhead kept under the budget, and
the lossless guarantee with a budget policy."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.core.budget import Calibrator, TokenBudget, expected_waste_tokens
from arena.core.match import Match, Seat
from arena.core.policy import NO_SPECULATION, SpeculationPolicy
from arena.games.chess import ChessState
from tests.unit.helpers import OracleSpeculator, SeededActor


def test_calibrator_moves_from_the_stated_probability_to_the_observed_rate() -> None:
    cal = Calibrator()
    assert cal(0.6) == pytest.approx(0.6)
    for _ in range(40):
        cal.observe([0.6, 0.3], None)  # confident guesses that never come true
    assert cal(0.6) < 0.1 and cal(0.3) < 0.05
    for _ in range(40):
        cal.observe([0.6], 0)
    assert 0.4 < cal(0.6) < 0.6  # half of them now came true


def test_budget_counts_what_the_ply_in_progress_will_commit() -> None:
    budget = TokenBudget(100.0)
    assert not budget.allows(expected_waste=50, expected_commit=0)
    assert budget.allows(expected_waste=50, expected_commit=60)
    budget.spend(50)
    assert not budget.allows(expected_waste=20, expected_commit=60)
    budget.settle(committed=200, wasted=30)
    assert budget.allows(expected_waste=150, expected_commit=0)
    assert not budget.allows(expected_waste=200, expected_commit=0)


def test_expected_waste_is_the_share_of_the_call_that_runs_before_the_commit() -> None:
    assert expected_waste_tokens(0.25, 1000, waiter_s=10, mover_s=5) == pytest.approx(375)
    assert expected_waste_tokens(0.25, 1000, waiter_s=10, mover_s=50) == pytest.approx(750)
    assert expected_waste_tokens(1.0, 1000, waiter_s=10, mover_s=50) == 0


def _match(policy: SpeculationPolicy, quality: float, seed: int, plies: int = 30) -> Match:
    specs = (
        (OracleSpeculator(seed + 1, quality, 1), OracleSpeculator(seed, quality, 2))
        if policy.enabled
        else (None, None)
    )
    return Match(
        "budget",
        ChessState.from_fen(None),
        (
            Seat(SeededActor(seed, 0.01, tokens=500), specs[0]),
            Seat(SeededActor(seed + 1, 0.01, tokens=500), specs[1]),
        ),
        policy=policy,
        max_plies=plies,
    )


@pytest.mark.parametrize("budget", [30.0, 100.0])
async def test_token_overhead_stays_near_the_budget(budget: float) -> None:
    free = await _match(SpeculationPolicy(k=3), 0.4, 7).run()
    held = await _match(SpeculationPolicy(k=3, max_overhead_pct=budget), 0.4, 7).run()
    assert free.stats.token_overhead_pct > budget  # without the budget it would be exceeded
    # Expectations, not certainties, are budgeted: allow one branch's worth of slack.
    one_branch = 100 * 1000 / held.stats.committed_tokens
    assert held.stats.token_overhead_pct <= budget + one_branch
    assert held.stats.branches_started > 0
    assert held.moves == free.moves


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000), quality=st.floats(0, 1), budget=st.sampled_from([20.0, 80.0]))
def test_lossless_with_a_budget_and_depth_two(seed: int, quality: float, budget: float) -> None:
    async def play(policy: SpeculationPolicy) -> tuple[str, ...]:
        return (await _match(policy, quality, seed, plies=16).run()).moves

    on = asyncio.run(play(SpeculationPolicy(k=3, depth=2, max_overhead_pct=budget)))
    off = asyncio.run(play(NO_SPECULATION))
    assert on == off
