"""The UCI engine pool: finding the binary, search options with their ranges, and a pool of
processes with a handshake timeout and a deadline on every search."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import os
import shutil
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final, TypeVar

import chess
import chess.engine

from arena import config
from arena.core.errors import ArenaError, EngineError, EngineNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENGINES_DIR = PROJECT_ROOT / "engines"
DEBIAN_STOCKFISH = Path("/usr/games/stockfish")

T = TypeVar("T")

INIT_TIMEOUT_S: Final = 10.0
"""How long an engine may take to answer `uci` with `uciok` (option `init_timeout=`)."""
MOVETIME_GRACE_S: Final = 10.0
"""A movetime-limited search must answer within its movetime plus this."""
CLOSE_GRACE_S: Final = 5.0
"""How long closing shared processes waits for the searches running on them."""
BACKLOG_PER_PROCESS: Final = 2
"""A background search (speculation) is refused at once when this many per process already
wait: with many matches, a guess queued behind them arrives after its ply."""
BACKGROUND_NICENESS: Final = 19
"""CPU niceness added to speculator engines (`EnginePool(background=True)`)."""
SEARCH_TIMEOUT_S: Final = 300.0
"""The deadline of a depth- or node-limited search (option `move_timeout=`)."""


def find_stockfish(explicit: str | None = None) -> str:
    """The Stockfish binary: explicit (profile), ARENA_STOCKFISH, engines/, PATH, /usr/games."""
    env = config.stockfish()
    if env and not (Path(env).is_file() and os.access(env, os.X_OK)):
        raise ArenaError(f"ARENA_STOCKFISH={env} is not an executable file: fix or unset it")
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file():
            if os.access(path, os.X_OK):
                return str(path)
            raise EngineError(f"engine file {explicit} is not executable (chmod +x it)")
        if path.is_dir():
            raise EngineError(f"engine path {explicit} is a folder, not an engine binary")
        found = shutil.which(explicit)
        if found:
            return found
        raise EngineNotFoundError(f"engine binary not found: {explicit}")
    candidates: list[str | None] = [env]
    candidates += [str(p) for p in sorted(ENGINES_DIR.glob("stockfish*")) if p.is_file()]
    candidates += [shutil.which("stockfish"), str(DEBIAN_STOCKFISH)]
    for cand in candidates:
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    raise EngineNotFoundError(
        "Stockfish not found: install it (apt-get install stockfish) "
        "or set ARENA_STOCKFISH=/path/to/stockfish"
    )


def _max_threads() -> int:
    return 2 * (os.cpu_count() or 1)


def _max_hash_mb() -> int:
    """Half the machine's memory (Stockfish allocates the whole table at once)."""
    with contextlib.suppress(ValueError, OSError, AttributeError):
        return max(16, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**21)
    return 65536


@dataclass(frozen=True, kw_only=True)
class EngineOption:
    """One `key=value` of an engine spec: its range, unit and help line."""

    key: str
    """The spec key, e.g. `depth` in `stockfish:depth=6`."""
    kind: type[int] | type[float]
    """`int` or `float`: what the value must parse as."""
    low: float
    """Smallest allowed value."""
    high: Callable[[], float]
    """Largest allowed value (a function: some depend on the machine)."""
    low_exclusive: bool = False
    """True when `low` itself is refused (a timeout of 0)."""
    unit: str = ""
    """The unit, for messages: `ms`, `MB`, `s`."""
    why: str = ""
    """Where `high` comes from, when it depends on the machine."""
    help: str = ""
    """One line for the spec help."""


