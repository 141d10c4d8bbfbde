"""Speculation that pays for itself: calibrated guesses and a token budget, decided online.

Nothing here reads a recording: the calibrator learns from the moves the match has played so
far, and the budget from the tokens the match has committed and wasted so far.

- `Calibrator`: what a speculator's stated probability has meant *in this match*. Stated
  probabilities are binned; each bin's calibrated probability is its hit count over its guess
  count, shrunk towards the stated value while the bin has few observations.
- `TokenBudget`: keeps wasted tokens (branches that were not used, speculators' own calls) at
  or under `max_overhead_pct` of committed tokens. A branch is started only when its expected
  waste, `(1 - p) x` the tokens its call would burn before the mover commits, fits the budget
  earned so far plus the share the current ply will earn.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, field

BIN_EDGES: tuple[float, ...] = (0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.85)
"""Upper edges of the stated-probability bins (the last bin runs to 1)."""
PRIOR_WEIGHT = 4.0
"""How many observations the stated probability counts for in its bin."""


@dataclass
class Calibrator:
    """Stated probability -> the hit rate such guesses had so far (see the module docstring)."""

    guesses: list[int] = field(default_factory=lambda: [0] * (len(BIN_EDGES) + 1))
    hits: list[int] = field(default_factory=lambda: [0] * (len(BIN_EDGES) + 1))

    @staticmethod
    def _bin(p: float) -> int:
        return bisect.bisect_left(BIN_EDGES, p)

    def __call__(self, stated: float) -> float:
        b = self._bin(stated)
        return (self.hits[b] + PRIOR_WEIGHT * stated) / (self.guesses[b] + PRIOR_WEIGHT)

    def observe(self, stated: list[float], hit_index: int | None) -> None:
        """One ply's guesses (stated probabilities) and which of them was played, if any."""
        for i, p in enumerate(stated):
            b = self._bin(p)
            self.guesses[b] += 1
            self.hits[b] += i == hit_index


@dataclass
class SideHistory:
    """What one side's decisions have cost so far (medians are robust to a long think)."""

    seconds: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)

    def add(self, seconds: float, tokens: int) -> None:
        self.seconds.append(seconds)
        self.tokens.append(tokens)

    def median_s(self, default: float) -> float:
        return statistics.median(self.seconds) if self.seconds else default

    def median_tokens(self) -> float | None:
        return statistics.median(self.tokens) if self.tokens else None


@dataclass
class TokenBudget:
    """Wasted tokens at or under `max_overhead_pct` of committed tokens (module docstring)."""

    max_overhead_pct: float
    committed: int = 0
    wasted: int = 0
    pending: float = 0.0
    """Expected waste of the branches started and not yet settled."""

    def settle(self, committed: int, wasted: int) -> None:
        """A ply was committed: its tokens and its measured waste replace the expectations."""
        self.committed += committed
        self.wasted += wasted
        self.pending = 0.0

    def allows(self, expected_waste: float, expected_commit: float) -> bool:
        """True if a branch expected to waste `expected_waste` tokens fits, counting the
        `expected_commit` tokens the ply in progress will commit."""
        allowance = self.max_overhead_pct / 100.0 * (self.committed + expected_commit)
        return self.wasted + self.pending + expected_waste <= allowance

    def spend(self, expected_waste: float) -> None:
        self.pending += expected_waste


def expected_waste_tokens(p: float, waiter_tokens: float, waiter_s: float, mover_s: float) -> float:
    """Tokens a branch burns if its guess is wrong: the waiter's call runs until the mover
    commits (or to its end), and a stopped call is billed for what it produced."""
    share = 1.0 if waiter_s <= 0 else min(1.0, mover_s / waiter_s)
    return (1.0 - p) * waiter_tokens * share


__all__ = ["Calibrator", "SideHistory", "TokenBudget", "expected_waste_tokens"]
