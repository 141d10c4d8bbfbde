"""The replay store: one aiosqlite connection, WAL, migrations tracked by `PRAGMA user_version`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from arena.core.actor import Attempt, Guess, Usage
from arena.core.errors import ArenaError
from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    Event,
    PlyRecord,
)

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
)
"""Ordered schema steps; step i (1-based) is applied when `user_version` < i. Append only."""

SCHEMA_VERSION = len(MIGRATIONS)


def new_match_id() -> str:
    """A short unique match id (12 hex chars)."""
    return secrets.token_hex(6)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _usage_json(usage: Usage) -> str:
    return json.dumps(usage.as_dict())


def _usage(text: str | None) -> Usage:
    if not text:
        return Usage()
    data = json.loads(text)
    names = {f.name for f in dataclasses.fields(Usage)}
    return Usage(**{k: v for k, v in data.items() if k in names})


def _cost(stats: Mapping[str, Any]) -> float | None:
    """Dollars of a match from its stats: `cost_usd` if given, else the committed usage."""
    if isinstance(stats.get("cost_usd"), int | float):
        return float(stats["cost_usd"])
    usage = stats.get("usage")
    if not isinstance(usage, Mapping) or not usage:
        return None
    total = 0.0
    for side in usage.values():
        cost = side.get("cost_usd") if isinstance(side, Mapping) else None
        if not isinstance(cost, int | float):
            return None
        total += cost
    return total


@dataclass(frozen=True)
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
    stats: dict[str, Any] | None
    status: str
    plies: int
    saved_pct: float | None
    cost_usd: float | None

    @property
    def policy_json(self) -> str:
        return json.dumps(self.policy)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (for `--json` listings)."""
        return {"match_id": self.id, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class PlyRow:
    match_id: str
    ply: int
    side: int
    uci: str
    san: str
    fen_after: str
    decision_s: float
    wait_s: float
    saved_s: float
    hit: bool
    rank: int | None
    branches_started: int
    branches_cancelled: int
    commit_latency_s: float | None
    usage: Usage
    wasted_usage: Usage
    flagged: str | None
    raw: str


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
    status: str
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


def event_json(event: Event) -> str:
    """An event as JSON (dataclasses become objects, tuples lists)."""
    return json.dumps(dataclasses.asdict(event), default=str)


class Store:
    """The replay database. Open with `await Store.open(path)`; one connection per process."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path
        self._closed = False
        # One connection serves every match in the process, so write transactions take turns.
        self._write_lock = asyncio.Lock()

    # -- lifecycle --------------------------------------------------------------------------

    new_match_id = staticmethod(new_match_id)

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Opens (creating if needed) the database at `path` and brings its schema up to date."""
        try:
            where = await asyncio.to_thread(_prepare, path)
            conn = await aiosqlite.connect(where, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise _unwritable(path, exc) from None
        conn.row_factory = sqlite3.Row
        store = cls(conn, where)
        try:
            await store._setup()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await conn.close()
            if isinstance(exc, sqlite3.Error | OSError):
                raise _unwritable(path, exc) from None
            raise
        return store

    async def _setup(self) -> None:
        db = self._conn
        await db.execute("PRAGMA busy_timeout = 5000")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA journal_mode = WAL")
        # FULL syncs the WAL at every commit: a committed ply survives an OS crash too.
        await db.execute("PRAGMA synchronous = FULL")
        await self._migrate()

    async def _migrate(self) -> None:
        db = self._conn
        if await self.user_version() >= SCHEMA_VERSION:
            await self._check_version()
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

    async def _check_version(self) -> None:
        version = await self.user_version()
        if version > SCHEMA_VERSION:
            raise ArenaError(
                f"replay database {self.path} has schema version {version}, newer than this "
                f"arena ({SCHEMA_VERSION}); upgrade arena or use another database"
            )

    async def user_version(self) -> int:
        return int(await self._scalar("PRAGMA user_version"))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._conn.close()

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
            raise ArenaError(f"replay database {self.path} is closed")
        async with self._write_lock:
            db = self._conn
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                # The connection may be gone already; the original error is the one to report.
                with contextlib.suppress(Exception):
                    await db.rollback()
                raise
            await db.execute("COMMIT")

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
                        json.dumps(dict(policy), default=str),
                    ),
                )
        except sqlite3.IntegrityError:
            raise ArenaError(f"match {match_id} already exists in {self.path}") from None

    async def mark_running(self, match_id: str) -> None:
        """Marks a match as running again (a start or a resume)."""
        async with self._transaction() as db:
            cur = await db.execute(
                "UPDATE matches SET status = 'running', updated_at = ? WHERE id = ?",
                (_now(), match_id),
            )
            if cur.rowcount == 0:
                raise ArenaError(f"match {match_id} is not in {self.path}; create it first")

    async def add_ply(self, match_id: str, record: PlyRecord) -> None:
        """Writes one committed ply with its predictions and attempts, in one transaction."""
        guesser = 1 - record.side
        async with self._transaction() as db:
            # Re-recording a ply replaces it (and, by cascade, its predictions and attempts).
            await db.execute(
                "DELETE FROM plies WHERE match_id = ? AND ply = ?", (match_id, record.ply)
            )
            await db.execute(
                "INSERT INTO plies (match_id, ply, side, uci, san, fen_after, decision_s, wait_s,"
                " saved_s, hit, rank, branches_started, branches_cancelled, commit_latency_s,"
                " usage_json, wasted_usage_json, flagged, raw)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    match_id,
                    record.ply,
                    record.side,
                    record.move,
                    record.san,
                    record.fen_after,
                    record.decision_s,
                    record.wait_s,
                    record.saved_s,
                    int(record.hit),
                    record.rank,
                    record.branches_started,
                    record.branches_cancelled,
                    record.commit_latency_s,
                    _usage_json(record.usage),
                    _usage_json(record.wasted_usage),
                    record.flagged,
                    record.raw,
                ),
            )
            await db.executemany(
                "INSERT INTO predictions (match_id, ply, side, rank, move, probability, outcome)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        match_id,
                        record.ply,
                        guesser,
                        rank,
                        g.move,
                        g.probability,
                        "hit" if g.move == record.move else "miss",
                    )
                    for rank, g in enumerate(record.guesses, 1)
                ],
            )
            await db.executemany(
                "INSERT INTO attempts (match_id, ply, side, n, raw, parsed, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (match_id, record.ply, record.side, n, a.raw, a.parsed, a.error)
                    for n, a in enumerate(record.attempts, 1)
                ],
            )
            await db.execute("UPDATE matches SET updated_at = ? WHERE id = ?", (_now(), match_id))

    async def finish_match(
        self,
        match_id: str,
        result: str,
        termination: str,
        stats: Mapping[str, Any],
        *,
        status: str | None = None,
    ) -> None:
        """Records how a match ended.

        `status` defaults to `finished` for a decided game or a reached ply limit, else `stopped`
        (aborted or failed: a match that can be resumed).
        """
        if status is None:
            done = result != "*" or termination == "max plies"
            status = "finished" if done else "stopped"
        async with self._transaction() as db:
            cur = await db.execute(
                "UPDATE matches SET result = ?, termination = ?, stats_json = ?, status = ?,"
                " updated_at = ? WHERE id = ?",
                (
                    result,
                    termination,
                    json.dumps(dict(stats), default=str),
                    status,
                    _now(),
                    match_id,
                ),
            )
            if cur.rowcount == 0:
                raise ArenaError(f"match {match_id} is not in {self.path}")

    async def append_events(self, events: Iterable[Event]) -> None:
        """Appends events (and their effect on `branches`) in one transaction."""
        async with self._transaction() as db:
            next_seq: dict[str, int] = {}
            for event in events:
                mid = event.match_id
                if mid not in next_seq:
                    async with db.execute(
                        "SELECT COALESCE(MAX(seq), 0) FROM events WHERE match_id = ?", (mid,)
                    ) as cur:
                        row = await cur.fetchone()
                    next_seq[mid] = (int(row[0]) if row else 0) + 1
                seq = next_seq[mid]
                next_seq[mid] = seq + 1
                await db.execute(
                    "INSERT INTO events (match_id, seq, t, kind, json) VALUES (?, ?, ?, ?, ?)",
                    (mid, seq, event.t, type(event).__name__, event_json(event)),
                )
                await _branch_effect(db, event)

    # -- reads ------------------------------------------------------------------------------

    _MATCH_SELECT = (
        "SELECT m.*, (SELECT COUNT(*) FROM plies p WHERE p.match_id = m.id) AS n_plies"
        " FROM matches m"
    )

    async def list_matches(self, limit: int | None = None) -> list[MatchRow]:
        """Matches, newest first."""
        rows = await self._rows(
            f"{self._MATCH_SELECT} ORDER BY m.created_at DESC, m.rowid DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [_match_row(r) for r in rows]

    async def get_match(self, match_id: str) -> MatchRow | None:
        rows = await self._rows(f"{self._MATCH_SELECT} WHERE m.id = ?", (match_id,))
        return _match_row(rows[0]) if rows else None

    async def resolve_match_id(self, prefix: str) -> str:
        """The id of the one match whose id starts with `prefix`."""
        prefix = prefix.strip()
        if not prefix:
            raise ArenaError("empty match id; `arena list` shows the saved matches")
        if await self._scalar("SELECT 1 FROM matches WHERE id = ?", (prefix,)):
            return prefix
        rows = await self._rows(
            "SELECT id FROM matches WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC LIMIT 4",
            (len(prefix), prefix),
        )
        if not rows:
            raise ArenaError(f"no match id starts with {prefix!r}; `arena replays` lists them")
        if len(rows) > 1:
            shown = ", ".join(r[0] for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
            raise ArenaError(f"match id {prefix!r} is ambiguous ({shown}); type more of it")
        return str(rows[0][0])

    async def get_plies(self, match_id: str) -> list[PlyRow]:
        rows = await self._rows("SELECT * FROM plies WHERE match_id = ? ORDER BY ply", (match_id,))
        return [
            PlyRow(
                match_id=r["match_id"],
                ply=r["ply"],
                side=r["side"],
                uci=r["uci"],
                san=r["san"],
                fen_after=r["fen_after"],
                decision_s=r["decision_s"],
                wait_s=r["wait_s"],
                saved_s=r["saved_s"],
                hit=bool(r["hit"]),
                rank=r["rank"],
                branches_started=r["branches_started"],
                branches_cancelled=r["branches_cancelled"],
                commit_latency_s=r["commit_latency_s"],
                usage=_usage(r["usage_json"]),
                wasted_usage=_usage(r["wasted_usage_json"]),
                flagged=r["flagged"],
                raw=r["raw"],
            )
            for r in rows
        ]

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
        return [
            BranchRow(
                match_id=r["match_id"],
                branch_id=r["branch_id"],
                ply=r["ply"],
                side=r["side"],
                path=tuple(r["path"].split()),
                guess=r["guess"],
                probability=r["probability"],
                rank=r["rank"],
                depth=r["depth"],
                started_t=r["started_t"],
                ended_t=r["ended_t"],
                status=r["status"],
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
        return [EventRow(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    async def moves(self, match_id: str) -> list[str]:
        """The committed moves (UCI), in order."""
        rows = await self._rows(
            "SELECT uci FROM plies WHERE match_id = ? ORDER BY ply", (match_id,)
        )
        return [str(r[0]) for r in rows]

    async def get_records(self, match_id: str) -> list[PlyRecord]:
        """The committed plies as the runner produced them (for resume and accounting)."""
        guesses: dict[int, list[Guess]] = {}
        for p in await self.get_predictions(match_id):
            guesses.setdefault(p.ply, []).append(Guess(p.move, p.probability))
        attempts: dict[int, list[Attempt]] = {}
        for a in await self.get_attempts(match_id):
            attempts.setdefault(a.ply, []).append(Attempt(a.raw, a.parsed, a.error))
        return [
            PlyRecord(
                ply=p.ply,
                side=p.side,
                move=p.uci,
                san=p.san,
                fen_after=p.fen_after,
                decision_s=p.decision_s,
                wait_s=p.wait_s,
                saved_s=p.saved_s,
                hit=p.hit,
                rank=p.rank,
                guesses=tuple(guesses.get(p.ply, ())),
                branches_started=p.branches_started,
                branches_cancelled=p.branches_cancelled,
                usage=p.usage,
                wasted_usage=p.wasted_usage,
                attempts=tuple(attempts.get(p.ply, ())),
                flagged=p.flagged,
                raw=p.raw,
                commit_latency_s=p.commit_latency_s,
            )
            for p in await self.get_plies(match_id)
        ]


_NEWEST_BRANCH = "id = (SELECT MAX(id) FROM branches WHERE match_id = ? AND branch_id = ?)"


async def _branch_effect(db: aiosqlite.Connection, event: Event) -> None:
    if isinstance(event, BranchStarted):
        await db.execute(
            "INSERT INTO branches (match_id, branch_id, ply, side, path, guess, probability,"
            " rank, depth, started_t, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')",
            (
                event.match_id,
                event.branch_id,
                event.ply,
                event.side,
                " ".join(event.path),
                event.guess,
                event.probability,
                event.rank,
                event.depth,
                event.t,
            ),
        )
    elif isinstance(event, BranchFinished):
        # An adopted branch that finishes later stays `adopted`.
        await db.execute(
            "UPDATE branches SET status = CASE status WHEN 'running' THEN 'finished'"
            " ELSE status END, ended_t = ?, move = ?, usage_json = ?, error = ?"
            f" WHERE {_NEWEST_BRANCH}",
            (
                event.t,
                event.move,
                _usage_json(event.usage),
                event.error,
                event.match_id,
                event.branch_id,
            ),
        )
    elif isinstance(event, BranchCancelled):
        await db.execute(
            "UPDATE branches SET status = 'cancelled', ended_t = ?, usage_json = ?"
            f" WHERE {_NEWEST_BRANCH}",
            (event.t, _usage_json(event.usage), event.match_id, event.branch_id),
        )
    elif isinstance(event, BranchAdopted):
        await db.execute(
            f"UPDATE branches SET status = 'adopted' WHERE {_NEWEST_BRANCH}",
            (event.match_id, event.branch_id),
        )


def _match_row(r: sqlite3.Row) -> MatchRow:
    stats = json.loads(r["stats_json"]) if r["stats_json"] else None
    saved = stats.get("saved_pct") if isinstance(stats, dict) else None
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
        policy=json.loads(r["policy_json"] or "{}"),
        result=r["result"],
        termination=r["termination"],
        stats=stats,
        status=r["status"],
        plies=r["n_plies"],
        saved_pct=float(saved) if isinstance(saved, int | float) else None,
        cost_usd=_cost(stats) if isinstance(stats, dict) else None,
    )


def _prepare(path: str | Path) -> str:
    """Creates the parent directory of a database file; returns the path to open."""
    if str(path) == ":memory:":
        return ":memory:"
    where = Path(path).expanduser()
    where.parent.mkdir(parents=True, exist_ok=True)
    return str(where)


def _unwritable(path: str | Path, exc: BaseException) -> ArenaError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ArenaError(
        f"cannot open the replay database {path} ({reason}); choose a writable location"
    )