ENGINE_OPTIONS: Final[tuple[EngineOption, ...]] = (
    EngineOption(
        key="movetime", kind=int, low=1, high=lambda: 3_600_000, unit="ms",
        help="milliseconds per move, up to an hour",
    ),
    EngineOption(key="depth", kind=int, low=1, high=lambda: 100, help="plies of search, 1..100"),
    EngineOption(key="nodes", kind=int, low=1, high=lambda: 10**10, help="nodes per move"),
    EngineOption(key="skill", kind=int, low=0, high=lambda: 20, help="Stockfish Skill Level"),
    EngineOption(
        key="elo", kind=int, low=1320, high=lambda: 3190,
        help="UCI_Elo (Stockfish's range; older versions accept less)",
    ),
    EngineOption(
        key="threads", kind=int, low=1, high=_max_threads, why="twice this machine's cores",
        help="threads, up to twice the cores",
    ),
    EngineOption(
        key="hash", kind=int, low=1, high=_max_hash_mb, unit="MB", why="half this machine's memory",
        help="MB, up to half the memory",
    ),
    EngineOption(
        key="init_timeout", kind=float, low=0, high=lambda: 600, low_exclusive=True, unit="s",
        help=f"seconds to finish the UCI handshake (default {INIT_TIMEOUT_S:g})",
    ),
    EngineOption(
        key="move_timeout", kind=float, low=0, high=lambda: 86_400, low_exclusive=True, unit="s",
        help=(
            f"seconds a search may take before the engine is killed (default: movetime + "
            f"{MOVETIME_GRACE_S:g}, else {SEARCH_TIMEOUT_S:g})"
        ),
    ),
)  # fmt: skip
"""The numeric engine options and their ranges: both validation and help come from here."""

ENGINE_KEYS: Final = frozenset({o.key for o in ENGINE_OPTIONS} | {"keep_hash", "path"})
"""Every key an engine spec takes."""

_BY_KEY: Final = {o.key: o for o in ENGINE_OPTIONS}


def check_option(key: str, value: float) -> None:
    """Raises an `ArenaError` when `value` is outside `key`'s range (or not finite)."""
    opt = _BY_KEY[key]
    high = opt.high()
    low_ok = value > opt.low if opt.low_exclusive else value >= opt.low
    if not (math.isfinite(value) and low_ok and value <= high):
        unit = f" {opt.unit}" if opt.unit else ""
        why = f" ({opt.why})" if opt.why else ""
        if opt.low_exclusive:
            span = f"more than {_num(opt.low)} and at most {_num(high)}{unit}"
        else:
            span = f"{_num(opt.low)}..{_num(high)}{unit}"
        raise ArenaError(f"{key} must be {span}{why}, not {_num(value)}")


def _num(value: float) -> str:
    """A number for a message: whole numbers in full up to 10^12, others short."""
    if math.isfinite(value) and value == int(value) and abs(value) <= 10**12:
        return str(int(value))
    return f"{value:g}"


def _number(key: str, text: str) -> float:
    opt = _BY_KEY[key]
    try:
        value: float = opt.kind(text)
    except ValueError:
        noun = "an integer" if opt.kind is int else "a number"
        raise ArenaError(f"{key} must be {noun}, not {text!r}") from None
    check_option(key, value)
    return value


