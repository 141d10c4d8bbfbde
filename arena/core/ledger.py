"""The one ledger: what a ply cost and saved, and what a match adds up to.

Every figure the runner, the store, the bench, the TUI, tournaments and `--json` show is defined
here, once. Times are seconds on a monotonic clock with paused time left out.

- A ply's **decision time** (`decision_s`) is the duration of the call whose move was committed
  (measured). **Sequential time** is their sum: how long the match would have taken with
  speculation off and no overhead.
- A ply's **wall time** (`wall_s`) is the time from the previous ply being on disk (or from the
  start of the session) to this commit (measured). A match's wall time is their sum. Left out
  of both sums, because the same match without speculation spends them too: each ply's durable
  write, and the time after a session's last commit (a forfeit's or an error's unfinished call).
- **Time saved** is sequential time minus wall time, per ply and per match. It is negative when
  speculation (or bookkeeping) cost more than it saved, and never exceeds what the wall clock
  shows. A person's plies are left out of both sums: a person's thinking is never speculated on
  and never counted as saved.
- **Hit rate** is the share of *speculated* plies (the waiting side's speculator gave at least
  one guess before the move was committed) whose played move was among the guesses.
  **Adopted** plies are those whose committed decision was a pre-computed reply.
- **Token overhead** is the tokens of wasted branches and of speculators' own calls against the
  committed calls' tokens. A branch cancelled while running is billed by estimate
  (`Actor.cancelled_usage`); everything else is measured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from arena.core.actor import Attempt, Guess, Usage
from arena.core.game import Side


@dataclass(frozen=True, kw_only=True)
class PlyRecord:
    """Everything known about one committed ply. The store's columns follow these fields."""

    ply: int
    """Plies played before this one (0 for the first move of the game)."""
    side: Side
    move: str
    """The move in the game's canonical notation (UCI for chess)."""
    san: str
    """The move in the game's readable notation (SAN for chess)."""
    fen_after: str
    """The position after the move, in the game's standard notation."""
    decision_s: float
    """Duration of the committed call (measured, pauses excluded)."""
    wait_s: float
    """Visible wait: from the turn starting to the move being committed."""
    wall_s: float
    """From the previous ply being on disk (or the session's start) to this commit, pauses
    excluded."""
    saved_s: float
    """`decision_s - wall_s` for a machine's ply (negative when speculation cost time); 0 for a
    person's."""
    hit: bool
    """The committed decision was a pre-computed (speculative) reply that was adopted."""
    rank: int | None
    """Rank of the guess that matched the played move (1 = top), None if not guessed."""
    speculated: bool
    """The waiting side's guesses for this ply arrived before the move was committed."""
    by_person: bool = False
    """A person played this ply (never speculated on, never counted as saved)."""
    guesses: tuple[Guess, ...] = ()
    branches_started: int = 0
    """Speculative branches started during this ply."""
    branches_cancelled: int = 0
    """Branches stopped while running because this ply's move made them unreachable."""
    branches_wasted: int = 0
    """Branches dropped unused during this ply (cancelled while running, or finished unused)."""
    usage: Usage = field(default_factory=Usage)
    """Tokens and cost of the committed call."""
    wasted_usage: Usage = field(default_factory=Usage)
    """Tokens and cost of the branches wasted during this ply (estimated for cancelled ones)."""
    speculator_usage: Usage = field(default_factory=Usage)
    """Tokens and cost of the speculators' own calls during this ply."""
    attempts: tuple[Attempt, ...] = ()
    flagged: str | None = None
    raw: str = ""
    commit_latency_s: float | None = None
    """For a hit on a finished branch: time from the previous commit to the adoption."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, keyed by field name."""
        out: dict[str, Any] = {}
        for name in _PLY_FIELDS:
            out[name] = _jsonable(getattr(self, name))
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Usage):
        return value.as_dict()
    if isinstance(value, Guess):
        return {"move": value.move, "p": round(value.probability, 4)}
    if isinstance(value, Attempt):
        return {"raw": value.raw, "parsed": value.parsed, "error": value.error}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


