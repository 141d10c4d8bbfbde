"""The replay store: one aiosqlite connection, WAL, migrations tracked by `PRAGMA user_version`.

A ply's columns, its INSERT and its reads follow from `PlyRecord`'s fields (see `PLY_COLUMNS`);
the migrations below are the frozen history of that schema, and a test checks they agree.

One process writes a match at a time: it holds the match's *lease* (pid, host, a token and a
heartbeat). A lease whose process is gone (dead pid, or no heartbeat for `LEASE_STALE_S`) is
taken over; every ply write checks the token in its transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import math
import os
import secrets
import socket
import sqlite3
import time
import types
import typing
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import aiosqlite

from arena.core.actor import Attempt, Guess, Usage
from arena.core.errors import StoreError as StoreError  # re-exported: arena.store.StoreError
from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    BranchStatus,
    Event,
    MoveCommitted,
)
from arena.core.ledger import MatchStats, PlyRecord

log = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the initial schema.
    (
        """
        CREATE TABLE matches (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            game TEXT NOT NULL DEFAULT 'chess',
            white_spec TEXT NOT NULL,
            black_spec TEXT NOT NULL,
            white_speculator TEXT,
            black_speculator TEXT,
            start_fen TEXT NOT NULL,
            max_plies INTEGER,
            seed INTEGER,
            policy_json TEXT NOT NULL DEFAULT '{}',
            result TEXT,
            termination TEXT,
            stats_json TEXT,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'finished', 'stopped'))
        )
        """,
        "CREATE INDEX matches_created ON matches (created_at)",
        """
        CREATE TABLE plies (
            match_id TEXT NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
            ply INTEGER NOT NULL,
            side INTEGER NOT NULL,
            uci TEXT NOT NULL,
            san TEXT NOT NULL,
            fen_after TEXT NOT NULL,
            decision_s REAL NOT NULL,
            wait_s REAL NOT NULL,
            saved_s REAL NOT NULL,
            hit INTEGER NOT NULL,
            rank INTEGER,
            branches_started INTEGER NOT NULL DEFAULT 0,
            branches_cancelled INTEGER NOT NULL DEFAULT 0,
            commit_latency_s REAL,
            usage_json TEXT NOT NULL,
            wasted_usage_json TEXT NOT NULL,
            flagged TEXT,
            raw TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (match_id, ply)
        )
        """,
        """
        CREATE TABLE predictions (
            match_id TEXT NOT NULL,
            ply INTEGER NOT NULL,
            side INTEGER NOT NULL,
            rank INTEGER NOT NULL,
            move TEXT NOT NULL,
            probability REAL NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('hit', 'miss')),
            PRIMARY KEY (match_id, ply, rank),
            FOREIGN KEY (match_id, ply) REFERENCES plies (match_id, ply) ON DELETE CASCADE
        )
        """,
        """
        CREATE TABLE attempts (
            match_id TEXT NOT NULL,
            ply INTEGER NOT NULL,
            side INTEGER NOT NULL,
            n INTEGER NOT NULL,
            raw TEXT NOT NULL,
            parsed TEXT,
            error TEXT NOT NULL,
            PRIMARY KEY (match_id, ply, n),
            FOREIGN KEY (match_id, ply) REFERENCES plies (match_id, ply) ON DELETE CASCADE
        )
        """,
        # Branch ids restart at 1 when a match resumes, so rows get their own key and updates
        # go to the newest row of a (match_id, branch_id).
        """
        CREATE TABLE branches (
            id INTEGER PRIMARY KEY,
            match_id TEXT NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
            branch_id INTEGER NOT NULL,
            ply INTEGER NOT NULL,
            side INTEGER NOT NULL,
            path TEXT NOT NULL DEFAULT '',
            guess TEXT NOT NULL,
            probability REAL NOT NULL,
            rank INTEGER NOT NULL,
            depth INTEGER NOT NULL,
            started_t REAL NOT NULL,
            ended_t REAL,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'finished', 'cancelled', 'adopted')),
            move TEXT,
            usage_json TEXT,
            error TEXT
        )
        """,
        "CREATE INDEX branches_match ON branches (match_id, branch_id)",
        """
        CREATE TABLE events (
            match_id TEXT NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            t REAL NOT NULL,
            kind TEXT NOT NULL,
            json TEXT NOT NULL,
            PRIMARY KEY (match_id, seq)
        )
        """,
    ),
    # 2: a ply's columns follow PlyRecord (move, wall_s, speculated, by_person, branches_wasted,
    # speculator usage); match leases. Old plies: their wait was their wall time.
    (
        "ALTER TABLE plies RENAME COLUMN uci TO move",
        "ALTER TABLE plies ADD COLUMN wall_s REAL NOT NULL DEFAULT 0",
        "UPDATE plies SET wall_s = wait_s",
        "ALTER TABLE plies ADD COLUMN speculated INTEGER NOT NULL DEFAULT 0",
        """
        UPDATE plies SET speculated = (rank IS NOT NULL OR EXISTS (
            SELECT 1 FROM predictions p WHERE p.match_id = plies.match_id AND p.ply = plies.ply))
        """,
        "ALTER TABLE plies ADD COLUMN by_person INTEGER NOT NULL DEFAULT 0",
        """
        UPDATE plies SET by_person = 1 WHERE EXISTS (
            SELECT 1 FROM matches m WHERE m.id = plies.match_id
            AND CASE plies.side WHEN 0 THEN m.white_spec ELSE m.black_spec END = 'human')
        """,
        "ALTER TABLE plies ADD COLUMN branches_wasted INTEGER NOT NULL DEFAULT 0",
        "UPDATE plies SET branches_wasted = branches_cancelled",
        "ALTER TABLE plies ADD COLUMN speculator_usage_json TEXT NOT NULL DEFAULT '{}'",
        # No foreign key: a new match's lease is taken before its row is written.
        """
        CREATE TABLE leases (
            match_id TEXT PRIMARY KEY,
            token TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            acquired_at TEXT NOT NULL,
            heartbeat REAL NOT NULL
        )
        """,
        # A process killed mid-match left its branches running; nothing runs them now.
        "UPDATE branches SET status = 'cancelled' WHERE status = 'running'",
    ),
    # 3: tournaments and their schedules (arena/store/tournaments.py); games are matches.
    (
        """
        CREATE TABLE tournaments (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            format TEXT NOT NULL,
            config_json TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'finished', 'stopped')),
            stopped_by TEXT
        )
        """,
        """
        CREATE TABLE tournament_games (
            tournament_id TEXT NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
            n INTEGER NOT NULL,
            round INTEGER NOT NULL,
            pair INTEGER NOT NULL,
            white TEXT NOT NULL,
            black TEXT,
            opening INTEGER,
            match_id TEXT UNIQUE,
            state TEXT NOT NULL DEFAULT 'scheduled'
                CHECK (state IN ('scheduled', 'skipped', 'bye')),
            note TEXT,
            PRIMARY KEY (tournament_id, n)
        )
        """,
    ),
)
"""Ordered schema steps; step i (1-based) is applied when `user_version` < i. Append only."""

SCHEMA_VERSION = len(MIGRATIONS)

EVENTS_DELAY_S: Final = 0.05
"""How long a lazy event write waits for a ply's pass to ride along with."""