@dataclass(frozen=True, kw_only=True)
class EngineOptions:
    """How a UCI engine searches. At least one limit applies; `movetime` is in seconds.

    Values outside `ENGINE_OPTIONS`' ranges are refused when the options are made."""

    movetime: float | None = None
    """Seconds per move."""
    depth: int | None = None
    """Plies of search."""
    nodes: int | None = None
    """Nodes per move."""
    skill: int | None = None
    """Stockfish's Skill Level, 0..20."""
    elo: int | None = None
    """UCI_Elo with UCI_LimitStrength."""
    threads: int = 1
    """Threads per engine process."""
    hash_mb: int = 16
    """Hash table size in MB."""
    keep_hash: bool = False
    """Keep the hash between decisions (no new game per decision)."""
    binary: str | None = None
    """The engine binary; None finds Stockfish."""
    init_timeout: float = INIT_TIMEOUT_S
    """Seconds the UCI handshake may take."""
    move_timeout: float | None = None
    """Seconds a search may take; None derives it from the limit (`deadline_s`)."""

    def __post_init__(self) -> None:
        checks = {
            "movetime": None if self.movetime is None else self.movetime * 1000,
            "depth": self.depth,
            "nodes": self.nodes,
            "skill": self.skill,
            "elo": self.elo,
            "threads": self.threads,
            "hash": self.hash_mb,
            "init_timeout": self.init_timeout,
            "move_timeout": self.move_timeout,
        }
        for key, value in checks.items():
            if value is not None:
                check_option(key, value)

    @classmethod
    def from_strings(cls, values: Mapping[str, str], *, binary: str | None = None) -> EngineOptions:
        """Options from a spec's `key=value` strings; unknown keys and bad values are errors."""
        unknown = set(values) - ENGINE_KEYS
        if unknown:
            raise ArenaError(
                f"unknown option {sorted(unknown)[0]!r}; "
                f"engine options are {', '.join(sorted(ENGINE_KEYS))}"
            )
        nums = {k: _number(k, v) for k, v in values.items() if k in _BY_KEY}
        ints = {k: int(v) for k, v in nums.items() if _BY_KEY[k].kind is int}
        return cls(
            movetime=nums["movetime"] / 1000 if "movetime" in nums else None,
            depth=ints.get("depth"),
            nodes=ints.get("nodes"),
            skill=ints.get("skill"),
            elo=ints.get("elo"),
            threads=ints.get("threads", 1),
            hash_mb=ints.get("hash", 16),
            keep_hash=values.get("keep_hash", "0") not in ("0", "false", "no", ""),
            binary=binary,
            init_timeout=nums.get("init_timeout", INIT_TIMEOUT_S),
            move_timeout=nums.get("move_timeout"),
        )

    def replace(self, **changes: Any) -> EngineOptions:
        """A copy with `changes` (checked like the original)."""
        return EngineOptions(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})

    def limit(self) -> chess.engine.Limit:
        if self.movetime is None and self.depth is None and self.nodes is None:
            return chess.engine.Limit(depth=8)
        return chess.engine.Limit(time=self.movetime, depth=self.depth, nodes=self.nodes)

    def deadline_s(self) -> float:
        """How long one search may take before the engine counts as hung."""
        if self.move_timeout is not None:
            return self.move_timeout
        if self.movetime is not None:
            return self.movetime + MOVETIME_GRACE_S
        return SEARCH_TIMEOUT_S

    def uci_options(self) -> dict[str, str | int | bool]:
        opts: dict[str, str | int | bool] = {"Threads": self.threads, "Hash": self.hash_mb}
        if self.skill is not None:
            opts["Skill Level"] = self.skill
        if self.elo is not None:
            opts["UCI_LimitStrength"] = True
            opts["UCI_Elo"] = self.elo
        return opts


