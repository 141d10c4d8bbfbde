"""The store wired into a real match runner: journal plus bus subscriber."""

from __future__ import annotations

import asyncio
from pathlib import Path

from arena.core.actor import Actor, Decision, Guess, Speculator, Usage
from arena.core.events import EventBus
from arena.core.game import GameState
from arena.core.match import Match, Seat
from arena.core.policy import SpeculationPolicy
from arena.games.chess import START_FEN, ChessState
from arena.store import MatchRecorder, Store, export_pgn


class FirstMove(Actor):
    """Plays the alphabetically first legal move, after a short think."""

    def __init__(self, name: str) -> None:
        self.name = self.spec = name

    async def decide(self, state: GameState) -> Decision:
        await asyncio.sleep(0.002)
        return Decision(sorted(state.legal_moves())[0], raw="ok", usage=Usage(10, 1))


class Oracle(Speculator):
    """Guesses FirstMove's move first, then a wrong one, so branches hit and get cancelled."""

    name = spec = "oracle"

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        moves = sorted(state.legal_moves())
        return [Guess(m, p) for m, p in zip(moves[:k], (0.7, 0.2, 0.1), strict=False)]


async def test_a_real_match_is_recorded(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "arena.db") as store:
        await store.create_match(
            "live", "first:a", "first:b", "oracle", "oracle", START_FEN, 12, None, {"k": 2}
        )
        await store.acquire_lease("live")
        bus = EventBus()
        async with MatchRecorder(store) as recorder:
            bus.subscribe(recorder)
            match = Match(
                "live",
                ChessState.from_fen(START_FEN),
                (Seat(FirstMove("first:a"), Oracle()), Seat(FirstMove("first:b"), Oracle())),
                policy=SpeculationPolicy(k=2),
                max_plies=12,
                bus=bus,
                journal=recorder,
            )
            summary = await match.run()
        assert recorder.failed == 0

        assert await store.moves("live") == list(summary.moves)
        assert len(summary.moves) == 12
        assert await store.get_records("live") == list(summary.records)
        row = await store.get_match("live")
        assert row is not None
        assert (row.status, row.termination, row.plies) == ("finished", "max plies", 12)
        assert row.stats == summary.stats and row.stats.plies == 12
        assert row.max_plies == 12 and not store.holds_lease("live")
        branches = await store.get_branches("live")
        statuses = {b.status for b in branches}
        assert "adopted" in statuses
        assert all(b.status != "running" for b in branches)
        kinds = [e.kind for e in await store.get_events("live")]
        assert kinds[0] == "MatchStarted" and kinds[-1] == "MatchEnded"
        assert kinds.count("MoveCommitted") == 12
        assert "BranchAdopted" in kinds
        assert (await export_pgn(store, "live")).count("[%emt") == 12
