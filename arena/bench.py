"""`arena bench speculation`: speculators replayed on recorded games, side by side in one run.

Each trace is replayed through the real match runner and speculation engine, with trace players
that spend the recorded latencies x `time_scale`. Compute-bound speculators (engines) are run
over the trace positions first; their real compute time is measured and then spent at the same
time scale during the replay, so that scaling the game's latencies does not make them look slow.
The paper's recorded guesses (`trace-guesses`) spend their recorded latency x `time_scale`.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from arena.core.actor import Guess, Speculator
from arena.core.errors import ArenaError
from arena.core.game import GameState
from arena.core.ledger import MatchStats
from arena.core.match import Match, MatchSummary, Seat
from arena.core.policy import SpeculationPolicy
from arena.games.chess import ChessState
from arena.games.traces import Trace, TracePly, load_trace
from arena.players.trace import TracePlayer
from arena.specs import Context, build_speculator
from arena.speculators.simple import TRACE_RANK_PROBABILITIES, TraceGuessSpeculator


class PrecomputedSpeculator(Speculator):
    """Returns guesses computed before the replay after their measured time x `time_scale`."""

    def __init__(
        self, spec: str, cache: dict[str, tuple[list[Guess], float]], time_scale: float
    ) -> None:
        self.spec = spec
        self.name = spec
        self.cache = cache
        self.time_scale = time_scale

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        hit = self.cache.get(state.key())
        if hit is None:
            return []
        guesses, seconds = hit
        await asyncio.sleep(seconds * self.time_scale)
        return guesses[:k]


async def precompute(
    speculator: Speculator, trace: Trace, side: int, k: int
) -> dict[str, tuple[list[Guess], float]]:
    """Predictions of `side`'s speculator (which guesses the other side's moves), in game order."""
    cache: dict[str, tuple[list[Guess], float]] = {}
    state = ChessState.from_fen(trace.start_fen)
    await speculator.start()
    try:
        for rec in trace.plies:
            if state.to_move != side:
                t0 = time.monotonic()
                guesses = await speculator.predict(state, k)
                cache[state.key()] = (guesses, time.monotonic() - t0)
            speculator.observe(state, rec.move)
            state = state.apply(rec.move)
    finally:
        await speculator.close()
    return cache


RELIABILITY_EDGES = (0.1, 0.2, 0.35, 0.5, 0.7, 1.0)
"""Upper edges of the reliability table's bins of stated probability."""


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """Whether stated probabilities meant what they said, over every offline guess."""

    guesses: int
    brier: float
    """Mean squared error of the stated probability against the outcome (0 is perfect)."""
    ece: float
    """Expected calibration error: the guess-weighted gap between stated and observed."""
    bins: tuple[tuple[float, int, float, float], ...]
    """Per bin: upper edge, guesses, mean stated probability, observed hit rate."""

    @classmethod
    def of(cls, stated: list[tuple[float, bool]]) -> Calibration:
        if not stated:
            return cls(guesses=0, brier=0.0, ece=0.0, bins=())
        brier = sum((p - hit) ** 2 for p, hit in stated) / len(stated)
        bins: list[tuple[float, int, float, float]] = []
        ece = 0.0
        lower = -1.0
        for edge in RELIABILITY_EDGES:
            inside = [(p, hit) for p, hit in stated if lower < p <= edge]
            lower = edge
            if not inside:
                continue
            mean_p = sum(p for p, _ in inside) / len(inside)
            rate = sum(hit for _, hit in inside) / len(inside)
            ece += len(inside) / len(stated) * abs(mean_p - rate)
            bins.append((edge, len(inside), round(mean_p, 3), round(rate, 3)))
        return cls(guesses=len(stated), brier=round(brier, 4), ece=round(ece, 4), bins=tuple(bins))

    def as_json(self) -> dict[str, Any]:
        return {
            "guesses": self.guesses,
            "brier": self.brier,
            "ece": self.ece,
            "reliability": [
                {"up_to": edge, "guesses": n, "stated": p, "observed": rate}
                for edge, n, p, rate in self.bins
            ],
        }