class _Slots:
    """A fair (first come, first served) count of searches allowed at once, whose capacity can
    grow while searches wait."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._in_use = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        if self._in_use < self.capacity and not self._waiters:
            self._in_use += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes to the longest waiter
                return
        self._in_use -= 1

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def grow(self, capacity: int) -> None:
        while self.capacity < capacity:
            self.capacity += 1
            if self._waiters:
                self._in_use += 1
                self.release()


def _cores() -> int:
    return os.cpu_count() or 1


class EngineProcesses:
    """Engine processes of one configuration (binary and UCI options), started lazily, each used
    by one search at a time, searches served in the order they asked.

    Shared by every pool of that configuration in the process (`EnginePool`), so 200 matches
    with the same speculator run as many processes as the cores (or one match's concurrency),
    not 200 times that.
    """

    def __init__(
        self, options: EngineOptions, capacity: int, binary: str | None = None, niceness: int = 0
    ) -> None:
        self.options = options
        self.niceness = niceness
        """Added to the processes' CPU niceness (background work: speculation)."""
        self._slots = _Slots(capacity)
        self._idle: list[chess.engine.UciProtocol] = []
        self._all: list[chess.engine.UciProtocol] = []
        self._transports: list[asyncio.SubprocessTransport] = []
        self._transport_of: dict[chess.engine.UciProtocol, asyncio.SubprocessTransport] = {}
        self._binary = binary
        self._lock = asyncio.Lock()
        self.users = 0
        """Pools using these processes; the last one to close quits them."""
        self.closed = False
        self._returned = asyncio.Event()

    @property
    def capacity(self) -> int:
        return self._slots.capacity

    @property
    def backlog(self) -> int:
        """Searches waiting for a process."""
        return self._slots.waiting

    def grow(self, capacity: int) -> None:
        self._slots.grow(capacity)

    async def start(self) -> None:
        """Starts one process now unless one runs, so a broken binary fails before the match."""
        self._binary = find_stockfish(self.options.binary)
        async with self._lock:
            if not self._all:
                self._idle.append(await self._spawn())

    def _command(self, binary: str) -> str | list[str]:
        """The binary, started through `nice` for background processes (every thread of the
        engine then runs at the lower priority, which `setpriority` on its pid would not do)."""
        nice = shutil.which("nice") if self.niceness else None
        return [nice, "-n", str(self.niceness), binary] if nice else binary

    async def _spawn(self) -> chess.engine.UciProtocol:
        if self._binary is None:
            self._binary = find_stockfish(self.options.binary)
        binary = self._binary
        timeout = self.options.init_timeout
        try:
            # On a timeout popen_uci closes (kills) the process it started.
            transport, engine = await asyncio.wait_for(
                chess.engine.popen_uci(self._command(binary)), timeout
            )
        except TimeoutError:
            raise EngineError(
                f"engine {self.describe()} did not finish the UCI handshake (uci/uciok) within "
                f"{timeout:g}s: is it a UCI engine? (option init_timeout=SECONDS)"
            ) from None
        except (OSError, chess.engine.EngineError) as exc:
            raise EngineError(f"cannot start engine {self.describe()}: {_reason(exc)}") from None
        self._transports.append(transport)
        self._transport_of[engine] = transport
        self._all.append(engine)
        try:
            await asyncio.wait_for(
                engine.configure(
                    {k: v for k, v in self.options.uci_options().items() if k in engine.options}
                ),
                timeout,
            )
        except (TimeoutError, chess.engine.EngineError) as exc:
            self.kill(engine)
            reason = _reason(exc)
            raise EngineError(f"engine {self.describe()} rejected options: {reason}") from None
        return engine

    @contextlib.asynccontextmanager
    async def engine(self) -> AsyncIterator[chess.engine.UciProtocol]:
        """An engine process for one search; it goes back to the pool afterwards.

        Once the processes are closed (their last pool closed), a search still waiting is
        dropped as if cancelled: nobody wants its answer, and it must not start a process.
        """
        await self._slots.acquire()
        try:
            if self.closed:
                raise asyncio.CancelledError
            async with self._lock:
                engine = self._idle.pop() if self._idle else await self._spawn()
            try:
                yield engine
            finally:
                if engine not in self._all:
                    pass  # killed while in use
                elif engine.returncode.done():
                    self._all.remove(engine)
                else:
                    self._idle.append(engine)
                self._returned.set()
        finally:
            self._slots.release()

    def describe(self) -> str:
        """The binary, and where it came from when the user did not name it in the spec."""
        if self.options.binary is None and self._binary == config.stockfish():
            return f"{self._binary} (ARENA_STOCKFISH)"
        return str(self._binary)

    def kill(self, engine: chess.engine.UciProtocol) -> None:
        if engine in self._all:
            self._all.remove(engine)
        if engine in self._idle:
            self._idle.remove(engine)
        transport = self._transport_of.pop(engine, None)
        if transport is not None:
            transport.close()  # kills the process if it still runs

    async def close(self) -> None:
        """Quits the processes once the searches running on them have ended (at most
        `CLOSE_GRACE_S`); searches still waiting for one are dropped."""
        self.closed = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_GRACE_S):
                while self._all and len(self._idle) < len(self._all):
                    self._returned.clear()
                    await self._returned.wait()

        async def quit_one(engine: chess.engine.UciProtocol) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(engine.quit(), timeout=2)

        await asyncio.gather(*(quit_one(e) for e in self._all))
        for transport in self._transports:
            with contextlib.suppress(Exception):
                transport.close()
        self._all.clear()
        self._idle.clear()
        self._transports.clear()
        self._transport_of.clear()

    @property
    def processes(self) -> int:
        return len(self._all)


_ProcessKey = tuple[str | None, tuple[tuple[str, str | int | bool], ...], float, int]

_SHARED: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[_ProcessKey, EngineProcesses]
] = weakref.WeakKeyDictionary()
"""Per event loop: the shared processes of each engine configuration."""


