"""The store's schema against its declarations and its history: derived ply columns, the
migration from version 1, foreign and damaged files, strict JSON."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from arena.core.actor import Guess, Usage
from arena.core.events import BranchStatus
from arena.core.ledger import MatchStats, PlyRecord
from arena.games.chess import START_FEN
from arena.store import MatchStatus, Store, StoreError, export_json
from arena.store.db import MIGRATIONS, PLY_CHILD_TABLES, PLY_COLUMNS, SCHEMA_VERSION

from .test_store import SCHOLAR, create, make_records


async def test_ply_columns_follow_the_record_and_the_migrations(tmp_path: Path) -> None:
    """The migrated `plies` table has exactly the columns derived from `PlyRecord`'s fields."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(PlyRecord)}
    assert {c.field for c in PLY_COLUMNS} | set(PLY_CHILD_TABLES) == fields
    async with await Store.open(tmp_path / "a.db") as store:
        info = await store._rows("PRAGMA table_info(plies)")
    table = {r["name"]: (r["type"], bool(r["notnull"])) for r in info}
    derived = {c.name: (c.sql_type, c.not_null) for c in PLY_COLUMNS}
    assert table == {"match_id": ("TEXT", True), **derived}
    assert derived["speculator_usage_json"] == ("TEXT", True)
    assert derived["by_person"] == ("INTEGER", True)
    assert derived["rank"] == ("INTEGER", False)


V1_PLY = (
    "INSERT INTO plies (match_id, ply, side, uci, san, fen_after, decision_s, wait_s, saved_s,"
    " hit, rank, branches_started, branches_cancelled, commit_latency_s, usage_json,"
    f" wasted_usage_json, flagged, raw) VALUES ({', '.join('?' * 18)})"
)


def make_v1_database(path: Path) -> None:
    """A database as arena's first schema wrote it: a finished match and a killed one."""
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        match = (
            "INSERT INTO matches (id, created_at, updated_at, white_spec, black_spec, start_fen,"
            " max_plies, status, stats_json)"
            " VALUES (?, '2026-01-01', '2026-01-01', ?, ?, ?, ?, ?, ?)"
        )
        old_stats = json.dumps({"plies": 2, "saved_pct": 20.0, "hits": 1, "cost_usd": 0.5})
        conn.execute(match, ("old", "stockfish", "human", START_FEN, 2, "finished", old_stats))
        conn.execute(match, ("killed", "stockfish", "random", START_FEN, 80, "running", None))
        usage = json.dumps(Usage(10, 2, 0, 0, 0.25).as_dict())
        conn.execute(
            V1_PLY,
            (
                "old",
                0,
                0,
                "e2e4",
                "e4",
                "fen1",
                1.5,
                0.5,
                1.0,
                1,
                1,
                2,
                1,
                0.01,
                usage,
                "{}",
                None,
                "e2e4",
            ),
        )
        conn.execute(
            V1_PLY,
            (
                "old",
                1,
                1,
                "e7e5",
                "e5",
                "fen2",
                9.0,
                9.0,
                0.0,
                0,
                None,
                0,
                0,
                None,
                usage,
                "{}",
                None,
                "",
            ),
        )
        conn.execute(
            "INSERT INTO predictions VALUES ('old', 0, 1, 1, 'e2e4', 0.6, 'hit')",
        )
        conn.execute(
            "INSERT INTO branches (match_id, branch_id, ply, side, guess, probability, rank,"
            " depth, started_t, status)"
            " VALUES ('killed', 1, 3, 1, 'e7e5', 0.5, 1, 1, 0.1, 'running')"
        )


