"""`arena bench tournament`: many concurrent games through the real runner and store.

Trace players replay the shipped recorded GPT-5 games (their latencies x `time_scale`), with the
paper's recorded guesses as speculators, `concurrency` games at a time, each prepared by
`arena.session.prepare_match` and written to one SQLite store as a tournament's games are.
Reported: games/s, plies/s, database writes/s (write transactions, and rows), event-loop lag
(p50/p99/max of a 10 ms ticker's delay), peak RSS, and any write lost (a committed ply missing
from the store) or refused (an event the recorder could not write).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena import data
from arena.core.policy import SpeculationPolicy
from arena.session import MatchPlan, prepare_match
from arena.store import Store

TICK_S = 0.01


@dataclass(frozen=True, kw_only=True)
class TournamentBenchResult:
    games: int
    concurrency: int
    time_scale: float
    speculation: bool
    wall_s: float
    plies: int
    transactions: int | None
    rows: int
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    rss_peak_mb: float
    lost_writes: int
    refused_writes: int
    failed_games: int
    hit_rate: float

    def as_json(self) -> dict[str, Any]:
        wall = self.wall_s or float("nan")
        return {
            "games": self.games,
            "concurrency": self.concurrency,
            "time_scale": self.time_scale,
            "speculation": self.speculation,
            "wall_s": round(self.wall_s, 3),
            "games_per_s": round(self.games / wall, 3),
            "plies": self.plies,
            "plies_per_s": round(self.plies / wall, 1),
            "writes_per_s": (
                None if self.transactions is None else round(self.transactions / wall, 1)
            ),
            "rows_per_s": round(self.rows / wall, 1),
            "loop_lag_ms": {
                "p50": round(self.lag_p50_ms, 2),
                "p99": round(self.lag_p99_ms, 2),
                "max": round(self.lag_max_ms, 2),
            },
            "rss_peak_mb": round(self.rss_peak_mb, 1),
            "lost_writes": self.lost_writes,
            "refused_writes": self.refused_writes,
            "failed_games": self.failed_games,
            "hit_rate": round(self.hit_rate, 4),
        }

    def table(self) -> str:
        j = self.as_json()
        lag = j["loop_lag_ms"]
        writes = "-" if j["writes_per_s"] is None else f"{j['writes_per_s']:.0f}"
        return "\n".join(
            [
                f"{self.games} trace games, {self.concurrency} in flight, time scale "
                f"{self.time_scale:g}, speculation {'on' if self.speculation else 'off'}",
                f"wall {self.wall_s:.1f}s: {j['games_per_s']:.2f} games/s, "
                f"{j['plies_per_s']:.0f} plies/s, {writes} write transactions/s, "
                f"{j['rows_per_s']:.0f} rows/s",
                f"event-loop lag p50 {lag['p50']:.1f} ms, p99 {lag['p99']:.1f} ms, "
                f"max {lag['max']:.1f} ms; peak RSS {j['rss_peak_mb']:.0f} MB",
                f"lost writes {self.lost_writes}, refused {self.refused_writes}, "
                f"failed games {self.failed_games}; hit rate {100 * self.hit_rate:.0f}%",
            ]
        )


async def _ticker(stop: asyncio.Event, lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(TICK_S)
        lags.append(max(0.0, loop.time() - t - TICK_S))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_tournament_bench(
    *,
    games: int,
    concurrency: int,
    time_scale: float = 0.01,
    speculation: bool = True,
    db: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> TournamentBenchResult:
    traces = data.trace_names()
    with contextlib.ExitStack() as stack:
        if db is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="arena-bench-"))
            path = Path(folder) / "bench.db"
        else:
            path = Path(db)
        store = await Store.open(path)
        try:
            return await _run(store, games, concurrency, time_scale, speculation, traces, progress)
        finally:
            await store.close()


async def _run(
    store: Store,
    games: int,
    concurrency: int,
    time_scale: float,
    speculation: bool,
    traces: list[str],
    progress: Callable[[str], None] | None,
) -> TournamentBenchResult:
    gate = asyncio.Semaphore(concurrency)
    stop = asyncio.Event()
    lags: list[float] = []
    results: list[tuple[str, int, int, int, int]] = []
    failed = 0
    prefix = store.new_match_id()[:6]

    async def one(n: int) -> None:
        nonlocal failed
        trace = f"trace:{traces[n % len(traces)]}"
        plan = MatchPlan(
            white=trace,
            black=trace,
            white_speculator="trace-guesses" if speculation else None,
            black_speculator="trace-guesses" if speculation else None,
            time_scale=time_scale,
            policy=SpeculationPolicy(enabled=speculation),
        )
        async with gate:
            try:
                prepared = await prepare_match(plan, store, f"bench-{prefix}-{n:05d}")
                summary = await prepared.run()
            except Exception as exc:
                failed += 1
                if progress is not None:
                    progress(f"game {n} failed: {type(exc).__name__}: {exc}")
                return
            stats = summary.stats
            results.append(
                (
                    summary.match_id,
                    len(summary.records),
                    prepared.recorder.failed,
                    stats.speculated_plies,
                    stats.predicted_plies,
                )
            )
            if progress is not None and len(results) % max(1, games // 10) == 0:
                progress(f"{len(results)}/{games} games")

    before = getattr(store, "passes", None)
    sampler = asyncio.ensure_future(_ticker(stop, lags))
    started = time.monotonic()
    try:
        tasks = []
        for n in range(games):
            tasks.append(asyncio.ensure_future(one(n)))
            # One game's set-up (specs, traces, the match row) at a time: started all in one
            # loop pass they would stall the loop for the sum of their set-ups.
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
    finally:
        wall = time.monotonic() - started
        stop.set()
        await sampler
    after = getattr(store, "passes", None)
    lost = 0
    for match_id, plies, _, _, _ in results:
        stored = len(await store.moves(match_id))
        lost += max(0, plies - stored)
    rows = 0
    for table in ("plies", "events", "branches", "predictions", "matches"):
        rows += int(await store._scalar(f"SELECT COUNT(*) FROM {table}"))
    speculated = sum(r[3] for r in results)
    predicted = sum(r[4] for r in results)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return TournamentBenchResult(
        games=games,
        concurrency=concurrency,
        time_scale=time_scale,
        speculation=speculation,
        wall_s=wall,
        plies=sum(r[1] for r in results),
        transactions=(after - before)
        if isinstance(after, int) and isinstance(before, int)
        else None,
        rows=rows,
        lag_p50_ms=_pct(lags, 0.5) * 1000,
        lag_p99_ms=_pct(lags, 0.99) * 1000,
        lag_max_ms=max(lags, default=0.0) * 1000,
        rss_peak_mb=rss_kb / 1024,
        lost_writes=lost,
        refused_writes=sum(r[2] for r in results),
        failed_games=failed,
        hit_rate=predicted / speculated if speculated else 0.0,
    )


__all__ = ["TournamentBenchResult", "run_tournament_bench"]