LEASE_HEARTBEAT_S: Final = 15.0
"""How often a process renews the leases it holds."""
LEASE_STALE_S: Final = 120.0
"""A lease not renewed for this long belongs to a process that is gone (or stuck)."""


class MatchBusyError(StoreError):
    """Another live process is playing (writing) this match."""


class LeaseLostError(StoreError):
    """This process's lease on a match was taken over; it must stop writing the match."""


class MatchStatus(StrEnum):
    """A match as listed. `interrupted` is computed on read: `running`, but nobody plays it."""

    RUNNING = "running"
    """Being played by a live process."""
    FINISHED = "finished"
    """Decided, or stopped at its ply limit."""
    STOPPED = "stopped"
    """Aborted or failed; `arena resume` continues it."""
    INTERRUPTED = "interrupted"
    """Its process died mid-match (kill -9, crash, power loss); `arena resume` continues it."""


def new_match_id() -> str:
    """A short unique match id (12 hex chars)."""
    return secrets.token_hex(6)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _finite(value: Any) -> Any:
    """`value` with every non-finite float (NaN, ±inf) replaced by None: strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_finite(value), allow_nan=False, default=str)


def _loads(text: str | None) -> Any:
    """Stored JSON, or None when it is missing or unreadable."""
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


@functools.lru_cache(maxsize=4096)
def _usage_json(usage: Usage) -> str:
    # Cached: most plies repeat a few usages (none at all for engines and random players).
    return _dumps(usage.as_dict())


def _usage(text: str | None) -> Usage:
    return Usage.from_dict(_loads(text))


# -- a ply's columns, from PlyRecord ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlyColumn:
    """How one `PlyRecord` field is stored in the `plies` table."""

    field: str
    """The `PlyRecord` field."""
    name: str
    """The column."""
    sql_type: str
    """`INTEGER`, `REAL` or `TEXT`."""
    not_null: bool
    to_db: Callable[[Any], Any]
    from_db: Callable[[Any], Any]


PLY_CHILD_TABLES: Final = {"guesses": "predictions", "attempts": "attempts"}
"""`PlyRecord` fields stored as rows of their own table, not as columns."""


def _identity(value: Any) -> Any:
    return value


def _ply_column(name: str, hint: Any) -> PlyColumn:
    args = typing.get_args(hint)
    optional = typing.get_origin(hint) in (types.UnionType, typing.Union) and type(None) in args
    base = next(a for a in args if a is not type(None)) if optional else hint
    if base is Usage:
        return PlyColumn(
            field=name,
            name=f"{name}_json",
            sql_type="TEXT",
            not_null=True,
            to_db=_usage_json,
            from_db=_usage,
        )
    types_ = {bool: "INTEGER", int: "INTEGER", float: "REAL", str: "TEXT"}
    if base not in types_:
        raise TypeError(f"PlyRecord.{name}: no column type for {hint!r}")
    is_bool = base is bool
    return PlyColumn(
        field=name,
        name=name,
        sql_type=types_[base],
        not_null=not optional,
        to_db=(lambda v: None if v is None else int(v)) if is_bool else _identity,
        from_db=(lambda v: None if v is None else bool(v)) if is_bool else _identity,
    )


def _ply_columns() -> tuple[PlyColumn, ...]:
    hints = typing.get_type_hints(PlyRecord)
    return tuple(
        _ply_column(f.name, hints[f.name])
        for f in dataclasses.fields(PlyRecord)
        if f.name not in PLY_CHILD_TABLES
    )


PLY_COLUMNS: Final = _ply_columns()
"""The `plies` table's columns besides `match_id`, one per `PlyRecord` field."""

# Inserts of many rows: `{}` stands for their groups of values (`_in_chunks`).
_PLY_INSERT_MANY: Final = (
    f"INSERT INTO plies (match_id, {', '.join(c.name for c in PLY_COLUMNS)}) VALUES {{}}"
)
_PREDICTIONS_INSERT_MANY: Final = (
    "INSERT INTO predictions (match_id, ply, side, rank, move, probability, outcome) VALUES {}"
)
_ATTEMPTS_INSERT_MANY: Final = (
    "INSERT INTO attempts (match_id, ply, side, n, raw, parsed, error) VALUES {}"
)


def _ply_values(match_id: str, record: PlyRecord) -> tuple[Any, ...]:
    return (match_id, *(c.to_db(getattr(record, c.field)) for c in PLY_COLUMNS))


def _ply_record(
    row: sqlite3.Row, guesses: Sequence[Guess], attempts: Sequence[Attempt]
) -> PlyRecord:
    values = {c.field: c.from_db(row[c.name]) for c in PLY_COLUMNS}
    return PlyRecord(**values, guesses=tuple(guesses), attempts=tuple(attempts))


PlyRow = PlyRecord
"""Plies read back from the store are the runner's own records (kept as a name for callers)."""