async def test_migration_from_version_1(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    make_v1_database(path)
    async with await Store.open(path) as store:
        assert await store.user_version() == SCHEMA_VERSION
        first, second = await store.get_plies("old")
        assert await store.moves("old") == ["e2e4", "e7e5"]
        # Old plies: their visible wait was their wall time; a guessed ply was speculated.
        assert (first.move, first.wall_s, first.wait_s, first.saved_s) == ("e2e4", 0.5, 0.5, 1.0)
        assert first.speculated and first.hit and first.rank == 1
        assert first.guesses == (Guess("e2e4", 0.6),)
        assert first.branches_wasted == first.branches_cancelled == 1
        assert first.speculator_usage == Usage() and first.usage == Usage(10, 2, 0, 0, 0.25)
        assert not first.by_person
        # Black was a person: its ply is marked so, and was not speculated.
        assert second.by_person and not second.speculated and second.rank is None
        match = await store.get_match("old")
        assert match is not None and match.stats is not None
        assert (match.stats.plies, match.saved_pct, match.cost_usd) == (2, 20.0, 0.5)
        # The killed match reads as interrupted; its running branch was cancelled.
        killed = await store.get_match("killed")
        assert killed is not None and killed.status == MatchStatus.INTERRUPTED
        assert [b.status for b in await store.get_branches("killed")] == [BranchStatus.CANCELLED]
        # And it takes new plies.
        await store.acquire_lease("killed")
        await store.add_ply("killed", make_records(SCHOLAR[:1])[0])
        assert await store.moves("killed") == ["e2e4"]


async def test_a_foreign_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE matches (id INTEGER PRIMARY KEY, home TEXT, away TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        await Store.open(path)
    message = str(info.value)
    assert "not an arena replay database" in message and "matches" in message
    assert "\n" not in message and "writable" not in message
    assert path.read_bytes() == before  # no arena tables, not even WAL mode
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


async def test_a_file_that_is_not_sqlite_is_named_so(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(StoreError, match="not an arena replay database") as info:
        await Store.open(path)
    assert "writable" not in str(info.value)


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE matches (id TEXT)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(StoreError, match="newer than this arena"):
        await Store.open(path)


async def test_open_without_create_refuses_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "arena.db"
    with pytest.raises(StoreError, match="no replay database at") as info:
        await Store.open(missing, create=False)
    assert "\n" not in str(info.value)
    assert not missing.exists() and not missing.parent.exists()
    async with await Store.open(tmp_path / "real.db"):
        pass
    async with await Store.open(tmp_path / "real.db", create=False) as store:
        assert await store.list_matches() == []


async def test_a_corrupt_stats_row_does_not_break_listing_or_export(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "a.db") as store:
        await create(store, "good")
        await create(store, "bad")
        await create(store, "worse")
        for record in make_records(SCHOLAR[:3]):
            await store.add_ply("bad", record)
        await store.finish_match("good", "1-0", "checkmate", MatchStats(plies=3, saved_pct=10.0))
        await store.finish_match("bad", "1-0", "checkmate", MatchStats())
        async with store._transaction() as db:
            await db.execute("UPDATE matches SET stats_json = '{\"plies\": 3, ' WHERE id = 'bad'")
            await db.execute(
                "UPDATE matches SET stats_json = '[1, 2]', policy_json = 'NaN?' WHERE id = 'worse'"
            )
        rows = {r.id: r for r in await store.list_matches()}
        assert rows["good"].stats == MatchStats(plies=3, saved_pct=10.0)
        assert rows["bad"].stats is None and rows["bad"].stats_unreadable
        assert rows["worse"].stats is None and rows["worse"].policy == {}
        listed = json.dumps([r.as_dict() for r in rows.values()], allow_nan=False)
        assert json.loads(listed)[1]["stats_unreadable"] is True
        exported = await export_json(store, "bad")
        assert exported["stats"] is None and exported["moves"] == SCHOLAR[:3]
        json.dumps(exported, allow_nan=False)


async def test_finish_match_stores_the_session_limit(tmp_path: Path) -> None:
    """`resume ID --max-plies 30` of a match created with 200 stores 30; left out, it stays."""
    async with await Store.open(tmp_path / "a.db") as store:
        await create(store, "m1")
        await store.finish_match("m1", "*", "max plies", MatchStats(plies=30), max_plies=30)
        assert (await store.get_match("m1")).max_plies == 30  # type: ignore[union-attr]
        await store.finish_match("m1", "*", "aborted", MatchStats(plies=30))
        assert (await store.get_match("m1")).max_plies == 30  # type: ignore[union-attr]
        await store.finish_match("m1", "*", "aborted", MatchStats(plies=31), max_plies=None)
        assert (await store.get_match("m1")).max_plies is None  # type: ignore[union-attr]


async def test_a_resumed_match_start_does_not_store_its_history_again(tmp_path: Path) -> None:
    from arena.core.events import MatchStarted

    records = make_records(SCHOLAR[:2])
    async with await Store.open(tmp_path / "a.db") as store:
        await create(store, "m1")
        started = MatchStarted(
            match_id="m1",
            t=0.0,
            players=("a", "b"),
            speculators=(None, None),
            start_fen=START_FEN,
            ply=2,
            history=tuple(records),
        )
        await store.append_events([started])
        (event,) = await store.get_events("m1")
    assert event.data["ply"] == 2 and "history" not in event.data
