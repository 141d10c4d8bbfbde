"""A UCI engine as a player."""

from __future__ import annotations

import chess
import chess.engine

from arena.core.actor import Actor, Decision
from arena.core.game import GameState
from arena.engines import EngineOptions, EnginePool
from arena.games.chess import ChessState


class EnginePlayer(Actor):
    """Plays the engine's best move. Unless `keep_hash`, each decision starts from a clear
    hash (a new game for the engine), so a node- or depth-limited search depends only on the
    position and is deterministic."""

    def __init__(self, options: EngineOptions, spec: str, concurrency: int = 4) -> None:
        self.options = options
        self.spec = spec
        self.name = spec
        self.concurrency = concurrency
        self.pool = EnginePool(options, concurrency)
        self.cpu_bound = options.movetime is None

    async def start(self) -> None:
        await self.pool.start()

    async def close(self) -> None:
        await self.pool.close()

    async def decide(self, state: GameState) -> Decision:
        assert isinstance(state, ChessState)
        board = state.board
        game: object = "keep" if self.options.keep_hash else object()
        result = await self.pool.play(board, game=game, info=chess.engine.INFO_SCORE)
        if result.move is None:
            return Decision(move=None, raw="(none)")
        info = {}
        score = result.info.get("score")
        if score is not None:
            info["score_cp"] = score.white().score(mate_score=100000)
        return Decision(move=result.move.uci(), raw=result.move.uci(), info=info)