# -- rows --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MatchRow:
    """One match as listed and replayed."""

    id: str
    created_at: str
    updated_at: str
    game: str
    white_spec: str
    black_spec: str
    white_speculator: str | None
    black_speculator: str | None
    start_fen: str
    max_plies: int | None
    seed: int | None
    policy: dict[str, Any]
    result: str | None
    termination: str | None
    stats: MatchStats | None
    """The match's accounting once a session of it ended; None before, or when unreadable."""
    stats_unreadable: bool = False
    """The stored stats could not be read (a damaged row); `stats` is None."""
    status: MatchStatus
    """As stored, except that a `running` match nobody plays reads as `interrupted`."""
    plies: int
    lease_pid: int | None = None
    """The process playing the match right now, if any."""

    @property
    def policy_json(self) -> str:
        return _dumps(self.policy)

    @property
    def saved_pct(self) -> float | None:
        return None if self.stats is None else self.stats.saved_pct

    @property
    def cost_usd(self) -> float | None:
        return None if self.stats is None else self.stats.cost_usd

    @property
    def resumable(self) -> bool:
        return self.status in (MatchStatus.INTERRUPTED, MatchStatus.STOPPED)

    @property
    def resume_command(self) -> str | None:
        """The command that continues the match, when it can be continued."""
        return f"arena resume {self.id}" if self.resumable else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (strict: finite numbers only), for `--json` listings and exports."""
        # Built field by field, not by `dataclasses.asdict` or a deep walk: a listing of 5000
        # matches spends its time here. Stats are finite by `MatchStats.as_dict`; only the
        # policy (stored JSON, perhaps a foreign file's) is checked.
        out: dict[str, Any] = {"match_id": self.id}
        for name in _MATCH_ROW_FIELDS:
            out[name] = getattr(self, name)
        out["policy"] = _finite(self.policy)
        out["stats"] = None if self.stats is None else self.stats.as_dict()
        out["status"] = str(self.status)
        out["saved_pct"] = _finite(self.saved_pct)
        out["cost_usd"] = _finite(self.cost_usd)
        out["resume"] = self.resume_command
        return out


_MATCH_ROW_FIELDS: Final = tuple(f.name for f in dataclasses.fields(MatchRow))


@dataclass(frozen=True)
class PredictionRow:
    """A guess made at `ply` by `side`'s speculator (the waiting side) for the mover's move."""

    match_id: str
    ply: int
    side: int
    rank: int
    move: str
    probability: float
    outcome: str


@dataclass(frozen=True)
class AttemptRow:
    match_id: str
    ply: int
    side: int
    n: int
    raw: str
    parsed: str | None
    error: str


@dataclass(frozen=True)
class BranchRow:
    match_id: str
    branch_id: int
    ply: int
    side: int
    path: tuple[str, ...]
    guess: str
    probability: float
    rank: int
    depth: int
    started_t: float
    ended_t: float | None
    status: BranchStatus
    move: str | None
    usage: Usage | None
    error: str | None


@dataclass(frozen=True)
class EventRow:
    match_id: str
    seq: int
    t: float
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Lease:
    """The right to write one match, held by one process."""

    match_id: str
    token: str
    pid: int
    host: str


_EVENT_FIELDS_NOT_STORED: Final = frozenset({"history"})
"""`MatchStarted.history`: the plies of earlier sessions, which are rows already."""


_PRIMITIVES: Final = (str, int, type(None))  # bool is an int


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return names


def _plain(value: Any) -> Any:
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict) and not isinstance(value, type):
        return _plain(as_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def event_json(event: Event) -> str:
    """An event as strict JSON (records and stats as their `as_dict`, tuples as lists).

    What the plies table holds already is not repeated, so an event costs the same at ply 500 as
    at ply 5: a `MoveCommitted` keeps its ply, side and move (the record is the ply's row), and a
    `BranchStarted` keeps the last `depth` moves of its path (the ones before are the game's).
    """
    if isinstance(event, MoveCommitted):
        record = event.record
        data: dict[str, Any] = {
            "match_id": event.match_id,
            "t": _plain(event.t),
            "ply": record.ply,
            "side": record.side,
            "move": record.move,
        }
    else:
        data = {
            name: _plain(getattr(event, name))
            for name in _field_names(type(event))
            if name not in _EVENT_FIELDS_NOT_STORED
        }
        if isinstance(event, BranchStarted):
            data["path"] = list(_branch_tail(event.path, event.depth))
    return json.dumps(data, allow_nan=False, default=str)


def _branch_tail(path: Sequence[str], depth: int) -> tuple[str, ...]:
    """The moves of a branch's path past the game's committed ones (its guesses)."""
    return tuple(path[-depth:]) if depth > 0 else tuple(path)


def _branch_path(stored: str, ply: int, depth: int, moves: Sequence[str]) -> tuple[str, ...]:
    """A branch's whole path from its stored tail (or, in rows before the tail, the whole)."""
    tail = tuple(stored.split())
    if len(tail) >= ply or len(tail) != depth:
        return tail
    return (*moves[: ply - depth], *tail)


# -- leases ------------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    # A killed child its parent has not reaped yet is a zombie: gone for our purposes.
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2] not in "ZX"
    return True


def _lease_live(pid: int, host: str, heartbeat: float, now: float | None = None) -> bool:
    """Whether the process that holds a lease is still there (renewing it)."""
    age = (time.time() if now is None else now) - heartbeat
    if age > LEASE_STALE_S:
        return False
    return host != socket.gethostname() or _pid_alive(pid)


class _Keep:
    """`finish_match(max_plies=...)` left out: the stored limit stays."""


KEEP: Final = _Keep()


def _busy(match_id: str, pid: int, host: str) -> str:
    where = "" if host == socket.gethostname() else f" on {host}"
    return f"match {match_id} is being played by process {pid}{where}; stop it first, or wait"


class Store:
    """The replay database. Open with `await Store.open(path)`; one connection per process."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path
        self._closed = False
        # One connection serves every match in the process, so write transactions take turns.
        self._write_lock = asyncio.Lock()
        self._leases: dict[str, Lease] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        # The group-commit writer: plies and events of every match, one transaction per pass.
        self._pending: list[_Write] = []
        self._urgent = False
        """A queued write waits for its commit (lazy events alone wait for a ply or a timer)."""
        self._passing = False
        self._pass_idle = asyncio.Event()
        self._pass_idle.set()
        self._lazy_timer: asyncio.TimerHandle | None = None
        self.passes = 0
        """Write transactions the group-commit writer has committed (for benchmarks)."""
        self._marks: list[tuple[int, asyncio.Future[None]]] = []
        """`written()` waiters: the pass number each waits for."""

    # -- lifecycle --------------------------------------------------------------------------

    new_match_id = staticmethod(new_match_id)

    @classmethod
    async def open(cls, path: str | Path, *, create: bool = True) -> Store:
        """Opens the database at `path` and brings its schema up to date.

        With `create=False` (commands that only read) a missing file is an error rather than a
        new, empty database.
        """
        if not create and not await asyncio.to_thread(_exists, path):
            raise StoreError(
                f"no replay database at {path}; check --db or ARENA_DB (play a match to create one)"
            )
        try:
            where = await asyncio.to_thread(_prepare, path)
            conn = await aiosqlite.connect(where, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise _open_error(path, exc) from None
        conn.row_factory = sqlite3.Row
        store = cls(conn, where)
        try:
            await store._setup()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await conn.close()
            if isinstance(exc, sqlite3.Error | OSError):
                raise _open_error(path, exc) from None
            raise
        return store

    async def _setup(self) -> None:
        db = self._conn
        await db.execute("PRAGMA busy_timeout = 5000")
        # Before anything that writes: WAL mode or our tables must never land in a foreign file.
        await self._check_ours()
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA journal_mode = WAL")
        # FULL syncs the WAL at every commit: a committed ply survives an OS crash too.
        await db.execute("PRAGMA synchronous = FULL")
        await self._migrate()

    async def _check_ours(self) -> None:
        version = await self.user_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"replay database {self.path} has schema version {version}, newer than this "
                f"arena ({SCHEMA_VERSION}); upgrade arena or use another database"
            )
        if version == 0:
            rows = await self._rows(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            if rows:
                names = ", ".join(str(r[0]) for r in rows[:4]) + (", ..." if len(rows) > 4 else "")
                raise StoreError(
                    f"{self.path} is not an arena replay database (it has other tables: {names});"
                    " use another --db"
                )

    async def _migrate(self) -> None:
        db = self._conn
        if await self.user_version() >= SCHEMA_VERSION:
            return
        # IMMEDIATE takes the write lock first, so two processes never apply the same step.
        await db.execute("BEGIN IMMEDIATE")
        try:
            current = await self.user_version()
            for version, step in enumerate(MIGRATIONS[current:], current + 1):
                for statement in step:
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {version:d}")
            await db.execute("COMMIT")
        except BaseException:
            await db.rollback()
            raise

    async def user_version(self) -> int:
        return int(await self._scalar("PRAGMA user_version"))

    async def close(self) -> None:
        """Closes the connection once the write in progress (if any) has committed."""
        if self._closed:
            return
        interrupted = False
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.wait({self._heartbeat})
            self._heartbeat = None
        # Waiting for the writer and the lock means every ply submitted and the end-of-match row
        # land whole; a second ctrl-c or SIGTERM meanwhile still closes the connection (then
        # re-raises).
        try:
            async with asyncio.timeout(10):
                await self._drain_writes()
                await self._write_lock.acquire()
                while self._passing:
                    await self._pass_idle.wait()
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            interrupted = True
        self._closed = True
        self._stop_writer()
        closing = asyncio.ensure_future(self._conn.close())
        while not closing.done():
            try:
                await asyncio.shield(closing)
            except asyncio.CancelledError:
                interrupted = True
        if interrupted:
            raise asyncio.CancelledError

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- helpers ----------------------------------------------------------------------------

    async def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return None if row is None else row[0]

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._closed:
            raise StoreError(f"replay database {self.path} is closed")
        try:
            async with self._write_lock:
                # The writer's pass in flight is a transaction too: it ends first.
                while self._passing:
                    await self._pass_idle.wait()
                if self._closed:
                    raise StoreError(f"replay database {self.path} is closed")
                db = self._conn
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    # The connection may be gone already; the original error is the one to
                    # report.
                    with contextlib.suppress(Exception):
                        await db.rollback()
                    raise
                await db.execute("COMMIT")
        finally:
            if not self._closed:
                self._dispatch()  # writes queued meanwhile

    # -- leases -----------------------------------------------------------------------------

    async def acquire_lease(self, match_id: str) -> Lease:
        """Makes this process the match's one writer.

        Raises `MatchBusyError` while another live process holds the lease; a lease whose process
        is gone is taken over, and the branches it left `running` are marked `cancelled`.
        """
        held = self._leases.get(match_id)
        if held is not None:
            return held
        lease = Lease(
            match_id=match_id,
            token=secrets.token_hex(8),
            pid=os.getpid(),
            host=socket.gethostname(),
        )
        async with self._transaction() as db:
            async with db.execute(
                "SELECT pid, host, heartbeat FROM leases WHERE match_id = ?", (match_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is not None and _lease_live(row["pid"], row["host"], row["heartbeat"]):
                raise MatchBusyError(_busy(match_id, row["pid"], row["host"]))
            await db.execute(
                "INSERT OR REPLACE INTO leases (match_id, token, pid, host, acquired_at, heartbeat)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (match_id, lease.token, lease.pid, lease.host, _now(), time.time()),
            )
            # Nothing of this match runs now: what a dead process left running never finishes.
            await db.execute(
                "UPDATE branches SET status = ? WHERE match_id = ? AND status = ?",
                (BranchStatus.CANCELLED, match_id, BranchStatus.RUNNING),
            )
        self._leases[match_id] = lease
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(
                self._renew_leases(), name="arena-store-leases"
            )
        return lease

    async def release_lease(self, match_id: str) -> None:
        """Gives up this process's lease on a match (a no-op if it holds none)."""
        lease = self._leases.pop(match_id, None)
        if lease is None or self._closed:
            return
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM leases WHERE match_id = ? AND token = ?", (match_id, lease.token)
            )

    def holds_lease(self, match_id: str) -> bool:
        return match_id in self._leases

    async def _renew_leases(self) -> None:
        while self._leases and not self._closed:
            await asyncio.sleep(LEASE_HEARTBEAT_S)
            try:
                async with self._transaction() as db:
                    for lease in list(self._leases.values()):
                        await db.execute(
                            "UPDATE leases SET heartbeat = ? WHERE match_id = ? AND token = ?",
                            (time.time(), lease.match_id, lease.token),
                        )
            except Exception as exc:
                log.warning("could not renew match leases: %s: %s", type(exc).__name__, exc)

    async def _check_lease(self, db: aiosqlite.Connection, match_id: str) -> None:
        """Inside a write transaction: refuses to write a match another process plays."""
        async with db.execute(
            "SELECT token, pid, host, heartbeat FROM leases WHERE match_id = ?", (match_id,)
        ) as cur:
            row = await cur.fetchone()
        held = self._leases.get(match_id)
        if held is not None:
            if row is None or row["token"] != held.token:
                self._leases.pop(match_id, None)
                who = "" if row is None else f" by process {row['pid']} on {row['host']}"
                raise LeaseLostError(
                    f"match {match_id} was taken over{who}; this process stopped writing it"
                )
            await db.execute(
                "UPDATE leases SET heartbeat = ? WHERE match_id = ? AND token = ?",
                (time.time(), match_id, held.token),
            )
        elif row is not None and _lease_live(row["pid"], row["host"], row["heartbeat"]):
            raise MatchBusyError(_busy(match_id, row["pid"], row["host"]))

    # -- writes -----------------------------------------------------------------------------

    async def create_match(
        self,
        match_id: str,
        white_spec: str,
        black_spec: str,
        white_speculator: str | None,
        black_speculator: str | None,
        start_fen: str,
        max_plies: int | None,
        seed: int | None,
        policy: Mapping[str, Any],
        *,
        game: str = "chess",
    ) -> None:
        """Adds a match in status `running`. Never pass anything secret: it is stored as is."""
        now = _now()
        try:
            async with self._transaction() as db:
                await db.execute(
                    "INSERT INTO matches (id, created_at, updated_at, game, white_spec, black_spec,"
                    " white_speculator, black_speculator, start_fen, max_plies, seed, policy_json,"
                    " status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')",
                    (
                        match_id,
                        now,
                        now,
                        game,
                        white_spec,
                        black_spec,
                        white_speculator,
                        black_speculator,
                        start_fen,
                        max_plies,
                        seed,
                        _dumps(dict(policy)),
                    ),
                )
        except sqlite3.IntegrityError:
            raise StoreError(f"match {match_id} already exists in {self.path}") from None

    async def mark_running(self, match_id: str) -> None:
        """Marks a match as running again (a start or a resume)."""
        # Through the writer: 200 matches starting at once share a commit, not 200 in a row.
        held = self._leases.get(match_id)
        path = self.path

        def mark(db: sqlite3.Connection) -> None:
            _check_lease_in(db, match_id, held)
            cur = db.execute(
                "UPDATE matches SET status = 'running', updated_at = ? WHERE id = ?",
                (_now(), match_id),
            )
            if cur.rowcount == 0:
                raise StoreError(f"match {match_id} is not in {path}; create it first")

        await self._submit_checked(match_id, held, mark)

    async def add_ply(self, match_id: str, record: PlyRecord) -> None:
        """Writes one committed ply with its predictions and attempts; returns once it is on
        disk. Plies (and events) of every match in flight share one transaction per pass of the
        writer, and each ply still checks the match's lease in that transaction.

        Raises `LeaseLostError` when another process took the match over, `MatchBusyError` when
        this process holds no lease and a live one does.
        """
        held = self._leases.get(match_id)
        rows = _ply_rows(match_id, record)
        await self._submit_checked(match_id, held, None, ply=(rows, held))

    async def _submit_checked(
        self,
        match_id: str,
        held: Lease | None,
        apply: Callable[[sqlite3.Connection], None] | None,
        ply: tuple[_PlyRows, Lease | None] | None = None,
    ) -> None:
        """`_submit` for a write of one match; a lease found taken over is given up here."""
        try:
            await self._submit(apply, ply)
        except LeaseLostError:
            if self._leases.get(match_id) is held:
                self._leases.pop(match_id, None)
            raise

    async def finish_match(
        self,
        match_id: str,
        result: str,
        termination: str,
        stats: MatchStats,
        *,
        max_plies: int | _Keep | None = KEEP,
        status: str | None = None,
    ) -> None:
        """Records how a session of a match ended, and gives up this process's lease.

        `stats` covers the whole match (earlier sessions included). `max_plies` is the limit the
        session ran under (a resume may raise it); left out, the stored one stays. `status`
        defaults to `finished` for a decided game or a reached ply limit, else `stopped`
        (aborted or failed: a match that can be resumed).
        """
        if status is None:
            done = result != "*" or termination == "max plies"
            status = MatchStatus.FINISHED if done else MatchStatus.STOPPED
        sets = "result = ?, termination = ?, stats_json = ?, status = ?, updated_at = ?"
        params: list[Any] = [result, termination, _dumps(stats.as_dict()), str(status), _now()]
        if not isinstance(max_plies, _Keep):
            sets += ", max_plies = ?"
            params.append(max_plies)
        held = self._leases.get(match_id)
        path = self.path

        def finish(db: sqlite3.Connection) -> None:
            _check_lease_in(db, match_id, held)
            cur = db.execute(f"UPDATE matches SET {sets} WHERE id = ?", (*params, match_id))
            if cur.rowcount == 0:
                raise StoreError(f"match {match_id} is not in {path}")
            if held is not None:
                db.execute(
                    "DELETE FROM leases WHERE match_id = ? AND token = ?", (match_id, held.token)
                )

        await self._submit_checked(match_id, held, finish)
        if self._leases.get(match_id) is held:
            self._leases.pop(match_id, None)

    async def append_events(self, events: Iterable[Event], *, lazy: bool = False) -> None:
        """Appends events (and their effect on `branches`) in the writer's next pass; raises the
        first event's error, if any (the others land regardless).

        `lazy` events wait (at most `EVENTS_DELAY_S`) to ride along with the next ply's pass,
        so a match's events and its plies cost one commit, not two.
        """
        errors: list[BaseException] = []
        for event in events:
            self.queue_event(event, errors.append)
        if not lazy:
            self.flush_soon()
        await self.written()
        if errors:
            raise errors[0]

    def queue_event(
        self, event: Event, failed: Callable[[BaseException], None] | None = None
    ) -> None:
        """Queues an event (and its effect on `branches`) without waiting: it rides along with
        the next ply's pass, or is written within `EVENTS_DELAY_S`. If it cannot be written,
        `failed` is called with the error; `written()` waits for it."""
        if self._closed:
            raise StoreError(f"replay database {self.path} is closed")
        self._pending.append(_Write(None, _event_row(event), None, None, failed))
        if self._lazy_timer is None and not self._passing:
            loop = asyncio.get_running_loop()
            self._lazy_timer = loop.call_later(EVENTS_DELAY_S, self._wake_lazy)

    async def written(self) -> None:
        """Returns once every write queued so far has landed or failed (the next pass, or the
        one running, carries them all); does not hurry lazy events (`flush_soon` does)."""
        if not self._pending and not self._passing:
            return
        # The pass running (if any) is number `passes + 1`; what is queued goes in the next.
        target = self.passes + int(self._passing) + int(bool(self._pending))
        mark = asyncio.get_running_loop().create_future()
        self._marks.append((target, mark))
        await mark

    def flush_soon(self) -> None:
        """Writes queued events now rather than with the next ply."""
        if self._pending:
            self._urgent = True
            self._dispatch()

    # -- the group-commit writer ------------------------------------------------------------

    async def _submit(
        self,
        apply: Callable[[sqlite3.Connection], None] | None,
        ply: tuple[_PlyRows, Lease | None] | None = None,
    ) -> None:
        """Queues `apply` (or a ply) for the writer's next pass; returns once that pass has
        committed.

        A caller cancelled meanwhile stops waiting, but its write stays queued and lands."""
        if self._closed:
            raise StoreError(f"replay database {self.path} is closed")
        done = asyncio.get_running_loop().create_future()
        self._pending.append(_Write(apply, None, done, ply))
        self._urgent = True
        self._dispatch()
        await done

    def _wake_lazy(self) -> None:
        self._lazy_timer = None
        self.flush_soon()

    def _dispatch(self) -> None:
        """Starts a pass over every queued write, now, unless one runs or another transaction
        holds the connection (each calls this again when it ends).

        The pass goes straight to the database thread from here: no task has to wake up first,
        and the thread resolves the writers' futures itself (`_pass_done`)."""
        if not self._urgent or self._passing or self._write_lock.locked() or self._closed:
            return
        if self._lazy_timer is not None:
            self._lazy_timer.cancel()
            self._lazy_timer = None
        batch, self._pending = self._pending, []
        self._urgent = False
        if not batch:
            return
        self._passing = True
        self._pass_idle.clear()
        loop = asyncio.get_running_loop()
        try:
            _run_in_db_thread(
                self._conn, functools.partial(_pass_in_thread, batch, loop, self._pass_done)
            )
        except Exception as exc:  # the connection is gone
            self._pass_done(batch, [exc] * len(batch))

    def _pass_done(self, batch: Sequence[_Write], outcomes: Sequence[BaseException | None]) -> None:
        self._passing = False
        self.passes += 1
        self._pass_idle.set()
        _resolve(batch, outcomes)
        if self._marks:
            self._release_marks()
        if self._pending:
            if self._urgent:
                self._dispatch()
            elif self._lazy_timer is None:
                loop = asyncio.get_running_loop()
                self._lazy_timer = loop.call_later(EVENTS_DELAY_S, self._wake_lazy)

    def _release_marks(self, closed: bool = False) -> None:
        waiting = []
        for target, mark in self._marks:
            if mark.done():
                continue
            if closed or target <= self.passes:
                mark.set_result(None)
            else:
                waiting.append((target, mark))
        self._marks = waiting

    async def _drain_writes(self) -> None:
        """Waits until nothing is queued or being written, writes queued meanwhile included."""
        while self._pending or self._passing:
            self.flush_soon()
            await self.written()

    def _stop_writer(self) -> None:
        if self._lazy_timer is not None:
            self._lazy_timer.cancel()
            self._lazy_timer = None
        closed = StoreError(f"replay database {self.path} is closed")
        _resolve(self._pending, [closed] * len(self._pending))
        self._pending.clear()
        self._release_marks(closed=True)

    # -- reads ------------------------------------------------------------------------------

    _MATCH_SELECT = (
        "SELECT m.*, (SELECT COUNT(*) FROM plies p WHERE p.match_id = m.id) AS n_plies,"
        " l.token AS lease_token, l.pid AS lease_pid, l.host AS lease_host,"
        " l.heartbeat AS lease_heartbeat"
        " FROM matches m LEFT JOIN leases l ON l.match_id = m.id"
    )

    async def list_matches(self, limit: int | None = None) -> list[MatchRow]:
        """Matches, newest first."""
        rows = await self._rows(
            f"{self._MATCH_SELECT} ORDER BY m.created_at DESC, m.rowid DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [self._match_row(r) for r in rows]

    async def get_match(self, match_id: str) -> MatchRow | None:
        rows = await self._rows(f"{self._MATCH_SELECT} WHERE m.id = ?", (match_id,))
        return self._match_row(rows[0]) if rows else None

    def _match_row(self, r: sqlite3.Row) -> MatchRow:
        stats_data = _loads(r["stats_json"])
        unreadable = r["stats_json"] is not None and not isinstance(stats_data, dict)
        stats = MatchStats.from_dict(stats_data) if isinstance(stats_data, dict) else None
        policy = _loads(r["policy_json"])
        lease_pid: int | None = None
        if r["lease_token"] is not None:
            ours = any(lease.token == r["lease_token"] for lease in self._leases.values())
            if ours or _lease_live(r["lease_pid"], r["lease_host"], r["lease_heartbeat"]):
                lease_pid = int(r["lease_pid"])
        try:
            status = MatchStatus(r["status"])
        except ValueError:
            status = MatchStatus.STOPPED
        if status == MatchStatus.RUNNING and lease_pid is None:
            status = MatchStatus.INTERRUPTED
        return MatchRow(
            id=r["id"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            game=r["game"],
            white_spec=r["white_spec"],
            black_spec=r["black_spec"],
            white_speculator=r["white_speculator"],
            black_speculator=r["black_speculator"],
            start_fen=r["start_fen"],
            max_plies=r["max_plies"],
            seed=r["seed"],
            policy=policy if isinstance(policy, dict) else {},
            result=r["result"],
            termination=r["termination"],
            stats=stats,
            stats_unreadable=unreadable,
            status=status,
            plies=r["n_plies"],
            lease_pid=lease_pid,
        )

    async def resolve_match_id(self, prefix: str) -> str:
        """The id of the one match whose id starts with `prefix`."""
        prefix = prefix.strip()
        if not prefix:
            raise StoreError("empty match id; `arena replays --json` lists the saved matches")
        if await self._scalar("SELECT 1 FROM matches WHERE id = ?", (prefix,)):
            return prefix
        rows = await self._rows(
            "SELECT id FROM matches WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC LIMIT 4",
            (len(prefix), prefix),
        )
        if not rows:
            raise StoreError(f"no match id starts with {prefix!r}; `arena replays` lists them")
        if len(rows) > 1:
            shown = ", ".join(r[0] for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
            raise StoreError(f"match id {prefix!r} is ambiguous ({shown}); type more of it")
        return str(rows[0][0])

    async def get_plies(self, match_id: str) -> list[PlyRecord]:
        """The committed plies as the runner produced them (guesses and attempts included)."""
        guesses: dict[int, list[Guess]] = {}
        for p in await self.get_predictions(match_id):
            guesses.setdefault(p.ply, []).append(Guess(p.move, p.probability))
        attempts: dict[int, list[Attempt]] = {}
        for a in await self.get_attempts(match_id):
            attempts.setdefault(a.ply, []).append(Attempt(a.raw, a.parsed, a.error))
        rows = await self._rows("SELECT * FROM plies WHERE match_id = ? ORDER BY ply", (match_id,))
        return [_ply_record(r, guesses.get(r["ply"], ()), attempts.get(r["ply"], ())) for r in rows]

    async def get_records(self, match_id: str) -> list[PlyRecord]:
        """The committed plies (for resume and accounting); the same as `get_plies`."""
        return await self.get_plies(match_id)

    async def get_predictions(self, match_id: str) -> list[PredictionRow]:
        rows = await self._rows(
            "SELECT match_id, ply, side, rank, move, probability, outcome FROM predictions"
            " WHERE match_id = ? ORDER BY ply, rank",
            (match_id,),
        )
        return [PredictionRow(*r) for r in rows]

    async def get_attempts(self, match_id: str) -> list[AttemptRow]:
        rows = await self._rows(
            "SELECT match_id, ply, side, n, raw, parsed, error FROM attempts"
            " WHERE match_id = ? ORDER BY ply, n",
            (match_id,),
        )
        return [AttemptRow(*r) for r in rows]

    async def get_branches(self, match_id: str) -> list[BranchRow]:
        rows = await self._rows(
            "SELECT * FROM branches WHERE match_id = ? ORDER BY id", (match_id,)
        )
        moves = await self.moves(match_id) if rows else []
        return [
            BranchRow(
                match_id=r["match_id"],
                branch_id=r["branch_id"],
                ply=r["ply"],
                side=r["side"],
                path=_branch_path(r["path"], r["ply"], r["depth"], moves),
                guess=r["guess"],
                probability=r["probability"],
                rank=r["rank"],
                depth=r["depth"],
                started_t=r["started_t"],
                ended_t=r["ended_t"],
                status=BranchStatus(r["status"]),
                move=r["move"],
                usage=_usage(r["usage_json"]) if r["usage_json"] else None,
                error=r["error"],
            )
            for r in rows
        ]

    async def get_events(self, match_id: str) -> list[EventRow]:
        rows = await self._rows(
            "SELECT match_id, seq, t, kind, json FROM events WHERE match_id = ? ORDER BY seq",
            (match_id,),
        )
        out = []
        for r in rows:
            data = _loads(r[4])
            out.append(EventRow(r[0], r[1], r[2], r[3], data if isinstance(data, dict) else {}))
        return out

    async def moves(self, match_id: str) -> list[str]:
        """The committed moves (UCI), in order."""
        rows = await self._rows(
            "SELECT move FROM plies WHERE match_id = ? ORDER BY ply", (match_id,)
        )
        return [str(r[0]) for r in rows]


@dataclass(eq=False, slots=True)
class _Write:
    """One unit of the writer's pass: it lands whole or not at all (a savepoint)."""

    apply: Callable[[sqlite3.Connection], None] | None
    """Runs in the database thread, inside the pass's transaction."""
    event: _EventRow | None
    """Or an event to append (numbered after its match's last one)."""
    done: asyncio.Future[None] | None
    """Resolved when the write landed or failed; None for a queued event, which reports only a
    failure, to `failed` (a future per event was ~4% of a 200-game run's work)."""
    ply: tuple[_PlyRows, Lease | None] | None = None
    """Or a ply's rows and the lease it is written under."""
    failed: Callable[[BaseException], None] | None = None


def _run_in_db_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], None]) -> None:
    """Queues `fn(sqlite3_connection)` on aiosqlite's thread without waiting for it (it reports
    back itself): a whole pass is one hop, and it starts before the loop's next turn.

    `Connection._tx` is the queue aiosqlite's own methods feed (pinned to 0.22 in pyproject);
    an entry without a future is run and nothing more.
    """
    if not conn._running or conn._connection is None:
        raise StoreError("the replay database connection is closed")
    raw = conn._connection
    conn._tx.put_nowait((None, lambda: fn(raw)))