@dataclass
class BenchRow:
    """One speculator and k over every trace: the ledger's figures over all replays' plies."""

    speculator: str
    k: int
    max_overhead_pct: float | None = None
    depth: int = 1
    summaries: list[MatchSummary] = field(default_factory=list)
    baseline_wall_s: float = 0.0
    guessed: int = 0
    foreseen: int = 0
    ranks: list[int | None] = field(default_factory=list)
    """Per guessed ply: the rank of the played move among the offline guesses (None: absent)."""
    stated: list[tuple[float, bool]] = field(default_factory=list)
    """Every offline guess: its stated probability and whether it was the move played."""
    predict_s: float = 0.0
    predictions: int = 0

    def add(self, summary: MatchSummary, baseline_wall_s: float) -> None:
        self.summaries.append(summary)
        self.baseline_wall_s += baseline_wall_s

    @property
    def stats(self) -> MatchStats:
        """The ledger over every replay of this row (one definition of every figure)."""
        return MatchStats.from_records(
            [r for s in self.summaries for r in (*s.history, *s.records)],
            [s.tail for s in self.summaries],
        )

    def count_offline(
        self, trace: Trace, side: int, guesses_at: Callable[[TracePly], list[Guess]]
    ) -> None:
        """Top-k accuracy and calibration on every ply this side's speculator guesses,
        whatever the timing."""
        for rec in trace.plies:
            if rec.ply % 2 != side:
                guesses = guesses_at(rec)
                moves = [g.move for g in guesses]
                self.guessed += 1
                self.foreseen += rec.move in moves
                self.ranks.append(moves.index(rec.move) + 1 if rec.move in moves else None)
                self.stated += [(g.probability, g.move == rec.move) for g in guesses]

    def top(self, n: int) -> float:
        """Share of guessed plies whose played move was among the first `n` guesses."""
        hits = sum(1 for r in self.ranks if r is not None and r <= n)
        return round(hits / len(self.ranks), 4) if self.ranks else 0.0

    def calibration(self) -> Calibration:
        return Calibration.of(self.stated)

    def as_json(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "speculator": self.speculator,
            "k": self.k,
            "max_overhead_pct": self.max_overhead_pct,
            "depth": self.depth,
            **stats.as_dict(),
            "accuracy": round(self.foreseen / self.guessed, 4) if self.guessed else 0.0,
            "top1": self.top(1),
            "top2": self.top(2),
            "top3": self.top(3),
            "calibration": self.calibration().as_json(),
            "baseline_wall_s": round(self.baseline_wall_s, 3),
            "vs_baseline_pct": (
                round(100 * (self.baseline_wall_s - stats.wall_s) / self.baseline_wall_s, 2)
                if self.baseline_wall_s
                else 0.0
            ),
            "predict_ms_mean": (
                round(1000 * self.predict_s / self.predictions, 2) if self.predictions else None
            ),
        }


@dataclass
class BenchResult:
    rows: list[BenchRow]
    traces: list[str]
    time_scale: float

    def as_json(self) -> dict[str, Any]:
        return {
            "traces": self.traces,
            "time_scale": self.time_scale,
            "results": [row.as_json() for row in self.rows],
        }

    def frontier(self) -> list[BenchRow]:
        """The rows no other row beats on both saved % (higher) and token overhead (lower)."""
        points = [(r.stats.saved_pct, r.stats.token_overhead_pct, r) for r in self.rows]
        return [
            r
            for saved, over, r in points
            if not any(
                s2 >= saved and o2 <= over and (s2, o2) != (saved, over) for s2, o2, _ in points
            )
        ]

    def table(self) -> str:
        head = (
            f"{'speculator':<16} {'k':>2} {'budget':>6} {'d':>1} {'top1':>5} {'top2':>5} "
            f"{'top3':>5} {'hit':>5} {'seq s':>7} {'wall s':>7} {'saved':>6} {'vs off':>6} "
            f"{'tok+':>6} {'p95 ms':>6}"
        )
        lines = [
            f"{len(self.traces)} trace(s), time scale {self.time_scale}",
            head,
            "-" * len(head),
        ]
        front = set(map(id, self.frontier())) if len(self.rows) > 1 else set()
        for row in self.rows:
            j = row.as_json()
            p95 = "-" if j["commit_latency_p95_ms"] is None else f"{j['commit_latency_p95_ms']:.1f}"
            budget = "-" if row.max_overhead_pct is None else f"{row.max_overhead_pct:.0f}%"
            mark = " *" if id(row) in front else ""
            lines.append(
                f"{j['speculator'][:16]:<16} {j['k']:>2} {budget:>6} {row.depth:>1} "
                f"{100 * j['top1']:>4.0f}% {100 * j['top2']:>4.0f}% {100 * j['top3']:>4.0f}% "
                f"{100 * j['hit_rate']:>4.0f}% {j['sequential_s']:>7.2f} {j['wall_s']:>7.2f} "
                f"{j['saved_pct']:>5.1f}% {j['vs_baseline_pct']:>5.1f}% "
                f"{j['token_overhead_pct']:>5.0f}% {p95:>6}{mark}"
            )
        lines.append(
            "top1-3 = offline top-n accuracy on all plies; hit = played move among the guesses "
            "that arrived in time; saved = 1 - wall/sequential (sequential = the sum of committed "
            "decision times); vs off = wall against the same replay without speculation; tok+ = "
            "wasted branch and speculator tokens / committed tokens; budget = --max-overhead; "
            "d = depth" + ("; * = on the Pareto front of saved against tok+" if front else "")
        )
        lines.append("calibration (offline guesses: Brier, expected calibration error):")
        seen: set[tuple[str, int]] = set()
        for row in self.rows:
            if (row.speculator, row.k) in seen:
                continue
            seen.add((row.speculator, row.k))
            cal = row.calibration()
            bins = "  ".join(f"<={e:g}: {p:.2f}->{r:.2f} ({n})" for e, n, p, r in cal.bins)
            lines.append(
                f"  {row.speculator} k={row.k}: Brier {cal.brier:.3f}, ECE {cal.ece:.3f}; {bins}"
            )
        return "\n".join(lines)


