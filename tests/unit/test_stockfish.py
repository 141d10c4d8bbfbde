"""A real Stockfish: deterministic decisions, cancellation that reaches `stop`, no leaks."""

from __future__ import annotations

import asyncio
import time

import pytest

from arena.core.errors import ArenaError
from arena.engines import EngineOptions, find_stockfish
from arena.games.chess import ChessState
from arena.players.stockfish import EnginePlayer
from arena.speculators.stockfish import EngineSpeculator, softmax_probabilities

pytestmark = pytest.mark.slow

MIDDLEGAME = "r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4"


async def test_node_limited_decisions_depend_only_on_the_position() -> None:
    player = EnginePlayer(EngineOptions(nodes=20000), "stockfish:nodes=20000", concurrency=2)
    await player.start()
    try:
        a = ChessState.from_fen(MIDDLEGAME)
        other = ChessState.from_fen("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1")
        first = (await player.decide(a)).move
        await player.decide(other)  # fills the hash with something else
        concurrent = await asyncio.gather(player.decide(a), player.decide(a))
        assert first is not None and a.is_legal(first)
        assert [d.move for d in concurrent] == [first, first]
    finally:
        await player.close()
    assert player.pool.processes == 0


async def test_cancel_reaches_the_engine_and_the_process_is_reused() -> None:
    player = EnginePlayer(EngineOptions(movetime=30.0), "stockfish:movetime=30000", concurrency=1)
    await player.start()
    try:
        state = ChessState.from_fen(MIDDLEGAME)
        task = asyncio.ensure_future(player.decide(state))
        await asyncio.sleep(0.2)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - t0 < 1.0
        # The same single process answers the next search at once: `stop` reached it.
        fast = EnginePlayer(EngineOptions(depth=4), "x", concurrency=1)
        fast.pool = player.pool
        player.pool.options = EngineOptions(depth=4)
        t1 = time.monotonic()
        decision = await fast.decide(state)
        assert decision.move is not None and time.monotonic() - t1 < 5
        assert player.pool.processes == 1
    finally:
        await player.close()
    assert player.pool.processes == 0


async def test_close_after_cancel_leaves_no_process() -> None:
    player = EnginePlayer(EngineOptions(movetime=30.0), "s", concurrency=3)
    await player.start()
    state = ChessState.from_fen(MIDDLEGAME)
    tasks = [asyncio.ensure_future(player.decide(state)) for _ in range(3)]
    for _ in range(100):
        if player.pool.processes == 3:
            break
        await asyncio.sleep(0.05)
    transports = list(player.pool._transports)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await player.close()
    assert len(transports) == 3
    assert all(t.get_returncode() is not None for t in transports)


async def test_speculator_gives_k_distinct_legal_guesses_with_probabilities() -> None:
    spec = EngineSpeculator(EngineOptions(depth=6), "stockfish:depth=6")
    await spec.start()
    try:
        state = ChessState.from_fen(MIDDLEGAME)
        guesses = await spec.predict(state, 3)
        assert len(guesses) == 3
        assert len({g.move for g in guesses}) == 3
        assert all(state.is_legal(g.move) for g in guesses)
        assert abs(sum(g.probability for g in guesses) - 1) < 1e-6
        assert guesses == sorted(guesses, key=lambda g: -g.probability)
        only = ChessState.from_fen("k7/8/8/8/8/8/1r6/K7 w - - 0 1")  # one legal move
        assert [g.move for g in await spec.predict(only, 3)] == ["a1b2"]
    finally:
        await spec.close()


def test_softmax_prefers_better_scores() -> None:
    p = softmax_probabilities([50, 0, -200], 60)
    assert p[0] > p[1] > p[2] and abs(sum(p) - 1) < 1e-9


def test_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARENA_STOCKFISH", "/nonexistent/stockfish")
    with pytest.raises(ArenaError, match="ARENA_STOCKFISH"):
        find_stockfish()
    monkeypatch.delenv("ARENA_STOCKFISH")
    with pytest.raises(ArenaError, match="not found"):
        find_stockfish("/nonexistent/engine")


async def test_cancelling_a_match_closes_every_engine_process() -> None:
    from arena.core.match import Match, Seat
    from arena.core.policy import SpeculationPolicy

    white = EnginePlayer(EngineOptions(movetime=0.2), "w", concurrency=3)
    black = EnginePlayer(EngineOptions(movetime=0.2), "b", concurrency=3)
    spec = EngineSpeculator(EngineOptions(depth=4), "s")
    match = Match(
        "m",
        ChessState.from_fen(None),
        (Seat(white, None), Seat(black, spec)),
        policy=SpeculationPolicy(k=2),
        max_plies=40,
    )
    two_plies = asyncio.Event()
    match.bus.subscribe(lambda _e: two_plies.set() if len(match.records) >= 2 else None)
    task = asyncio.ensure_future(match.run())
    await asyncio.wait_for(two_plies.wait(), timeout=30)
    transports = [*white.pool._transports, *black.pool._transports, *spec.pool._transports]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert transports and all(t.get_returncode() is not None for t in transports)
    assert white.pool.processes == black.pool.processes == spec.pool.processes == 0