def _pass_in_thread(
    batch: Sequence[_Write],
    loop: asyncio.AbstractEventLoop,
    done: Callable[[Sequence[_Write], Sequence[BaseException | None]], None],
    db: sqlite3.Connection,
) -> None:
    """In the database thread: the pass, then its outcome back to the loop."""
    outcomes: Sequence[BaseException | None]
    try:
        outcomes = _write_pass(db, batch)
    except Exception as exc:  # busy, I/O, full: every write of the pass fails alike
        outcomes = [exc] * len(batch)
    except BaseException as exc:  # reported to the loop, never lost in the thread
        outcomes = [StoreError(f"replay writer stopped: {type(exc).__name__}")] * len(batch)
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(done, batch, outcomes)


def _write_pass(db: sqlite3.Connection, batch: Sequence[_Write]) -> list[Exception | None]:
    """One transaction for the whole batch, then one COMMIT (one fsync). Returns each write's
    error (None when it landed).

    Writes rarely fail, so the batch is written together first (`_apply_together`); if one
    fails, that is rolled back and the batch done again with a savepoint per write, so the
    others still land.
    """
    try:
        _apply_together(db, batch)
        return [None] * len(batch)
    except sqlite3.OperationalError:
        raise  # busy, disk I/O, full: every write of the pass fails alike
    except Exception:
        pass
    return _apply_one_by_one(db, batch)


