"""When a speculative branch is worth starting."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpeculationPolicy:
    """How much to speculate. The defaults speculate on the top 3 guesses."""

    enabled: bool = True
    k: int = 3
    """Guesses asked of the speculator, and at most this many depth-1 branches per ply."""
    min_probability: float = 0.0
    """Skip guesses below this probability."""
    max_in_flight: int = 6
    """Cap on speculative branches running at once, both sides together."""
    cost_aware: bool = False
    """Start a branch only when probability x seconds it may save is worth its token cost."""
    price_per_hour: float = 20.0
    """Dollars one hour of waiting is worth (cost-aware mode)."""
    depth: int = 1
    """2 also pre-thinks the mover's answer to the speculated reply (budgeted)."""
    depth2_budget: int = 1
    """Depth-2 branches per ply."""
    max_overhead_pct: float | None = None
    """Token budget: keep wasted tokens (unused branches, speculators' calls) at or under this
    percent of committed tokens, choosing branches by calibrated probability (None: no budget;
    see arena.core.budget)."""
    depth2_min_probability: float = 0.25
    """Under a budget, the calibrated probability a two-move line needs for a depth-2 branch."""

    def worth(self, probability: float, expected_saving_s: float, expected_cost_usd: float) -> bool:
        if probability < self.min_probability:
            return False
        if not self.cost_aware:
            return True
        value = probability * expected_saving_s * self.price_per_hour / 3600.0
        return value >= expected_cost_usd


DEFAULT_POLICY = SpeculationPolicy()
"""The speculation policy every face starts from (CLI flags, the home form, the bench)."""

NO_SPECULATION = SpeculationPolicy(enabled=False)

DEFAULT_SPECULATOR = "stockfish:depth=6"
"""The speculator both sides use unless told otherwise."""
