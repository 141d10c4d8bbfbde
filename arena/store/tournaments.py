"""Tournaments in the store: their settings and schedule (migration 3's tables).

A tournament's games are ordinary matches (`matches`, `plies`, ...); `tournament_games` only says
which match plays which scheduled game, so results are read from the matches themselves and a
game is never recorded twice. Each scheduled game gets its match id when it is scheduled, before
its match exists, so a process killed at any point never leaves a game that a resume would start
again. A running tournament holds the lease `tournament:ID` (the matches' lease table).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from arena.store.db import MatchRow, Store, StoreError, _lease_live, _now

LEASE_PREFIX = "tournament:"


class TournamentStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    """Every scheduled game was played (or skipped by SPRT)."""
    STOPPED = "stopped"
    """A budget or the wall-time limit stopped it, or it was interrupted by ctrl-c or an error;
    `arena tournament resume` continues it."""
    INTERRUPTED = "interrupted"
    """Computed on read: `running`, but its process is gone (SIGKILL, crash)."""


class GameState(StrEnum):
    SCHEDULED = "scheduled"
    SKIPPED = "skipped"
    """Not played: its pair's SPRT had already decided."""
    BYE = "bye"


@dataclass(frozen=True, kw_only=True)
class TournamentGameRow:
    """One scheduled game of a tournament (or a bye)."""

    n: int
    """Game number, in schedule order (1-based)."""
    round: int
    pair: int
    white: str
    black: str | None
    opening: int | None
    match_id: str | None
    state: GameState = GameState.SCHEDULED
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class TournamentRow:
    id: str
    created_at: str
    updated_at: str
    format: str
    config: dict[str, Any]
    status: TournamentStatus
    stopped_by: str | None
    scheduled: int
    """Games scheduled so far (byes and skipped games not counted)."""
    played: int
    """Scheduled games whose match is decided (or adjudicated)."""

    @property
    def resumable(self) -> bool:
        return self.status in (TournamentStatus.STOPPED, TournamentStatus.INTERRUPTED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tournament_id": self.id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "format": self.format,
            "status": str(self.status),
            "stopped_by": self.stopped_by,
            "games_scheduled": self.scheduled,
            "games_played": self.played,
            "players": [p.get("name") for p in self.config.get("players", [])],
            "resume": f"arena tournament resume {self.id}" if self.resumable else None,
        }


async def create_tournament(
    store: Store, tournament_id: str, fmt: str, config: Mapping[str, Any]
) -> None:
    now = _now()
    try:
        async with store._transaction() as db:
            await db.execute(
                "INSERT INTO tournaments (id, created_at, updated_at, format, config_json, status)"
                " VALUES (?, ?, ?, ?, ?, 'running')",
                (tournament_id, now, now, fmt, json.dumps(dict(config), allow_nan=False)),
            )
    except sqlite3.IntegrityError:
        raise StoreError(f"tournament {tournament_id} already exists in {store.path}") from None


async def add_games(store: Store, tournament_id: str, games: Sequence[TournamentGameRow]) -> None:
    """Schedules games (one transaction: a Swiss round is stored whole or not at all)."""
    async with store._transaction() as db:
        await db.executemany(
            "INSERT INTO tournament_games (tournament_id, n, round, pair, white, black, opening,"
            " match_id, state, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    tournament_id,
                    g.n,
                    g.round,
                    g.pair,
                    g.white,
                    g.black,
                    g.opening,
                    g.match_id,
                    str(g.state),
                    g.note,
                )
                for g in games
            ],
        )
        await db.execute(
            "UPDATE tournaments SET updated_at = ? WHERE id = ?", (_now(), tournament_id)
        )


async def skip_games(store: Store, tournament_id: str, numbers: Sequence[int], note: str) -> None:
    """Marks scheduled games whose match never started as skipped."""
    async with store._transaction() as db:
        await db.executemany(
            "UPDATE tournament_games SET state = ?, note = ? WHERE tournament_id = ? AND n = ?"
            " AND state = ?",
            [
                (str(GameState.SKIPPED), note, tournament_id, n, str(GameState.SCHEDULED))
                for n in numbers
            ],
        )


async def set_status(
    store: Store, tournament_id: str, status: TournamentStatus, stopped_by: str | None = None
) -> None:
    async with store._transaction() as db:
        await db.execute(
            "UPDATE tournaments SET status = ?, stopped_by = ?, updated_at = ? WHERE id = ?",
            (str(status), stopped_by, _now(), tournament_id),
        )


async def get_games(store: Store, tournament_id: str) -> list[TournamentGameRow]:
    rows = await store._rows(
        "SELECT * FROM tournament_games WHERE tournament_id = ? ORDER BY n", (tournament_id,)
    )
    return [
        TournamentGameRow(
            n=r["n"],
            round=r["round"],
            pair=r["pair"],
            white=r["white"],
            black=r["black"],
            opening=r["opening"],
            match_id=r["match_id"],
            state=GameState(r["state"]),
            note=r["note"],
        )
        for r in rows
    ]