def _recorded(rec: TracePly, k: int) -> list[Guess]:
    return [Guess(m, p) for m, p in zip(rec.guesses[:k], TRACE_RANK_PROBABILITIES, strict=False)]


def _cached_moves(
    cache: dict[str, tuple[list[Guess], float]], trace: Trace
) -> Callable[[TracePly], list[Guess]]:
    keys: dict[int, str] = {}
    state = ChessState.from_fen(trace.start_fen)
    for rec in trace.plies:
        keys[rec.ply] = state.key()
        state = state.apply(rec.move)

    def at(rec: TracePly) -> list[Guess]:
        return list(cache.get(keys[rec.ply], ([], 0.0))[0])

    return at


async def _replay(
    trace: Trace,
    seats_speculators: tuple[Speculator | None, Speculator | None],
    policy: SpeculationPolicy,
    scale: float,
) -> MatchSummary:
    seats = (
        Seat(TracePlayer(trace, scale, f"trace:{trace.path}"), seats_speculators[0]),
        Seat(TracePlayer(trace, scale, f"trace:{trace.path}"), seats_speculators[1]),
    )
    enabled = any(s is not None for s in seats_speculators)
    policy = replace(policy, enabled=enabled)
    match = Match(
        f"bench-{trace.game}",
        ChessState.from_fen(trace.start_fen),
        seats,
        policy=policy,
        max_plies=len(trace.plies),
    )
    summary = await match.run()
    got = list(summary.moves)
    want = [p.move for p in trace.plies]
    if got != want:
        raise RuntimeError(f"replay of {trace.game} diverged from the trace at {len(got)} plies")
    return summary


Caches = dict[tuple[str, str, int, int], list[dict[str, tuple[list[Guess], float]]]]
"""Offline predictions per (speculator, trace, k, depth): computed once, replayed per variant."""


async def _speculator_pair(
    spec: str,
    trace: Trace,
    k: int,
    time_scale: float,
    depth: int,
    row: BenchRow,
    caches_by_key: Caches | None = None,
) -> tuple[Speculator | None, Speculator | None]:
    ctx = Context(time_scale=time_scale, traces=[trace])
    built = [build_speculator(spec, ctx) for _ in (0, 1)]
    if any(isinstance(b, TraceGuessSpeculator) for b in built) or built[0] is None:
        if depth > 1:
            raise ArenaError(f"{spec}: depth 2 needs guesses off the recorded path; it has none")
        for side in (0, 1):
            row.count_offline(trace, side, functools.partial(_recorded, k=k))
        return built[0], built[1]
    key = (spec, trace.path, k, depth)
    known = caches_by_key if caches_by_key is not None else {}
    if key not in known:
        caches = [
            await precompute(b, trace, side, k) for side, b in enumerate(built) if b is not None
        ]
        if depth > 1:
            # Depth 2 asks the mover's speculator about positions after the waiter's top guess.
            # Those are computed here too, off the recorded path included, so that whether a
            # prediction exists never tells the replay which guess was right.
            for side in (0, 1):
                extra = build_speculator(spec, ctx)
                assert extra is not None
                await precompute_children(extra, trace, side, caches[1 - side], caches[side])
        known[key] = caches
    pair: list[Speculator | None] = []
    for side, cache in enumerate(known[key]):
        row.count_offline(trace, side, _cached_moves(cache, trace))
        row.predict_s += sum(seconds for _, seconds in cache.values())
        row.predictions += len(cache)
        pair.append(PrecomputedSpeculator(spec, cache, time_scale))
    return pair[0], pair[1]