def _apply_one_by_one(db: sqlite3.Connection, batch: Sequence[_Write]) -> list[Exception | None]:
    outcomes: list[Exception | None] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        for write in batch:
            db.execute("SAVEPOINT arena_write")
            try:
                if write.ply is not None:
                    _write_plies(db, [write.ply])
                elif write.event is not None:
                    _write_events(db, [write.event])
                elif write.apply is not None:
                    write.apply(db)
            except Exception as exc:
                db.execute("ROLLBACK TO arena_write")
                outcomes.append(exc)
            else:
                outcomes.append(None)
            db.execute("RELEASE arena_write")
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            db.execute("ROLLBACK")
        raise
    return outcomes


def _apply_together(db: sqlite3.Connection, batch: Sequence[_Write]) -> None:
    """The whole pass in one transaction and few statements: the other writes in their order,
    then every ply, then every event, each kind in multi-row statements.

    Each statement is a step of the database thread that hands the GIL back and forth with the
    event loop; with hundreds of matches that hand-over, not SQLite, was most of a pass's time.
    Any failure rolls it all back (the caller then writes one at a time)."""
    plies: list[tuple[_PlyRows, Lease | None]] = []
    events: list[_EventRow] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        for write in batch:
            if write.ply is not None:
                plies.append(write.ply)
            elif write.event is not None:
                events.append(write.event)
            elif write.apply is not None:
                write.apply(db)
        if plies:
            _write_plies(db, plies)
        if events:
            _write_events(db, events)
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            db.execute("ROLLBACK")
        raise


