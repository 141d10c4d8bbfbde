"""UCI engines (Stockfish or any other) below players and speculators, which both use them.

`find_stockfish` locates the binary, `EngineOptions` says how an engine searches (its ranges in
`ENGINE_OPTIONS`), `EnginePool` owns the processes: their start, deadlines and cleanup.
"""

from arena.engines.pool import (
    ENGINE_KEYS,
    ENGINE_OPTIONS,
    ENGINES_DIR,
    EngineOption,
    EngineOptions,
    EnginePool,
    TopMove,
    find_stockfish,
)

__all__ = [
    "ENGINES_DIR",
    "ENGINE_KEYS",
    "ENGINE_OPTIONS",
    "EngineOption",
    "EngineOptions",
    "EnginePool",
    "TopMove",
    "find_stockfish",
]