@dataclass(frozen=True, kw_only=True)
class Tail:
    """What a session spent after its last commit (or without any): not part of any ply."""

    branches_wasted: int = 0
    wasted_usage: Usage = field(default_factory=Usage)
    speculator_usage: Usage = field(default_factory=Usage)
    uncommitted_attempts: int = 0
    """Rejected tries of a decision that ended the match (a forfeit) without a ply."""


@dataclass(frozen=True, kw_only=True)
class SideUsage:
    """Committed usage per side."""

    white: Usage = field(default_factory=Usage)
    black: Usage = field(default_factory=Usage)


@dataclass(frozen=True, kw_only=True)
class MatchStats:
    """A match's (or several matches') accounting, computed from all of its ply records.

    See the module docstring for each figure's definition.
    """

    plies: int = 0
    """Committed plies, a person's included."""
    machine_plies: int = 0
    """Plies played by an engine, a model or a recording (the ones time figures cover)."""
    sequential_s: float = 0.0
    """Sum of the machine plies' decision times: the match without speculation."""
    wall_s: float = 0.0
    """Sum of the machine plies' wall times."""
    saved_s: float = 0.0
    """`sequential_s - wall_s`; negative when speculation cost time."""
    saved_pct: float = 0.0
    """`100 * saved_s / sequential_s`."""
    speculated_plies: int = 0
    predicted_plies: int = 0
    """Speculated plies whose played move was among the guesses."""
    hit_rate: float = 0.0
    """`predicted_plies / speculated_plies`."""
    top1: int = 0
    """Speculated plies whose played move was the top guess."""
    adopted_plies: int = 0
    """Plies played from a pre-computed reply."""
    branches_started: int = 0
    branches_wasted: int = 0
    committed_tokens: int = 0
    wasted_tokens: int = 0
    """Tokens of wasted branches and of the speculators' own calls."""
    token_overhead_pct: float = 0.0
    """`100 * wasted_tokens / committed_tokens`."""
    cost_usd: float | None = 0.0
    """Dollars of every call, wasted ones included; None when a price is unknown."""
    wasted_cost_usd: float | None = 0.0
    illegal_attempts: int = 0
    usage: SideUsage = field(default_factory=SideUsage)
    commit_latency_p95_ms: float | None = None
    """95th percentile of the time from a commit to adopting a ready reply (hits only)."""

    @classmethod
    def from_records(cls, records: Iterable[PlyRecord], tails: Iterable[Tail] = ()) -> MatchStats:
        recs = list(records)
        tail_list = list(tails)
        machine = [r for r in recs if not r.by_person]
        sequential = sum(r.decision_s for r in machine)
        wall = sum(r.wall_s for r in machine)
        saved = sequential - wall
        speculated = [r for r in recs if r.speculated]
        predicted = sum(1 for r in speculated if r.rank is not None)
        committed = _total(r.usage for r in recs)
        wasted = _total(
            [r.wasted_usage for r in recs]
            + [r.speculator_usage for r in recs]
            + [t.wasted_usage for t in tail_list]
            + [t.speculator_usage for t in tail_list]
        )
        latencies = sorted(
            r.commit_latency_s * 1000 for r in recs if r.commit_latency_s is not None
        )
        return cls(
            plies=len(recs),
            machine_plies=len(machine),
            sequential_s=round(sequential, 4),
            wall_s=round(wall, 4),
            saved_s=round(saved, 4),
            saved_pct=round(100 * saved / sequential, 2) if sequential > 0 else 0.0,
            speculated_plies=len(speculated),
            predicted_plies=predicted,
            hit_rate=round(predicted / len(speculated), 4) if speculated else 0.0,
            top1=sum(1 for r in speculated if r.rank == 1),
            adopted_plies=sum(1 for r in recs if r.hit),
            branches_started=sum(r.branches_started for r in recs),
            branches_wasted=sum(r.branches_wasted for r in recs)
            + sum(t.branches_wasted for t in tail_list),
            committed_tokens=committed.tokens,
            wasted_tokens=wasted.tokens,
            token_overhead_pct=(
                round(100 * wasted.tokens / committed.tokens, 2) if committed.tokens else 0.0
            ),
            cost_usd=(committed + wasted).cost_usd,
            wasted_cost_usd=wasted.cost_usd,
            illegal_attempts=sum(len(r.attempts) for r in recs)
            + sum(t.uncommitted_attempts for t in tail_list),
            usage=SideUsage(
                white=_total(r.usage for r in recs if r.side == 0),
                black=_total(r.usage for r in recs if r.side == 1),
            ),
            commit_latency_p95_ms=(
                round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 3)
                if latencies
                else None
            ),
        )

    @classmethod
    def combine(cls, parts: Iterable[MatchStats]) -> MatchStats:
        """Several matches' figures as one (a tournament, a bench row): the counts and sums add
        up and the ratios are recomputed from them, by the same definitions. The p95 latency
        is the largest of the parts' (a bound: the parts' samples are not kept)."""
        items = list(parts)

        def total(name: str) -> Any:
            return sum(getattr(p, name) for p in items)

        def dollars(name: str) -> float | None:
            values = [getattr(p, name) for p in items]
            return None if any(v is None for v in values) else round(sum(values), 6)

        sequential, wall = total("sequential_s"), total("wall_s")
        speculated, predicted = total("speculated_plies"), total("predicted_plies")
        committed, wasted = total("committed_tokens"), total("wasted_tokens")
        latencies = [p.commit_latency_p95_ms for p in items if p.commit_latency_p95_ms is not None]
        return cls(
            plies=total("plies"),
            machine_plies=total("machine_plies"),
            sequential_s=round(sequential, 4),
            wall_s=round(wall, 4),
            saved_s=round(sequential - wall, 4),
            saved_pct=round(100 * (sequential - wall) / sequential, 2) if sequential > 0 else 0.0,
            speculated_plies=speculated,
            predicted_plies=predicted,
            hit_rate=round(predicted / speculated, 4) if speculated else 0.0,
            top1=total("top1"),
            adopted_plies=total("adopted_plies"),
            branches_started=total("branches_started"),
            branches_wasted=total("branches_wasted"),
            committed_tokens=committed,
            wasted_tokens=wasted,
            token_overhead_pct=round(100 * wasted / committed, 2) if committed else 0.0,
            cost_usd=dollars("cost_usd"),
            wasted_cost_usd=dollars("wasted_cost_usd"),
            illegal_attempts=total("illegal_attempts"),
            usage=SideUsage(
                white=_total(p.usage.white for p in items),
                black=_total(p.usage.black for p in items),
            ),
            commit_latency_p95_ms=max(latencies) if latencies else None,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (finite numbers only), keyed by field name."""
        out: dict[str, Any] = {}
        for name in _STATS_FIELDS:
            value = getattr(self, name)
            if isinstance(value, SideUsage):
                out[name] = {"white": value.white.as_dict(), "black": value.black.as_dict()}
            elif isinstance(value, float) and not math.isfinite(value):
                out[name] = None
            else:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatchStats:
        """Reads what `as_dict` wrote; unknown keys are ignored, wrong types fall to defaults."""
        defaults = _DEFAULT_STATS
        values: dict[str, Any] = {}
        for name in _STATS_FIELDS:
            if name not in data:
                continue
            value = data[name]
            if name == "usage":
                if isinstance(value, Mapping):
                    values["usage"] = SideUsage(
                        white=Usage.from_dict(value.get("white")),
                        black=Usage.from_dict(value.get("black")),
                    )
                continue
            default = getattr(defaults, name)
            if isinstance(default, bool) or isinstance(value, bool):
                continue
            if isinstance(value, int | float) and math.isfinite(value):
                values[name] = int(value) if isinstance(default, int) else float(value)
            elif value is None and name in _NULLABLE:
                values[name] = None
        return cls(**values)


_NULLABLE = frozenset({"cost_usd", "wasted_cost_usd", "commit_latency_p95_ms"})
# Field names read once: `dataclasses.fields` is slow enough to show in `replays --json`.
_PLY_FIELDS = tuple(f.name for f in fields(PlyRecord))
_STATS_FIELDS = tuple(f.name for f in fields(MatchStats))
_DEFAULT_STATS = MatchStats()


def _total(usages: Iterable[Usage]) -> Usage:
    total = Usage()
    for u in usages:
        total = total + u
    return total


__all__ = ["MatchStats", "PlyRecord", "SideUsage", "Tail"]