_CHUNKS: Final = (256, 64, 16, 4, 1)
"""Rows per multi-row statement: a few fixed sizes, so each statement's SQL compiles once."""


@functools.lru_cache(maxsize=256)
def _sql(template: str, group: str, separator: str, rows: int) -> str:
    return template.format(separator.join([group] * rows))


def _in_chunks(
    db: sqlite3.Connection,
    template: str,
    width: int,
    rows: Sequence[Sequence[Any]],
    group: str | None = None,
    separator: str = ", ",
) -> list[Any]:
    """Runs `template` over `rows` in few statements, `{}` standing for the rows' `group`s (by
    default `(?, ?, ...)` of `width` values) joined by `separator`; returns what any of them
    selected."""
    group = group or f"({', '.join('?' * width)})"
    found: list[Any] = []
    at = 0
    for size in _CHUNKS:
        while len(rows) - at >= size:
            chunk = rows[at : at + size]
            params = [value for row in chunk for value in row]
            found += db.execute(_sql(template, group, separator, size), params).fetchall()
            at += size
    return found


def _write_plies(db: sqlite3.Connection, plies: Sequence[tuple[_PlyRows, Lease | None]]) -> None:
    """Plies of one pass, each under its match's lease (one ply per match). Re-recording a ply
    replaces it (and, by cascade, its predictions and attempts)."""
    matches = sorted({rows.match_id for rows, _ in plies})
    leases = {
        row[0]: row[1:]
        for row in _in_chunks(
            db,
            "SELECT match_id, token, pid, host, heartbeat FROM leases"
            " WHERE match_id IN (VALUES {})",
            1,
            [(m,) for m in matches],
        )
    }
    for rows, held in plies:
        _check_lease(rows.match_id, held, leases.get(rows.match_id))
    keys = [(rows.match_id, rows.ply) for rows, _ in plies]
    # An OR of (match, ply) pairs seeks the index for each; `IN (VALUES ...)` scans the table.
    _in_chunks(db, "DELETE FROM plies WHERE {}", 2, keys, "(match_id = ? AND ply = ?)", " OR ")
    values = [rows.values for rows, _ in plies]
    _in_chunks(db, _PLY_INSERT_MANY, len(values[0]), values)
    predictions = [p for rows, _ in plies for p in rows.predictions]
    if predictions:
        _in_chunks(db, _PREDICTIONS_INSERT_MANY, 7, predictions)
    attempts = [a for rows, _ in plies for a in rows.attempts]
    if attempts:
        _in_chunks(db, _ATTEMPTS_INSERT_MANY, 7, attempts)
    updated_at = max(rows.updated_at for rows, _ in plies)
    touched = 0
    for at in range(0, len(matches), 256):
        chunk = matches[at : at + 256]
        cur = db.execute(
            f"UPDATE matches SET updated_at = ? WHERE id IN ({', '.join('?' * len(chunk))})",
            (updated_at, *chunk),
        )
        touched += cur.rowcount
    if touched != len(matches):
        which = f"match {matches[0]}" if len(matches) == 1 else "a ply's match"
        raise StoreError(f"{which} is not in the replay database; create it first")


