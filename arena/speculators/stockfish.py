"""Engine MultiPV as a predictor: the top-k lines, probabilities from the score gaps."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

from arena.core.actor import Guess, Speculator
from arena.core.errors import EngineError
from arena.core.game import GameState
from arena.engines import EngineOptions, EnginePool, TopMove
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
        self.pool = EnginePool(options, size=2, background=True)
        self._running: set[asyncio.Task[list[TopMove]]] = set()
        self.failure: str | None = None
        """Why the engine stopped speculating (its `EngineError`); None while it works."""

    async def start(self) -> None:
        await self.pool.start()

    async def close(self) -> None:
        if self._running:
            await asyncio.wait(self._running, timeout=5)
        await self.pool.close()

    async def _analyse(self, fen: str, k: int, wanted: Callable[[], bool]) -> list[TopMove]:
        try:
            return await self.pool.top_moves(fen, multipv=k, wanted=wanted)
        except EngineError as exc:
            # A broken engine stops this side's speculation; the match goes on without it.
            if self.failure is None:
                self.failure = str(exc)
                log.warning("speculator %s stops: %s", self.spec, exc)
            return []

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        assert isinstance(state, ChessState)
        # An engine lists fewer lines than asked when there are fewer legal moves.
        if k <= 0 or self.failure is not None:
            return []
        # The engine sees the position, not the moves before it (a guess needs no repetition
        # rules). An analysis still queued for a process when it stops being wanted (the move
        # came first) is dropped; one running goes to its end (a few milliseconds).
        unwanted = asyncio.Event()
        task = asyncio.ensure_future(
            self._analyse(state.position(), k, lambda: not unwanted.is_set())
        )
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            lines = await asyncio.shield(task)
        except asyncio.CancelledError:
            unwanted.set()
            raise
        legal = [line for line in lines if state.is_legal(line.move)]
        probs = softmax_probabilities([line.score_cp for line in legal], self.temperature_cp)
        return [Guess(line.move, p) for line, p in zip(legal, probs, strict=True)]