async def precompute_children(
    speculator: Speculator,
    trace: Trace,
    side: int,
    waiter_cache: dict[str, tuple[list[Guess], float]],
    cache: dict[str, tuple[list[Guess], float]],
) -> None:
    """Adds `side`'s predictions at s + (the waiter's top guess) for each s where `side` moves."""
    state = ChessState.from_fen(trace.start_fen)
    await speculator.start()
    try:
        for rec in trace.plies:
            guesses = waiter_cache.get(state.key(), ([], 0.0))[0]
            if state.to_move == side and guesses:
                child = state.apply(guesses[0].move)
                if child.key() not in cache and child.outcome() is None:
                    t0 = time.monotonic()
                    predicted = await speculator.predict(child, 1)
                    cache[child.key()] = (predicted, time.monotonic() - t0)
            state = state.apply(rec.move)
    finally:
        await speculator.close()


@dataclass(frozen=True, kw_only=True)
class Variant:
    """A policy compared in one bench run besides the speculator and k."""

    max_overhead_pct: float | None = None
    depth: int = 1


FRONTIER_KS = (2, 3)
FRONTIER_VARIANTS = tuple(
    Variant(max_overhead_pct=budget, depth=depth)
    for depth in (1, 2)
    for budget in (None, 50.0, 75.0, 100.0, 150.0)
)
"""The grid `--frontier` runs for each speculator."""


async def run_speculation_bench(
    trace_paths: list[str],
    speculator_specs: list[str],
    ks: list[int],
    time_scale: float,
    policy: SpeculationPolicy | None = None,
    progress: Callable[[str], None] | None = None,
    variants: tuple[Variant, ...] | None = None,
) -> BenchResult:
    """One row per speculator, k and variant; `policy` sets everything else.

    Without `variants` the one variant is `policy`'s own budget and depth. `progress` gets a
    line per replay (the CLI prints them on stderr)."""
    say = progress or (lambda _line: None)
    base = policy or SpeculationPolicy()
    if variants is None:
        variants = (Variant(max_overhead_pct=base.max_overhead_pct, depth=base.depth),)
    traces = [load_trace(p) for p in trace_paths]
    baselines = {
        t.path: (await _replay(t, (None, None), base, time_scale)).stats.wall_s for t in traces
    }
    caches: Caches = {}
    rows: list[BenchRow] = []
    for spec in speculator_specs:
        for k in ks:
            for variant in variants:
                row = BenchRow(spec, k, variant.max_overhead_pct, variant.depth)
                for trace in traces:
                    try:
                        pair = await _speculator_pair(
                            spec, trace, k, time_scale, variant.depth, row, caches
                        )
                    except ArenaError:
                        if len(variants) == 1:
                            raise
                        break  # a speculator that cannot do this variant (depth 2 on traces)
                    row_policy = replace(
                        base,
                        k=k,
                        max_in_flight=max(base.max_in_flight, 2 * k + 2),
                        max_overhead_pct=variant.max_overhead_pct,
                        depth=variant.depth,
                    )
                    summary = await _replay(trace, pair, row_policy, time_scale)
                    row.add(summary, baselines[trace.path])
                    stats = summary.stats
                    say(
                        f"{spec} k={k} {variant}: {trace.game}: hit {100 * stats.hit_rate:.0f}%, "
                        f"saved {stats.saved_pct:.1f}%, tokens +{stats.token_overhead_pct:.0f}%"
                    )
                else:
                    rows.append(row)
    return BenchResult(rows, [t.path for t in traces], time_scale)