def _write_events(db: sqlite3.Connection, events: Sequence[_EventRow]) -> None:
    """Events of one pass, numbered after each match's last one in the order they came, and
    their changes to `branches`."""
    matches = sorted({e.match_id for e in events})
    last = {
        row[0]: int(row[1] or 0)
        for row in _in_chunks(
            db,
            # Per match, MAX(seq) by one seek (a GROUP BY would read all its events).
            "SELECT column1, (SELECT MAX(seq) FROM events WHERE match_id = column1)"
            " FROM (VALUES {})",
            1,
            [(m,) for m in matches],
        )
    }
    rows = []
    for e in events:
        seq = last.get(e.match_id, 0) + 1
        last[e.match_id] = seq
        rows.append((e.match_id, seq, e.t, e.kind, e.json))
    _in_chunks(db, "INSERT INTO events (match_id, seq, t, kind, json) VALUES {}", 5, rows)
    for kind in _BRANCH_ORDER:
        changes = [e.branch[1] for e in events if e.branch is not None and e.branch[0] == kind]
        if changes:
            _in_chunks(db, _BRANCH_SQL_MANY[kind], len(changes[0]), changes)


def _resolve(batch: Sequence[_Write], outcomes: Sequence[BaseException | None]) -> None:
    for write, outcome in zip(batch, outcomes, strict=True):
        if write.done is None:
            if outcome is not None and write.failed is not None:
                write.failed(outcome)
            continue
        if write.done.done():
            continue  # its caller was cancelled; the write landed (or failed) all the same
        if outcome is None:
            write.done.set_result(None)
        else:
            write.done.set_exception(outcome)


