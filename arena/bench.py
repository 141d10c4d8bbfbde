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
from arena.speculators.simple import TraceGuessSpeculator


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


@dataclass
class BenchRow:
    """One speculator and k over every trace: the ledger's figures over all replays' plies."""

    speculator: str
    k: int
    summaries: list[MatchSummary] = field(default_factory=list)
    baseline_wall_s: float = 0.0
    guessed: int = 0
    foreseen: int = 0
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
        self, trace: Trace, side: int, guesses_at: Callable[[TracePly], list[str]]
    ) -> None:
        """Top-k accuracy on every ply this side's speculator guesses, whatever the timing."""
        for rec in trace.plies:
            if rec.ply % 2 != side:
                self.guessed += 1
                self.foreseen += rec.move in guesses_at(rec)

    def as_json(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "speculator": self.speculator,
            "k": self.k,
            **stats.as_dict(),
            "accuracy": round(self.foreseen / self.guessed, 4) if self.guessed else 0.0,
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

    def table(self) -> str:
        head = (
            f"{'speculator':<22} {'k':>2} {'plies':>5} {'acc':>6} {'hit':>6} {'seq s':>8} "
            f"{'wall s':>8} {'saved':>7} {'vs off':>7} {'tok+':>7} {'p95 ms':>7}"
        )
        lines = [
            f"{len(self.traces)} trace(s), time scale {self.time_scale}",
            head,
            "-" * len(head),
        ]
        for row in self.rows:
            j = row.as_json()
            p95 = "-" if j["commit_latency_p95_ms"] is None else f"{j['commit_latency_p95_ms']:.1f}"
            lines.append(
                f"{j['speculator']:<22} {j['k']:>2} {j['plies']:>5} {100 * j['accuracy']:>5.1f}% "
                f"{100 * j['hit_rate']:>5.1f}% "
                f"{j['sequential_s']:>8.2f} {j['wall_s']:>8.2f} {j['saved_pct']:>6.1f}% "
                f"{j['vs_baseline_pct']:>6.1f}% {j['token_overhead_pct']:>6.1f}% {p95:>7}"
            )
        lines.append(
            "acc = top-k accuracy on all plies; hit = played move among the guesses that arrived "
            "in time; saved = 1 - wall/sequential (sequential = the sum of committed decision "
            "times); vs off = wall against the same replay without speculation; tok+ = wasted "
            "branch and speculator tokens / committed tokens"
        )
        return "\n".join(lines)


def _recorded(rec: TracePly, k: int) -> list[str]:
    return list(rec.guesses[:k])


def _cached_moves(
    cache: dict[str, tuple[list[Guess], float]], trace: Trace
) -> Callable[[TracePly], list[str]]:
    keys: dict[int, str] = {}
    state = ChessState.from_fen(trace.start_fen)
    for rec in trace.plies:
        keys[rec.ply] = state.key()
        state = state.apply(rec.move)

    def at(rec: TracePly) -> list[str]:
        return [g.move for g in cache.get(keys[rec.ply], ([], 0.0))[0]]

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


async def _speculator_pair(
    spec: str, trace: Trace, k: int, time_scale: float, depth: int, row: BenchRow
) -> tuple[Speculator | None, Speculator | None]:
    ctx = Context(time_scale=time_scale, traces=[trace])
    built = [build_speculator(spec, ctx) for _ in (0, 1)]
    if any(isinstance(b, TraceGuessSpeculator) for b in built) or built[0] is None:
        if depth > 1:
            raise ArenaError(f"{spec}: depth 2 needs guesses off the recorded path; it has none")
        for side in (0, 1):
            row.count_offline(trace, side, functools.partial(_recorded, k=k))
        return built[0], built[1]
    caches = [await precompute(b, trace, side, k) for side, b in enumerate(built) if b is not None]
    if depth > 1:
        # Depth 2 asks the mover's speculator about positions after the waiter's top guess.
        # Those are computed here too, off the recorded path included, so that whether a
        # prediction exists never tells the replay which guess was right.
        for side in (0, 1):
            extra = build_speculator(spec, ctx)
            assert extra is not None
            await precompute_children(extra, trace, side, caches[1 - side], caches[side])
    pair: list[Speculator | None] = []
    for side, cache in enumerate(caches):
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


async def run_speculation_bench(
    trace_paths: list[str],
    speculator_specs: list[str],
    ks: list[int],
    time_scale: float,
    policy: SpeculationPolicy | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchResult:
    """One row per speculator and k; `policy` sets everything else (k is overridden).

    `progress` gets a line per replay (the CLI prints them on stderr)."""
    say = progress or (lambda _line: None)
    base = policy or SpeculationPolicy()
    depth = base.depth
    traces = [load_trace(p) for p in trace_paths]
    baselines = {
        t.path: (await _replay(t, (None, None), base, time_scale)).stats.wall_s for t in traces
    }
    rows: list[BenchRow] = []
    for spec in speculator_specs:
        for k in ks:
            row = BenchRow(spec, k)
            for trace in traces:
                pair = await _speculator_pair(spec, trace, k, time_scale, depth, row)
                row_policy = replace(base, k=k, max_in_flight=max(base.max_in_flight, 2 * k + 2))
                summary = await _replay(trace, pair, row_policy, time_scale)
                row.add(summary, baselines[trace.path])
                stats = summary.stats
                say(
                    f"{spec} k={k} {trace.game}: hit {100 * stats.hit_rate:.0f}%, "
                    f"wall {stats.wall_s:.2f}s of {stats.sequential_s:.2f}s sequential"
                )
            rows.append(row)
    return BenchResult(rows, [t.path for t in traces], time_scale)