class EnginePool:
    """A player's or speculator's engine: its options (limit, deadline) over processes shared
    with every other pool of the same binary and UCI options in this process.

    `size` bounds this pool's searches at once; the shared processes number the most any of
    their pools asks for, or the cores, whichever is more. A pool that keeps its hash between
    decisions (`keep_hash`) gets processes of its own: a shared one would mix matches' hashes.

    A search that is cancelled makes python-chess send `stop`; the process then goes back to
    the pool. A search past its deadline, or an engine that breaks the protocol, kills that
    process and raises `EngineError`.
    """

    def __init__(
        self,
        options: EngineOptions,
        size: int,
        *,
        shared: bool | None = None,
        background: bool = False,
    ) -> None:
        self.options = options
        self.size = size
        self.background = background
        """Speculation: its processes run at a lower CPU priority (`BACKGROUND_NICENESS`), so
        that on a busy machine they yield to the decisions and writes that games wait for."""
        self.shared = (not options.keep_hash) if shared is None else shared
        self._slots = asyncio.Semaphore(size)
        self._procs: EngineProcesses | None = None

    def _attach(self) -> EngineProcesses:
        if self._procs is not None:
            return self._procs
        niceness = BACKGROUND_NICENESS if self.background else 0
        if not self.shared:
            procs = EngineProcesses(self.options, max(self.size, 1), niceness=niceness)
        else:
            binary = find_stockfish(self.options.binary)
            key: _ProcessKey = (
                binary,
                tuple(sorted(self.options.uci_options().items())),
                self.options.init_timeout,
                niceness,
            )
            table = _SHARED.setdefault(asyncio.get_running_loop(), {})
            procs = table.get(key) or table.setdefault(
                key, EngineProcesses(self.options, _cores(), binary, niceness)
            )
            procs.grow(self.size)
        procs.users += 1
        self._procs = procs
        return procs

    async def _detach(self) -> None:
        procs, self._procs = self._procs, None
        if procs is None:
            return
        procs.users -= 1
        if procs.users > 0:
            return
        table = _SHARED.get(asyncio.get_running_loop(), {})
        for key, value in list(table.items()):
            if value is procs:
                del table[key]
        await procs.close()

    async def start(self) -> None:
        """Starts one process now (unless a shared one runs), so a broken binary fails before
        the match begins."""
        procs = self._attach()
        try:
            await procs.start()
        except BaseException:
            await self._detach()
            raise

    @contextlib.asynccontextmanager
    async def engine(self) -> AsyncIterator[chess.engine.UciProtocol]:
        """An engine process for one search; it goes back to the pool afterwards."""
        async with self._engine() as (_procs, engine):
            yield engine

    @contextlib.asynccontextmanager
    async def _engine(
        self,
    ) -> AsyncIterator[tuple[EngineProcesses, chess.engine.UciProtocol]]:
        # The processes are taken once: the pool may be closed while this search waits.
        procs = self._attach() if self._procs is None else self._procs
        async with self._slots, procs.engine() as engine:
            yield procs, engine

    async def search(self, command: Callable[[chess.engine.UciProtocol], Awaitable[T]]) -> T:
        """Runs `command` on an engine within the search deadline (`EngineOptions.deadline_s`).

        A hung engine (past the deadline) or one that breaks the protocol is killed, and the
        search raises `EngineError`."""
        deadline = self.options.deadline_s()
        async with self._engine() as (procs, engine):
            try:
                async with asyncio.timeout(deadline):
                    return await command(engine)
            except TimeoutError:
                procs.kill(engine)
                raise EngineError(
                    f"engine {procs.describe()} gave no answer within {deadline:g}s and was "
                    "stopped (option move_timeout=SECONDS)"
                ) from None
            except chess.engine.EngineError as exc:
                procs.kill(engine)
                raise EngineError(f"engine {procs.describe()} failed: {_reason(exc)}") from None

    async def play(
        self, board: chess.Board, *, game: object, info: chess.engine.Info
    ) -> chess.engine.PlayResult:
        """The engine's move at `board` within the options' limit and deadline."""
        limit = self.options.limit()
        return await self.search(lambda e: e.play(board, limit, game=game, info=info))

    async def analyse(self, board: chess.Board, *, multipv: int) -> list[chess.engine.InfoDict]:
        """The `multipv` best lines at `board` as python-chess reports them (a new game each
        time), within the deadline: for a reader of scores and mates (the TUI's bar)."""
        limit = self.options.limit()
        return await self.search(lambda e: e.analyse(board, limit, multipv=multipv, game=object()))

    async def top_moves(
        self, fen: str, *, multipv: int, wanted: Callable[[], bool] | None = None
    ) -> list[TopMove]:
        """The first move and score of the `multipv` best lines at `fen` (a new game each
        time, no move history), within the deadline. `wanted` is asked once a process is free:
        a search no longer wanted by then (it waited behind others) is dropped, returning no
        lines, instead of taking the process.

        Unlike `analyse`, only each line's last report is parsed, once the search ends: with
        many matches speculating, parsing every report was most of the event loop's time."""
        limit = self.options.limit()
        procs = self._attach() if self._procs is None else self._procs
        if self.background and procs.backlog >= BACKLOG_PER_PROCESS * procs.capacity:
            # Behind that many, it would answer after it matters; waiting in line would also
            # cost the event loop a hand-over per search ahead of it.
            return []

        async def run(engine: chess.engine.UciProtocol) -> list[TopMove]:
            if wanted is not None and not wanted():
                return []
            return await engine.communicate(lambda e: _TopLines(e, fen, limit, multipv))

        return await self.search(run)

    async def close(self) -> None:
        """Gives up the processes; the last pool using them quits them."""
        await self._detach()

    @property
    def processes(self) -> int:
        """Processes running for this pool (shared ones included); 0 once it is closed."""
        return 0 if self._procs is None else self._procs.processes

    @property
    def _transports(self) -> list[asyncio.SubprocessTransport]:
        return [] if self._procs is None else self._procs._transports


