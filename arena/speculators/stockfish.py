"""Engine MultiPV as a predictor: the top-k lines, probabilities from the score gaps."""

from __future__ import annotations

import asyncio
import math

import chess
import chess.engine

from arena.core.actor import Guess, Speculator
from arena.core.game import GameState
from arena.games.chess import ChessState
from arena.engines import EngineOptions, EnginePool


def softmax_probabilities(scores_cp: list[int], temperature_cp: float) -> list[float]:
    """Probabilities from centipawn scores (mover's view): a softmax at `temperature_cp`."""
    if not scores_cp:
        return []
    best = max(scores_cp)
    weights = [math.exp((s - best) / max(temperature_cp, 1e-6)) for s in scores_cp]
    total = sum(weights)
    return [w / total for w in weights]


class EngineSpeculator(Speculator):
    """Asks its own engine process for the k best moves (MultiPV) of the side to move."""

    def __init__(self, options: EngineOptions, spec: str, temperature_cp: float = 60.0) -> None:
        self.options = options
        self.spec = spec
        self.name = spec
        self.temperature_cp = temperature_cp
        self.pool = EnginePool(options, size=2)
        self._running: set[asyncio.Task[list[chess.engine.InfoDict]]] = set()

    async def start(self) -> None:
        await self.pool.start()

    async def close(self) -> None:
        if self._running:
            await asyncio.wait(self._running, timeout=5)
        await self.pool.close()

    async def _analyse(self, board: chess.Board, k: int) -> list[chess.engine.InfoDict]:
        async with self.pool.engine() as engine:
            return await engine.analyse(board, self.options.limit(), multipv=k, game=object())

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        assert isinstance(state, ChessState)
        board = state.board
        k = min(k, len(state.legal_moves()))
        if k <= 0:
            return []
        # A short analysis runs to its end even when the prediction is no longer wanted:
        # python-chess mishandles an analysis cancelled while it waits for `readyok`.
        task = asyncio.ensure_future(self._analyse(board, k))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        infos = await asyncio.shield(task)
        moves: list[str] = []
        scores: list[int] = []
        for info in infos:
            pv = info.get("pv")
            score = info.get("score")
            if not pv or score is None:
                continue
            moves.append(pv[0].uci())
            scores.append(score.pov(board.turn).score(mate_score=10000))
        probs = softmax_probabilities(scores, self.temperature_cp)
        return [Guess(m, p) for m, p in zip(moves, probs, strict=True)]
