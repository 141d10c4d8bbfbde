"""`arena bench store`: what a ply costs on the real path, against a floor measured beside it.

Three parts, in one run:

- **floor**: python-chess push + legal moves + one durable aiosqlite commit per ply (WAL,
  `synchronous=FULL`, one INSERT in autocommit), over the moves of the long game below;
- **one long game**: random vs random without speculation through `prepare_match` and the real
  store, timed from one committed ply to the next; ms per ply overall, at plies 1-50 and 450-500,
  and the database bytes each ply adds (its rows: plies, predictions, attempts, events, branches);
- **games in flight**: N games in one process sharing one store; the durable write of each ply
  as the match awaits it (commit latency p50/p99), plies/s, event-loop lag, peak RSS of the
  process and its engines.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
import chess

from arena.core.events import Event, MoveCommitted
from arena.core.match import Journal, MatchSummary
from arena.core.policy import DEFAULT_POLICY, NO_SPECULATION
from arena.games.chess import ChessState
from arena.games.traces import load_trace
from arena.players.random import RandomPlayer
from arena.session import MatchPlan, Prepared, many_matches_gc, prepare_match
from arena.specs import parse_spec, trace_file
from arena.store import Store

Progress = Callable[[str], None]

WINDOW = 50
"""Plies in each window compared (1-50 against the last 50 before `plies`)."""


def _quiet(_line: str) -> None:
    pass


@dataclass(frozen=True, kw_only=True)
class LongGame:
    """One long headless game against the floor."""

    plies: int
    seed: int
    floor_ms: float
    """python-chess push + legal moves + one durable commit, ms per ply (median ply)."""
    ours_ms: float
    """The real path, ms per ply (median ply)."""
    early_ms: float
    """Median ms per ply over plies 1-50."""
    late_ms: float
    """Median ms per ply over the last 50 plies."""
    bytes_per_ply: float
    """Database file bytes per ply (after a checkpoint)."""
    early_bytes: float
    """Row bytes per ply over plies 1-50."""
    late_bytes: float
    """Row bytes per ply over the last 50 plies."""

    @property
    def vs_floor(self) -> float:
        return self.ours_ms / self.floor_ms if self.floor_ms else float("nan")

    @property
    def late_vs_early(self) -> float:
        return self.late_ms / self.early_ms if self.early_ms else float("nan")

    @property
    def late_vs_early_bytes(self) -> float:
        return self.late_bytes / self.early_bytes if self.early_bytes else float("nan")


@dataclass(frozen=True, kw_only=True)
class InFlight:
    """N games in one process sharing one store."""

    games: int
    player: str
    speculator: str | None
    plies: int
    wall_s: float
    commit_p50_ms: float
    commit_p99_ms: float
    commit_max_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    rss_peak_mb: float
    """Peak resident memory of this process and its children (engines), sampled."""
    processes_peak: int
    """Peak number of child processes (engines)."""
    speculated: int = 0
    """Plies whose waiting side had guesses (its speculator answered) while the mover decided."""
    lockstep: bool = False
    """All games started at once (else spread over one mean ply interval)."""

    @property
    def plies_per_s(self) -> float:
        return self.plies / self.wall_s if self.wall_s else 0.0


@dataclass(frozen=True, kw_only=True)
class StoreBenchResult:
    long: LongGame | None = None
    in_flight: list[InFlight] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.long is not None:
            g = self.long
            out["long_game"] = {
                **{k: getattr(g, k) for k in g.__dataclass_fields__},
                "vs_floor": g.vs_floor,
                "late_vs_early": g.late_vs_early,
                "late_vs_early_bytes": g.late_vs_early_bytes,
            }
        out["in_flight"] = [
            {**{k: getattr(r, k) for k in r.__dataclass_fields__}, "plies_per_s": r.plies_per_s}
            for r in self.in_flight
        ]
        return out

    def table(self) -> str:
        lines: list[str] = []
        if self.long is not None:
            g = self.long
            w = 46

            def row(label: str, value: str, note: str = "") -> str:
                return f"  {label:<{w}}{value}{f'   {note}' if note else ''}"

            lines += [
                f"one game, random vs random, no speculation, {g.plies} plies (seed {g.seed})",
                row("floor (push + legal moves + durable commit)", f"{g.floor_ms:7.3f} ms/ply"),
                row("ours", f"{g.ours_ms:7.3f} ms/ply", f"{g.vs_floor:5.2f}x floor"),
                row(f"plies 1-{WINDOW}", f"{g.early_ms:7.3f} ms/ply"),
                row(
                    f"plies {g.plies - WINDOW + 1}-{g.plies}",
                    f"{g.late_ms:7.3f} ms/ply",
                    f"{g.late_vs_early:5.2f}x plies 1-{WINDOW}",
                ),
                row("database file", f"{g.bytes_per_ply:7.0f} B/ply"),
                row(f"row bytes, plies 1-{WINDOW}", f"{g.early_bytes:7.0f} B/ply"),
                row(
                    f"row bytes, plies {g.plies - WINDOW + 1}-{g.plies}",
                    f"{g.late_bytes:7.0f} B/ply",
                    f"{g.late_vs_early_bytes:5.2f}x plies 1-{WINDOW}",
                ),
            ]
        if self.in_flight:
            if lines:
                lines.append("")
            lines.append(
                f"{'games':>5}  {'player':<24} {'speculator':<18} {'plies':>6} {'plies/s':>8}"
                f" {'commit p50':>10} {'p99':>8} {'max':>8} {'lag p99':>8} {'lag max':>8}"
                f" {'RSS MB':>7} {'procs':>5} {'spec':>5}"
            )
            for r in self.in_flight:
                lines.append(
                    f"{r.games:>5}  {r.player[:24]:<24} {(r.speculator or '-')[:18]:<18}"
                    f" {r.plies:>6} {r.plies_per_s:>8.0f} {r.commit_p50_ms:>8.1f}ms"
                    f" {r.commit_p99_ms:>6.1f}ms {r.commit_max_ms:>6.1f}ms"
                    f" {r.lag_p99_ms:>6.1f}ms {r.lag_max_ms:>6.1f}ms"
                    f" {r.rss_peak_mb:>7.0f} {r.processes_peak:>5}"
                    f" {100 * r.speculated / max(1, r.plies):>4.0f}%"
                    + (" lockstep" if r.lockstep else "")
                )
            lines.append(
                "spec = plies speculated on; lockstep = games started at once (else spread over"
                " one mean ply interval)"
            )
        return "\n".join(lines)


# -- the long game -----------------------------------------------------------------------------


async def _game_length(seed: int, limit: int) -> int:
    """How long random vs random (`seed`) lasts, up to `limit` plies, without any store."""
    player = RandomPlayer(seed)
    state = ChessState.from_fen()
    while state.ply < limit and state.outcome() is None:
        move = (await player.decide(state)).move
        assert move is not None
        state = state.apply(move)
    return state.ply


async def _long_seed(plies: int, progress: Progress) -> int:
    """The first seed whose random game lasts at least `plies` plies."""
    for seed in range(1000):
        if await _game_length(seed, plies) >= plies:
            return seed
        progress(f"bench store: seed {seed} ends before ply {plies}")
    raise RuntimeError(f"no random game of {plies} plies among 1000 seeds")


async def _floor(moves: Sequence[str], folder: Path) -> list[float]:
    """Seconds per ply: push + legal moves + one durable commit of a small row."""
    path = folder / "floor.db"
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = FULL")
        await db.execute("CREATE TABLE plies (ply INTEGER PRIMARY KEY, move TEXT, fen TEXT)")
        board = chess.Board()
        out = []
        for ply, uci in enumerate(moves):
            t = time.perf_counter()
            board.push(chess.Move.from_uci(uci))
            legal = list(board.legal_moves)
            await db.execute(
                "INSERT INTO plies (ply, move, fen) VALUES (?, ?, ?)", (ply, uci, board.fen())
            )
            out.append(time.perf_counter() - t)
            del legal
        return out
    finally:
        await db.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.unlink(f"{path}{suffix}")


def _row_bytes(path: Path, match_id: str) -> dict[int, int]:
    """Bytes of the rows each ply added (plies, predictions, attempts, events, branches)."""
    parts = [
        "SELECT ply, COALESCE(LENGTH(CAST(plies.move || plies.san || plies.fen_after"
        " || plies.usage_json || plies.wasted_usage_json || plies.speculator_usage_json"
        " || COALESCE(plies.flagged, '') || plies.raw AS BLOB)), 0) + 8 * 16 FROM plies"
        " WHERE match_id = :m",
        "SELECT ply, LENGTH(move) + 40 FROM predictions WHERE match_id = :m",
        "SELECT ply, LENGTH(raw) + LENGTH(COALESCE(parsed, '')) + LENGTH(error) + 24"
        " FROM attempts WHERE match_id = :m",
        "SELECT ply, LENGTH(path) + LENGTH(guess) + LENGTH(COALESCE(usage_json, ''))"
        " + LENGTH(COALESCE(move, '')) + 80 FROM branches WHERE match_id = :m",
        "SELECT COALESCE(json_extract(json, '$.ply'), json_extract(json, '$.record.ply'), -1),"
        " LENGTH(json) + LENGTH(kind) + 24 FROM events WHERE match_id = :m",
    ]
    out: dict[int, int] = {}
    with contextlib.closing(sqlite3.connect(path)) as db:
        for sql in parts:
            for ply, n in db.execute(sql, {"m": match_id}):
                out[int(ply)] = out.get(int(ply), 0) + int(n)
    return out


def _file_bytes(path: Path) -> int:
    return sum(os.stat(f"{path}{s}").st_size for s in ("", "-wal") if os.path.exists(f"{path}{s}"))


def _median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1000 if values else float("nan")


async def _one_long_game(
    plies: int, seed: int, path: Path
) -> tuple[list[float], list[str], dict[int, int], int]:
    """Seconds from one committed ply to the next, the moves, row bytes per ply, file bytes."""
    store = await Store.open(path)
    stamps: list[float] = []

    def stamp(event: Event) -> None:
        if isinstance(event, MoveCommitted):
            stamps.append(time.perf_counter())

    try:
        plan = MatchPlan(
            white="random", black="random", seed=seed, max_plies=plies, policy=NO_SPECULATION
        )
        prepared = await prepare_match(plan, store)
        prepared.match.bus.subscribe(stamp)
        t0 = time.perf_counter()
        summary = await prepared.run()
        per_ply = [b - a for a, b in zip([t0, *stamps], stamps, strict=False)]
    finally:
        await store.close()  # the last connection checkpoints the WAL into the file
    rows = _row_bytes(path, summary.match_id)
    size = _file_bytes(path)
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")
    return per_ply, list(summary.moves), rows, size


async def run_long_game(
    plies: int,
    folder: Path,
    progress: Progress = _quiet,
    seed: int | None = None,
    rounds: int = 3,
) -> LongGame:
    """One random-vs-random game of `plies` plies through the real path, against the floor.

    The game and the floor alternate `rounds` times; each figure is its best round (the least
    disturbed by whatever else the machine runs), ours and the floor alike.
    """
    if seed is None:
        seed = await _long_seed(plies, progress)
    best: dict[str, float] = {}
    rows: dict[int, int] = {}
    size = n = 0
    for r in range(rounds):
        progress(f"bench store: one game of {plies} plies (seed {seed}), round {r + 1}/{rounds}")
        per_ply, moves, rows, size = await _one_long_game(plies, seed, folder / f"long-{r}.db")
        floor = await _floor(moves, folder)
        n = len(per_ply)
        figures = {
            "floor_ms": _median_ms(floor),
            "ours_ms": _median_ms(per_ply),
            "early_ms": _median_ms(per_ply[:WINDOW]),
            "late_ms": _median_ms(per_ply[max(0, n - WINDOW) :]),
        }
        for key, value in figures.items():
            best[key] = min(best.get(key, value), value)
    early_b = [rows.get(p, 0) for p in range(min(WINDOW, n))]
    late_b = [rows.get(p, 0) for p in range(max(0, n - WINDOW), n)]
    return LongGame(
        plies=n,
        seed=seed,
        floor_ms=best["floor_ms"],
        ours_ms=best["ours_ms"],
        early_ms=best["early_ms"],
        late_ms=best["late_ms"],
        bytes_per_ply=size / max(1, n),
        early_bytes=statistics.fmean(early_b) if early_b else 0.0,
        late_bytes=statistics.fmean(late_b) if late_b else 0.0,
    )


# -- games in flight ---------------------------------------------------------------------------


class _TimedJournal:
    """Times the durable write of each ply as the match awaits it."""

    def __init__(self, inner: Journal, samples: list[float]) -> None:
        self.inner = inner
        self.samples = samples

    async def record(self, event: Event) -> None:
        if not isinstance(event, MoveCommitted):
            await self.inner.record(event)
            return
        t = time.perf_counter()
        await self.inner.record(event)
        self.samples.append(time.perf_counter() - t)


def _children(pid: int) -> list[int]:
    out = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                out += [int(p) for p in text.split()]
    return out


def _rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _tree_rss() -> tuple[float, int]:
    """MB resident in this process and its descendants; how many descendants."""
    me = os.getpid()
    seen = [me]
    todo = [me]
    while todo:
        kids = _children(todo.pop())
        seen += kids
        todo += kids
    return sum(_rss_kb(p) for p in seen) / 1024, len(seen) - 1


async def _sample(stop: asyncio.Event, lags: list[float], peak: list[float]) -> None:
    loop = asyncio.get_running_loop()
    tick = 0.01
    n = 0
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(tick)
        lags.append(max(0.0, loop.time() - t - tick))
        n += 1
        if n % 25 == 0:
            rss, procs = _tree_rss()
            peak[0] = max(peak[0], rss)
            peak[1] = max(peak[1], procs)


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run_in_flight(
    games: int,
    folder: Path,
    *,
    player: str = "random",
    speculator: str | None = None,
    max_plies: int | None = 200,
    time_scale: float = 0.001,
    lockstep: bool = False,
    progress: Progress = _quiet,
) -> InFlight:
    """`games` games at once in this process, one store; commit latency, lag and memory."""
    path = folder / f"flight-{games}.db"
    store = await Store.open(path)
    samples: list[float] = []
    lags: list[float] = []
    peak = [0.0, 0.0]
    stop = asyncio.Event()
    sampler = asyncio.ensure_future(_sample(stop, lags, peak))
    plies = 0
    try:
        policy = DEFAULT_POLICY if speculator else NO_SPECULATION
        prepared = []
        for i in range(games):
            plan = MatchPlan(
                white=player,
                black=player,
                white_speculator=speculator,
                black_speculator=speculator,
                seed=i,
                max_plies=max_plies,
                time_scale=time_scale,
                policy=policy,
            )
            p = await prepare_match(plan, store)
            if p.match.journal is not None:
                p.match.journal = _TimedJournal(p.match.journal, samples)
            prepared.append(p)
        progress(f"bench store: {games} games in flight ({player}, speculator {speculator})")
        many_matches_gc()
        gc.freeze()  # the games' set-up lives to the end: no collection need walk it again
        spread = 0.0 if lockstep else _ply_interval(player, time_scale)
        t0 = time.perf_counter()
        summaries = await asyncio.gather(
            *(_run_after(i * spread / games, p) for i, p in enumerate(prepared))
        )
        wall = time.perf_counter() - t0
        plies = sum(len(s.records) for s in summaries)
        speculated = sum(bool(r.guesses) for s in summaries for r in s.records)
    finally:
        gc.unfreeze()
        stop.set()
        await sampler
        await store.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.unlink(f"{path}{suffix}")
    return InFlight(
        games=games,
        player=player,
        speculator=speculator,
        plies=plies,
        wall_s=wall,
        commit_p50_ms=_pct(samples, 0.5),
        commit_p99_ms=_pct(samples, 0.99),
        commit_max_ms=max(samples, default=float("nan")) * 1000,
        lag_p99_ms=_pct(lags, 0.99),
        lag_max_ms=max(lags, default=float("nan")) * 1000,
        rss_peak_mb=peak[0],
        processes_peak=int(peak[1]),
        speculated=speculated,
        lockstep=lockstep,
    )


def _ply_interval(player: str, time_scale: float) -> float:
    """Mean seconds between plies of a trace player's game (0 for other players)."""
    spec = parse_spec(player)
    if spec.kind != "trace":
        return 0.0
    trace = load_trace(trace_file(spec.arg))
    return statistics.fmean(p.latency_s for p in trace.plies) * time_scale if trace.plies else 0.0


async def _run_after(delay: float, prepared: Prepared) -> MatchSummary:
    await asyncio.sleep(delay)
    summary: MatchSummary = await prepared.run()
    return summary


async def run_store_bench(
    *,
    plies: int = 500,
    games: Sequence[int] = (50,),
    player: str = "random",
    speculator: str | None = None,
    max_plies: int | None = 200,
    time_scale: float = 0.001,
    folder: str | None = None,
    long_game: bool = True,
    rounds: int = 3,
    lockstep: bool = False,
    progress: Progress = _quiet,
) -> StoreBenchResult:
    """The long game against the floor, then each count of games in flight."""
    random.seed(0)
    with tempfile.TemporaryDirectory(prefix="arena-bench-store-", dir=folder) as tmp:
        where = Path(tmp)
        long = await run_long_game(plies, where, progress, rounds=rounds) if long_game else None
        flights = [
            await run_in_flight(
                n,
                where,
                player=player,
                speculator=speculator,
                max_plies=max_plies,
                time_scale=time_scale,
                lockstep=lockstep,
                progress=progress,
            )
            for n in games
            if n > 0
        ]
    return StoreBenchResult(long=long, in_flight=flights)
