"""The UCI engine pool: finding the binary, search options, and a pool of processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import chess.engine

from arena import config
from arena.core.errors import ArenaError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENGINES_DIR = PROJECT_ROOT / "engines"
DEBIAN_STOCKFISH = Path("/usr/games/stockfish")


def find_stockfish(explicit: str | None = None) -> str:
    """The Stockfish binary: explicit (profile), ARENA_STOCKFISH, engines/, PATH, /usr/games."""
    env = config.stockfish()
    if env and not (Path(env).is_file() and os.access(env, os.X_OK)):
        raise ArenaError(f"ARENA_STOCKFISH={env} is not an executable file: fix or unset it")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        found = shutil.which(explicit)
        if found:
            return found
        raise ArenaError(f"engine binary not found: {explicit}")
    candidates: list[str | None] = [env]
    candidates += [str(p) for p in sorted(ENGINES_DIR.glob("stockfish*")) if p.is_file()]
    candidates += [shutil.which("stockfish"), str(DEBIAN_STOCKFISH)]
    for cand in candidates:
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    raise ArenaError(
        "Stockfish not found: install it (apt-get install stockfish) "
        "or set ARENA_STOCKFISH=/path/to/stockfish"
    )


@dataclass(frozen=True)
class EngineOptions:
    """How a UCI engine searches. At least one limit applies; `movetime` is in seconds."""

    movetime: float | None = None
    depth: int | None = None
    nodes: int | None = None
    skill: int | None = None
    elo: int | None = None
    threads: int = 1
    hash_mb: int = 16
    keep_hash: bool = False
    binary: str | None = None

    def limit(self) -> chess.engine.Limit:
        if self.movetime is None and self.depth is None and self.nodes is None:
            return chess.engine.Limit(depth=8)
        return chess.engine.Limit(time=self.movetime, depth=self.depth, nodes=self.nodes)

    def uci_options(self) -> dict[str, str | int | bool]:
        opts: dict[str, str | int | bool] = {"Threads": self.threads, "Hash": self.hash_mb}
        if self.skill is not None:
            opts["Skill Level"] = self.skill
        if self.elo is not None:
            opts["UCI_LimitStrength"] = True
            opts["UCI_Elo"] = self.elo
        return opts


class EnginePool:
    """Up to `size` engine processes, started lazily, each used by one search at a time.

    A search that is cancelled makes python-chess send `stop`; the process then goes back to
    the pool.
    """

    def __init__(self, options: EngineOptions, size: int) -> None:
        self.options = options
        self.size = size
        self._idle: list[chess.engine.UciProtocol] = []
        self._all: list[chess.engine.UciProtocol] = []
        self._transports: list[asyncio.SubprocessTransport] = []
        self._slots = asyncio.Semaphore(size)
        self._binary: str | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Starts one process now, so a broken binary fails before the match begins."""
        self._binary = find_stockfish(self.options.binary)
        engine = await self._spawn()
        self._idle.append(engine)

    async def _spawn(self) -> chess.engine.UciProtocol:
        assert self._binary is not None
        try:
            transport, engine = await chess.engine.popen_uci(self._binary)
        except (OSError, chess.engine.EngineError) as exc:
            raise ArenaError(f"cannot start engine {self._binary}: {exc}") from None
        self._transports.append(transport)
        self._all.append(engine)
        try:
            await engine.configure(
                {k: v for k, v in self.options.uci_options().items() if k in engine.options}
            )
        except chess.engine.EngineError as exc:
            raise ArenaError(f"engine rejected options: {exc}") from None
        return engine

    @contextlib.asynccontextmanager
    async def engine(self) -> AsyncIterator[chess.engine.UciProtocol]:
        async with self._slots:
            async with self._lock:
                engine = self._idle.pop() if self._idle else await self._spawn()
            try:
                yield engine
            finally:
                if engine.returncode.done():
                    self._all.remove(engine)
                else:
                    self._idle.append(engine)

    async def close(self) -> None:
        for engine in self._all:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(engine.quit(), timeout=2)
        for transport in self._transports:
            with contextlib.suppress(Exception):
                transport.close()
        self._all.clear()
        self._idle.clear()
        self._transports.clear()

    @property
    def processes(self) -> int:
        return len(self._all)
