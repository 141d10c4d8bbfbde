"""UCI engines (Stockfish or any other) below players and speculators, which both use them.

`find_stockfish` locates the binary, `EngineOptions` says how an engine searches, `EnginePool`
owns the processes: their start, deadlines and cleanup.
"""

from arena.engines.pool import ENGINES_DIR, EngineOptions, EnginePool, find_stockfish

__all__ = ["ENGINES_DIR", "EngineOptions", "EnginePool", "find_stockfish"]