def _check_lease_in(db: sqlite3.Connection, match_id: str, held: Lease | None) -> None:
    """In the writer's transaction: refuses to write a match another process plays."""
    row = db.execute(
        "SELECT token, pid, host, heartbeat FROM leases WHERE match_id = ?", (match_id,)
    ).fetchone()
    _check_lease(match_id, held, row)


def _check_lease(match_id: str, held: Lease | None, row: Sequence[Any] | None) -> None:
    """Refuses to write a match another process plays, given its `leases` row (token, pid,
    host, heartbeat) or None."""
    if held is not None:
        if row is None or row[0] != held.token:
            who = "" if row is None else f" by process {row[1]} on {row[2]}"
            raise LeaseLostError(
                f"match {match_id} was taken over{who}; this process stopped writing it"
            )
    elif row is not None and _lease_live(row[1], row[2], row[3]):
        raise MatchBusyError(_busy(match_id, row[1], row[2]))


@dataclass(frozen=True, slots=True)
class _PlyRows:
    """A ply's rows, made on the event loop's thread: the database thread only executes them
    (Python work there holds the GIL the loop needs, a convoy with hundreds of matches)."""

    match_id: str
    ply: int
    values: tuple[Any, ...]
    predictions: list[tuple[Any, ...]]
    attempts: list[tuple[Any, ...]]
    updated_at: str


def _ply_rows(match_id: str, record: PlyRecord) -> _PlyRows:
    return _PlyRows(
        match_id=match_id,
        ply=record.ply,
        values=_ply_values(match_id, record),
        predictions=[
            (
                match_id,
                record.ply,
                1 - record.side,
                rank,
                g.move,
                g.probability,
                "hit" if g.move == record.move else "miss",
            )
            for rank, g in enumerate(record.guesses, 1)
        ],
        attempts=[
            (match_id, record.ply, record.side, n, a.raw, a.parsed, a.error)
            for n, a in enumerate(record.attempts, 1)
        ],
        updated_at=_now(),
    )


@dataclass(frozen=True, slots=True)
class _EventRow:
    """An event's row and its effect on `branches`, made on the event loop's thread."""

    match_id: str
    t: float
    kind: str
    json: str
    branch: tuple[str, tuple[Any, ...]] | None


def _event_row(event: Event) -> _EventRow:
    return _EventRow(
        match_id=event.match_id,
        t=event.t,
        kind=type(event).__name__,
        json=event_json(event),
        branch=_branch_change(event),
    )


_BRANCH_HEAD: Final = (
    "INSERT INTO branches (match_id, branch_id, ply, side, path, guess, probability, rank,"
    " depth, started_t, status) VALUES "
)

# How each kind of branch event changes its row: the SET clause over the event's values
# ({1}, {2}, ...; the last two are the match and branch ids that find the row).
_RUNNING, _FINISHED = BranchStatus.RUNNING.value, BranchStatus.FINISHED.value
_BRANCH_SETS: Final = {
    # An adopted (or cancelled) branch that reports its end later keeps its status.
    "finished": (
        f"status = CASE status WHEN '{_RUNNING}' THEN '{_FINISHED}' ELSE status END,"
        " ended_t = {1}, move = {2}, usage_json = {3}, error = {4}",
        6,
    ),
    "cancelled": (
        f"status = '{BranchStatus.CANCELLED.value}', ended_t = {{1}}, usage_json = {{2}}",
        4,
    ),
    "adopted": (f"status = '{BranchStatus.ADOPTED.value}'", 2),
}
_BRANCH_ORDER: Final = ("started", "finished", "cancelled", "adopted")
"""The order a pass applies each kind in. A branch is finished before it is adopted or after,
and a cancelled one never finishes, so this order ends every row as the events' own would."""


def _branch_sql_many(kind: str) -> str:
    """The statement for many events of `kind` (`{}` for their rows of values)."""
    if kind == "started":
        return _BRANCH_HEAD + "{}"
    sets, width = _BRANCH_SETS[kind]
    columns = [f"target.column{i}" for i in range(width + 1)]
    return (
        "WITH v AS (VALUES {}), target AS (SELECT (SELECT MAX(id) FROM branches WHERE"
        f" match_id = v.column{width - 1} AND branch_id = v.column{width}) AS row_id, v.*"
        f" FROM v) UPDATE branches SET {sets.format(*columns)} FROM target"
        " WHERE branches.id = target.row_id"
    )


_BRANCH_SQL_MANY: Final = {kind: _branch_sql_many(kind) for kind in _BRANCH_ORDER}


def _branch_change(event: Event) -> tuple[str, tuple[Any, ...]] | None:
    """The kind of change `event` makes to the `branches` table and its values, if any."""
    if isinstance(event, BranchStarted):
        return (
            "started",
            (
                event.match_id,
                event.branch_id,
                event.ply,
                event.side,
                " ".join(_branch_tail(event.path, event.depth)),
                event.guess,
                event.probability,
                event.rank,
                event.depth,
                event.t,
                BranchStatus.RUNNING,
            ),
        )
    if isinstance(event, BranchFinished):
        return (
            "finished",
            (
                event.t,
                event.move,
                _usage_json(event.usage),
                event.error,
                event.match_id,
                event.branch_id,
            ),
        )
    if isinstance(event, BranchCancelled):
        return (
            "cancelled",
            (event.t, _usage_json(event.usage), event.match_id, event.branch_id),
        )
    if isinstance(event, BranchAdopted):
        return "adopted", (event.match_id, event.branch_id)
    return None


def _exists(path: str | Path) -> bool:
    return str(path) == ":memory:" or Path(path).expanduser().is_file()


def _prepare(path: str | Path) -> str:
    """Creates the parent directory of a database file; returns the path to open."""
    if str(path) == ":memory:":
        return ":memory:"
    where = Path(path).expanduser()
    where.parent.mkdir(parents=True, exist_ok=True)
    return str(where)


def _open_error(path: str | Path, exc: BaseException) -> StoreError:
    """One line that names what is wrong with the database file."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError):
        if "not a database" in reason or "malformed" in reason:
            return StoreError(
                f"{path} is not an arena replay database ({reason}); use another --db"
            )
        if "locked" in reason or "busy" in reason:
            return StoreError(
                f"replay database {path} is locked by another program; close it or use another --db"
            )
    return StoreError(
        f"cannot open the replay database {path} ({reason}); choose a writable location"
    )
