"""Engine MultiPV as a predictor: the top-k lines, probabilities from the score gaps."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

import chess
import chess.engine

from arena.core.actor import Guess, Speculator
from arena.core.errors import EngineError
from arena.core.game import GameState
from arena.engines import EngineOptions, EnginePool
from arena.games.chess import ChessState

log = logging.getLogger(__name__)


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
        self.failure: str | None = None
        """Why the engine stopped speculating (its `EngineError`); None while it works."""

    async def start(self) -> None:
        await self.pool.start()

    async def close(self) -> None:
        if self._running:
            await asyncio.wait(self._running, timeout=5)
        await self.pool.close()

    async def _analyse(
        self, board: chess.Board, k: int, wanted: Callable[[], bool]
    ) -> list[chess.engine.InfoDict]:
        try:
            return await self.pool.analyse(
                board, multipv=k, wanted=wanted, info=chess.engine.INFO_SCORE | chess.engine.INFO_PV
            )
        except EngineError as exc:
            # A broken engine stops this side's speculation; the match goes on without it.
            if self.failure is None:
                self.failure = str(exc)
                log.warning("speculator %s stops: %s", self.spec, exc)
            return []

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        assert isinstance(state, ChessState)
        board = state.board
        k = min(k, len(state.legal_moves()))
        if k <= 0 or self.failure is not None:
            return []
        # A short analysis runs to its end even when the prediction is no longer wanted:
        # python-chess mishandles an analysis cancelled while it waits for `readyok`. One still
        # queued for a process when it stops being wanted (the move came first) is dropped.
        unwanted = asyncio.Event()
        task = asyncio.ensure_future(self._analyse(board, k, lambda: not unwanted.is_set()))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            infos = await asyncio.shield(task)
        except asyncio.CancelledError:
            unwanted.set()
            raise
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
