"""Engines that misbehave end with one clear `EngineError` in bounded time, never a hang."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from arena.core.actor import Decision
from arena.core.errors import ArenaError, EngineError
from arena.core.game import GameState
from arena.core.match import Match, Seat
from arena.core.policy import SpeculationPolicy
from arena.engines import EngineOptions, EnginePool, find_stockfish
from arena.games.chess import ChessState
from arena.players.random import RandomPlayer
from arena.players.stockfish import EnginePlayer
from arena.speculators.stockfish import EngineSpeculator
from tests.fakes.uci import BABBLES, BAD_BESTMOVE, HANGS_AFTER_HANDSHAKE, NEVER_HANDSHAKES

START = ChessState.from_fen(None)


@pytest.mark.parametrize("binary", ["/bin/cat", str(BABBLES), str(NEVER_HANDSHAKES)])
async def test_an_engine_without_a_handshake_fails_at_its_init_timeout(binary: str) -> None:
    pool = EnginePool(EngineOptions(binary=binary, init_timeout=0.5), size=1)
    t0 = time.monotonic()
    with pytest.raises(
        EngineError, match=r"did not finish the UCI handshake \(uci/uciok\) within 0\.5s"
    ) as info:
        await pool.start()
    assert time.monotonic() - t0 < 5
    assert "\n" not in str(info.value)
    assert pool.processes == 0


async def test_an_engine_that_ignores_go_is_killed_at_the_move_deadline() -> None:
    options = EngineOptions(binary=str(HANGS_AFTER_HANDSHAKE), depth=5, move_timeout=0.5)
    player = EnginePlayer(options, "uci:hang", concurrency=1)
    await player.start()
    transports = list(player.pool._transports)
    try:
        t0 = time.monotonic()
        with pytest.raises(EngineError, match=r"gave no answer within 0\.5s"):
            await player.decide(START)
        assert time.monotonic() - t0 < 5
        assert player.pool.processes == 0
        for _ in range(50):  # the killed process is reaped by the event loop
            if transports[0].get_returncode() is not None:
                break
            await asyncio.sleep(0.02)
        assert transports[0].get_returncode() is not None
    finally:
        await player.close()


async def test_an_illegal_bestmove_is_an_engine_error() -> None:
    player = EnginePlayer(EngineOptions(binary=str(BAD_BESTMOVE), depth=1), "uci:bad")
    await player.start()
    try:
        with pytest.raises(EngineError, match="z9z9"):
            await player.decide(START)
    finally:
        await player.close()


def test_deadlines_follow_the_limit() -> None:
    assert EngineOptions(movetime=2.0).deadline_s() == 12.0
    assert EngineOptions(depth=10).deadline_s() == 300.0
    assert EngineOptions(depth=10, move_timeout=3).deadline_s() == 3.0


def test_a_file_that_is_not_executable_is_not_called_missing(tmp_path: Path) -> None:
    engine = tmp_path / "engine"
    engine.write_text("#!/bin/sh\n")
    with pytest.raises(EngineError, match="is not executable"):
        find_stockfish(str(engine))
    with pytest.raises(EngineError, match="is a folder"):
        find_stockfish(str(tmp_path))
    with pytest.raises(EngineError, match="not found"):
        find_stockfish(str(tmp_path / "missing"))


async def test_arena_stockfish_pointing_at_cat_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARENA_STOCKFISH", "/bin/cat")
    pool = EnginePool(EngineOptions(init_timeout=0.3), size=1)
    with pytest.raises(EngineError, match=r"/bin/cat \(ARENA_STOCKFISH\) did not finish"):
        await pool.start()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"depth": 0}, "depth must be 1..100"),
        ({"nodes": 0}, "nodes must be 1..10000000000"),
        ({"threads": 999}, "threads must be 1..[0-9]+ \\(twice this machine's cores\\)"),
        ({"movetime": 0.0}, "movetime must be 1..3600000 ms"),
        ({"init_timeout": 0.0}, "init_timeout must be more than 0"),
        ({"move_timeout": float("inf")}, "move_timeout must be more than 0 and at most 86400 s"),
    ],
)
def test_options_made_in_code_are_checked_too(options: dict[str, float], message: str) -> None:
    with pytest.raises(ArenaError, match=message):
        EngineOptions(**options)  # type: ignore[arg-type]


class SlowRandom(RandomPlayer):
    """A random player that thinks long enough for the opponent's analysis to start."""

    async def decide(self, state: GameState) -> Decision:
        await asyncio.sleep(0.2)
        return await super().decide(state)


async def test_a_speculator_whose_engine_hangs_stops_and_the_match_goes_on() -> None:
    hang = EngineOptions(binary=str(HANGS_AFTER_HANDSHAKE), depth=5, move_timeout=0.3)
    speculator = EngineSpeculator(hang, "uci:hang")
    match = Match(
        "m",
        START,
        (Seat(SlowRandom(1, "random"), None), Seat(RandomPlayer(2, "random"), speculator)),
        policy=SpeculationPolicy(k=2),
        max_plies=6,
    )
    # The hung analysis starts while White thinks, outlives its ply, and ends at its deadline.
    summary = await asyncio.wait_for(match.run(), timeout=30)
    assert len(summary.moves) == 6
    for _ in range(50):
        if speculator.failure is not None:
            break
        await asyncio.sleep(0.05)
    assert speculator.failure is not None and "gave no answer" in speculator.failure
    assert await speculator.predict(START, 2) == []
    assert speculator.pool.processes == 0


def test_fake_engines_are_executable() -> None:
    for fake in (BABBLES, BAD_BESTMOVE, HANGS_AFTER_HANDSHAKE, NEVER_HANDSHAKES):
        assert os.access(fake, os.X_OK), fake