_SELECT = (
    "SELECT t.*,"
    " (SELECT COUNT(*) FROM tournament_games g"
    "  WHERE g.tournament_id = t.id AND g.state = 'scheduled') AS scheduled,"
    " (SELECT COUNT(*) FROM tournament_games g JOIN matches m ON m.id = g.match_id"
    "  WHERE g.tournament_id = t.id AND (m.result IN ('1-0', '0-1', '1/2-1/2')"
    "  OR m.termination = 'max plies' OR m.termination LIKE 'error%')) AS played,"
    " l.pid AS lease_pid, l.host AS lease_host, l.heartbeat AS lease_heartbeat"
    " FROM tournaments t LEFT JOIN leases l ON l.match_id = 'tournament:' || t.id"
)


def _row(store: Store, r: sqlite3.Row) -> TournamentRow:
    try:
        config = json.loads(r["config_json"])
    except ValueError:
        config = {}
    status = TournamentStatus(r["status"])
    live = r["lease_pid"] is not None and (
        store.holds_lease(LEASE_PREFIX + r["id"])
        or _lease_live(r["lease_pid"], r["lease_host"], r["lease_heartbeat"])
    )
    if status == TournamentStatus.RUNNING and not live:
        status = TournamentStatus.INTERRUPTED
    return TournamentRow(
        id=r["id"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        format=r["format"],
        config=config if isinstance(config, dict) else {},
        status=status,
        stopped_by=r["stopped_by"],
        scheduled=r["scheduled"],
        played=r["played"],
    )


@dataclass(frozen=True, kw_only=True)
class LiveGame:
    """A game of a tournament whose match is being played (or was cut short) right now."""

    n: int
    round: int
    white: str
    black: str
    match_id: str
    plies: int
    fen: str
    """The position after the last stored ply (the start position before any)."""
    last_move: str | None


async def live_games(store: Store, tournament_id: str) -> list[LiveGame]:
    """Games whose match has started and not ended (status `running`), with their positions."""
    rows = await store._rows(
        "SELECT g.n, g.round, g.white, g.black, m.id, m.start_fen,"
        " (SELECT COUNT(*) FROM plies p WHERE p.match_id = m.id) AS n_plies,"
        " (SELECT p.fen_after FROM plies p WHERE p.match_id = m.id ORDER BY p.ply DESC LIMIT 1)"
        " AS fen,"
        " (SELECT p.move FROM plies p WHERE p.match_id = m.id ORDER BY p.ply DESC LIMIT 1)"
        " AS last_move"
        " FROM tournament_games g JOIN matches m ON m.id = g.match_id"
        " WHERE g.tournament_id = ? AND m.status = 'running' ORDER BY g.n",
        (tournament_id,),
    )
    return [
        LiveGame(
            n=r["n"],
            round=r["round"],
            white=r["white"],
            black=r["black"] or "",
            match_id=r["id"],
            plies=r["n_plies"],
            fen=r["fen"] or r["start_fen"],
            last_move=r["last_move"],
        )
        for r in rows
    ]


async def tournament_matches(store: Store, tournament_id: str) -> dict[str, MatchRow]:
    """The matches of a tournament's games by id, in one query."""
    rows = await store._rows(
        f"{store._MATCH_SELECT} WHERE m.id IN"
        " (SELECT match_id FROM tournament_games WHERE tournament_id = ?)",
        (tournament_id,),
    )
    return {r["id"]: store._match_row(r) for r in rows}


async def get_tournament(store: Store, tournament_id: str) -> TournamentRow | None:
    rows = await store._rows(f"{_SELECT} WHERE t.id = ?", (tournament_id,))
    return _row(store, rows[0]) if rows else None


async def list_tournaments(store: Store, limit: int | None = None) -> list[TournamentRow]:
    rows = await store._rows(
        f"{_SELECT} ORDER BY t.created_at DESC, t.rowid DESC LIMIT ?",
        (-1 if limit is None else limit,),
    )
    return [_row(store, r) for r in rows]


async def resolve_tournament_id(store: Store, prefix: str) -> str:
    """The id of the one tournament whose id starts with `prefix`."""
    prefix = prefix.strip()
    if not prefix:
        raise StoreError("empty tournament id; `arena tournament list` shows them")
    rows = await store._rows(
        "SELECT id FROM tournaments WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC LIMIT 4",
        (len(prefix), prefix),
    )
    exact = [r for r in rows if r[0] == prefix]
    if exact:
        return prefix
    if not rows:
        raise StoreError(
            f"no tournament id starts with {prefix!r}; `arena tournament list` shows them"
        )
    if len(rows) > 1:
        shown = ", ".join(r[0] for r in rows[:3])
        raise StoreError(f"tournament id {prefix!r} is ambiguous ({shown}); type more of it")
    return str(rows[0][0])


__all__ = [
    "LEASE_PREFIX",
    "GameState",
    "LiveGame",
    "TournamentGameRow",
    "TournamentRow",
    "TournamentStatus",
    "add_games",
    "create_tournament",
    "get_games",
    "get_tournament",
    "list_tournaments",
    "live_games",
    "resolve_tournament_id",
    "set_status",
    "skip_games",
    "tournament_matches",
]