MATE_CP: Final = 10000
"""A mate in n is scored MATE_CP - n (being mated in n, -(MATE_CP - n)), as python-chess does."""


@dataclass(frozen=True, slots=True)
class TopMove:
    """One MultiPV line's first move (UCI) and its score in centipawns for the side to move."""

    move: str
    score_cp: int


class _TopLines(chess.engine.BaseCommand[list[TopMove]]):
    """A MultiPV search that keeps each line's last `info` report as text and parses those
    only at `bestmove`. A search cancelled while the engine is getting ready never starts."""

    def __init__(
        self, engine: chess.engine.Protocol, fen: str, limit: chess.engine.Limit, multipv: int
    ) -> None:
        super().__init__(engine)
        assert isinstance(engine, chess.engine.UciProtocol)
        self.engine = engine
        self.fen = fen
        self.limit = limit
        self.multipv = multipv
        self.lines: dict[int, str] = {}
        self.getting_ready = False
        self.searching = False
        self.cancelled = False

    def start(self) -> None:
        engine = self.engine
        if "MultiPV" in engine.options:
            engine._setoption("MultiPV", self.multipv)
        if "UCI_Chess960" in engine.options:
            engine._setoption("UCI_Chess960", False)
        engine.game = object()  # the next python-chess search starts a new game too
        engine._ucinewgame()  # clears the hash: the same answer whatever ran before
        self.getting_ready = True
        engine._isready()

    def line_received(self, line: str) -> None:
        if line.startswith("info "):
            if self.searching and " pv " in line:
                at = line.find(" multipv ")
                number = 1
                if at >= 0:
                    digits = line[at + 9 :].split(" ", 1)[0]
                    number = int(digits) if digits.isdigit() else 1
                self.lines[number] = line
        elif line.startswith("bestmove"):
            if not self.searching:
                raise chess.engine.EngineError("was not searching, but engine sent bestmove")
            if not self.result.done():
                self.result.set_result(_top_moves(self.lines))
            self.set_finished()
        elif line.strip() == "readyok" and self.getting_ready:
            self.getting_ready = False
            if self.cancelled:
                self.set_finished()
                return
            self.engine.send_line(f"position fen {self.fen}")
            self.engine._go(self.limit)
            self.searching = True

    def cancel(self) -> None:
        if self.searching:
            self.engine.send_line("stop")
        else:
            self.cancelled = True


def _top_moves(lines: Mapping[int, str]) -> list[TopMove]:
    """The lines' first moves and scores, by MultiPV number; a line without either is left out."""
    out = []
    for number in sorted(lines):
        tokens = lines[number].split()
        try:
            at = tokens.index("score")
            kind, value = tokens[at + 1], int(tokens[at + 2])
            move = tokens[tokens.index("pv") + 1]
        except (ValueError, IndexError):
            continue
        if kind == "cp":
            score = value
        elif kind == "mate":
            score = MATE_CP - value if value > 0 else -MATE_CP - value
        else:
            continue
        out.append(TopMove(move, score))
    return out


def _reason(exc: BaseException) -> str:
    """An exception as a short one-line reason."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
