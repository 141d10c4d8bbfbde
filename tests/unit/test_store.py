"""The replay store on real SQLite files: schema, round trips, exports, recorder, crashes."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import chess
import chess.pgn
import pytest

from arena.core.actor import Attempt, Guess, Usage
from arena.core.errors import ArenaError
from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    EventBus,
    GuessesMade,
    IllegalAttempt,
    MatchEnded,
    MatchStarted,
    MoveCommitted,
    TurnStarted,
)
from arena.core.ledger import MatchStats, PlyRecord
from arena.games.chess import START_FEN, ChessState
from arena.store import (
    MatchRecorder,
    MatchStatus,
    Store,
    export_json,
    export_pgn,
    new_match_id,
)
from arena.store.db import MIGRATIONS, SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]
SCHOLAR = ["e2e4", "e7e5", "f1c4", "b8c6", "d1h5", "g8f6", "h5f7"]
USAGE = Usage(10, 2, 0, 0, 0.001)


def make_records(moves: list[str], start_fen: str = START_FEN) -> list[PlyRecord]:
    """Plies of a real game, with guesses, attempts and usage that vary from ply to ply."""
    state = ChessState.from_fen(start_fen)
    records = []
    for i, move in enumerate(moves):
        legal = [m for m in state.legal_moves() if m != move]
        guessed = i % 3 != 2
        guesses = (Guess(legal[0], 0.5), Guess(move, 0.3)) if guessed else (Guess(legal[1], 0.9),)
        after = state.apply(move)
        records.append(
            PlyRecord(
                ply=state.ply,
                side=state.to_move,
                move=move,
                san=state.format_move(move, "san"),
                fen_after=after.position(),
                decision_s=1.25 + i / 7,
                wait_s=0.5 + i / 11,
                wall_s=0.6 + i / 13,
                saved_s=0.75 if guessed else 0.0,
                hit=guessed,
                rank=2 if guessed else None,
                speculated=i != 5,
                by_person=i == 6,
                guesses=guesses,
                branches_started=len(guesses),
                branches_cancelled=len(guesses) - int(guessed),
                branches_wasted=len(guesses),
                usage=Usage(100 + i, 20 + i, 5, 3, None if i == 4 else 0.001 * i),
                wasted_usage=Usage(7, 1, 0, 0, 0.0001),
                speculator_usage=Usage(30 + i, 4, 0, 0, 0.0002),
                attempts=(Attempt(f"I play {legal[2]}??", None, "not a move"),) if i == 1 else (),
                flagged="random fallback" if i == 3 else None,
                raw=f"raw output {i}\nwith a second line",
                commit_latency_s=0.002 if guessed else None,
            )
        )
        state = after
    return records


async def create(store: Store, match_id: str, start_fen: str = START_FEN) -> None:
    await store.create_match(
        match_id,
        "stockfish:depth=6",
        "openai:gpt-5@http://localhost:8000/v1",
        "stockfish:multipv=3",
        None,
        start_fen,
        200,
        42,
        {"k": 3, "depth": 1},
    )


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with await Store.open(tmp_path / "replays" / "arena.db") as s:
        yield s


async def test_round_trip(store: Store) -> None:
    records = make_records(SCHOLAR)
    await create(store, "m1")
    for record in records:
        await store.add_ply("m1", record)
    stats = MatchStats.from_records(records)
    await store.finish_match("m1", "1-0", "checkmate", stats)

    assert await store.get_records("m1") == records
    assert await store.moves("m1") == SCHOLAR
    match = await store.get_match("m1")
    assert match is not None
    assert (match.white_spec, match.black_spec) == (
        "stockfish:depth=6",
        "openai:gpt-5@http://localhost:8000/v1",
    )
    assert (match.white_speculator, match.black_speculator) == ("stockfish:multipv=3", None)
    assert (match.start_fen, match.max_plies, match.seed) == (START_FEN, 200, 42)
    assert match.policy == {"k": 3, "depth": 1}
    assert (match.result, match.termination, match.status) == ("1-0", "checkmate", "finished")
    assert match.stats == stats and not match.stats_unreadable
    assert match.plies == len(SCHOLAR)
    assert match.saved_pct == stats.saved_pct
    assert match.cost_usd is None  # ply 4's price is unknown

    plies = await store.get_plies("m1")
    assert [p.san for p in plies] == list(ChessState.from_moves(START_FEN, SCHOLAR).san_history)
    assert plies[-1].san == "Qxf7#"
    assert plies[4].usage.cost_usd is None
    assert plies == records  # the store reads plies back as the runner's records

    predictions = await store.get_predictions("m1")
    first = [p for p in predictions if p.ply == 0]
    # The guesses at ply 0 were made by Black's speculator about White's move.
    assert [(p.side, p.rank, p.outcome) for p in first] == [(1, 1, "miss"), (1, 2, "hit")]
    assert sum(p.outcome == "hit" for p in predictions) == sum(r.hit for r in records)
    attempts = await store.get_attempts("m1")
    assert [(a.ply, a.side, a.n, a.parsed, a.error) for a in attempts] == [
        (1, 1, 1, None, "not a move")
    ]


async def test_add_ply_again_replaces_it(store: Store) -> None:
    records = make_records(SCHOLAR[:2])
    await create(store, "m1")
    await store.add_ply("m1", records[0])
    await store.add_ply("m1", records[1])
    changed = dataclasses.replace(records[1], guesses=(Guess("a7a6", 1.0),), attempts=())
    await store.add_ply("m1", changed)
    assert await store.get_records("m1") == [records[0], changed]
    assert await store.get_attempts("m1") == []


async def test_unfinished_and_stopped_status(store: Store) -> None:
    await create(store, "run")
    await create(store, "stop")
    await create(store, "cap")
    await store.acquire_lease("run")
    await store.finish_match("stop", "*", "aborted", MatchStats())
    await store.finish_match("cap", "*", "max plies", MatchStats(saved_pct=0.0))
    rows = {m.id: m for m in await store.list_matches()}
    assert rows["run"].status == MatchStatus.RUNNING == "running"
    assert rows["run"].lease_pid == os.getpid() and rows["run"].resume_command is None
    assert rows["run"].result is None and rows["run"].stats is None
    assert rows["run"].saved_pct is None and rows["run"].cost_usd is None
    assert rows["stop"].status == "stopped"
    assert rows["stop"].resume_command == "arena resume stop"
    assert rows["cap"].status == "finished" and rows["cap"].resume_command is None
    await store.acquire_lease("stop")
    await store.mark_running("stop")
    assert (await store.get_match("stop")).status == "running"  # type: ignore[union-attr]


async def test_list_matches_newest_first(store: Store) -> None:
    ids = [new_match_id() for _ in range(4)]
    assert len(set(ids)) == 4 and all(len(i) == 12 for i in ids)
    for match_id in ids:
        await create(store, match_id)
    await store.add_ply(ids[1], make_records(SCHOLAR[:1])[0])
    listed = await store.list_matches()
    assert [m.id for m in listed] == ids[::-1]
    assert [m.plies for m in listed] == [0, 0, 1, 0]
    assert [m.id for m in await store.list_matches(limit=2)] == ids[:1:-1]
    assert await store.get_match("nope") is None
    assert len(Store.new_match_id()) == 12
    first = json.loads(json.dumps(listed[0].as_dict()))
    assert first["id"] == ids[-1] and first["policy"] == {"k": 3, "depth": 1}
    assert json.loads(listed[0].policy_json) == {"k": 3, "depth": 1}


async def test_create_twice_is_an_arena_error(store: Store) -> None:
    await create(store, "m1")
    with pytest.raises(ArenaError, match="already exists"):
        await create(store, "m1")


async def test_migrations_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "a.db"

    async def schema(store: Store) -> list[tuple[str, str]]:
        rows = await store._rows("SELECT name, sql FROM sqlite_master ORDER BY name")
        return [(r[0], r[1]) for r in rows]

    async with await Store.open(path) as store:
        assert await store.user_version() == SCHEMA_VERSION == len(MIGRATIONS)
        first = await schema(store)
        await create(store, "m1")
    async with await Store.open(path) as store:
        assert await store.user_version() == SCHEMA_VERSION
        assert await schema(store) == first
        assert await store.get_match("m1") is not None
    names = {name for name, _ in first}
    assert {"matches", "plies", "predictions", "branches", "attempts", "events"} <= names


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ArenaError, match="newer"):
        await Store.open(path)


async def test_pragmas_are_really_on(store: Store, tmp_path: Path) -> None:
    assert await store._scalar("PRAGMA journal_mode") == "wal"
    assert await store._scalar("PRAGMA foreign_keys") == 1
    assert await store._scalar("PRAGMA busy_timeout") == 5000
    # A ply of a match that does not exist violates the foreign key.
    with pytest.raises(sqlite3.IntegrityError):
        await store.add_ply("ghost", make_records(SCHOLAR[:1])[0])
    assert await store.get_plies("ghost") == []
    # The mode is persistent: a plain sqlite3 connection sees WAL too.
    with sqlite3.connect(tmp_path / "replays" / "arena.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_deleting_a_match_cascades(store: Store) -> None:
    await create(store, "m1")
    for record in make_records(SCHOLAR):
        await store.add_ply("m1", record)
    async with store._transaction() as db:
        await db.execute("DELETE FROM matches WHERE id = 'm1'")
    assert await store.get_plies("m1") == []
    assert await store.get_predictions("m1") == []
    assert await store.get_attempts("m1") == []


async def test_unwritable_path_is_an_arena_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ArenaError) as info:
        await Store.open(blocker / "sub" / "arena.db")
    message = str(info.value)
    assert "\n" not in message
    assert str(blocker / "sub" / "arena.db") in message
    assert "writable" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
async def test_read_only_directory_is_an_arena_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ArenaError, match="writable"):
            await Store.open(locked / "arena.db")
    finally:
        locked.chmod(0o700)


async def test_resolve_match_id(store: Store) -> None:
    for match_id in ("abc123def456", "abc999000111", "fff000000000"):
        await create(store, match_id)
    assert await store.resolve_match_id("abc1") == "abc123def456"
    assert await store.resolve_match_id("f") == "fff000000000"
    assert await store.resolve_match_id("abc999000111") == "abc999000111"
    with pytest.raises(ArenaError, match="ambiguous") as info:
        await store.resolve_match_id("abc")
    assert "abc123def456" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ArenaError, match="no match id starts with 'zz'"):
        await store.resolve_match_id("zz")
    with pytest.raises(ArenaError):
        await store.resolve_match_id("  ")
    # LIKE wildcards in the prefix are plain characters.
    with pytest.raises(ArenaError, match="no match"):
        await store.resolve_match_id("abc%")


async def test_pgn_export(store: Store) -> None:
    records = make_records(SCHOLAR)
    await create(store, "m1")
    for record in records:
        await store.add_ply("m1", record)
    await store.finish_match("m1", "1-0", "checkmate", MatchStats())
    match = await store.get_match("m1")
    assert match is not None

    text = await export_pgn(store, "m1")
    game = chess.pgn.read_game(io.StringIO(text))
    assert game is not None and not game.errors
    assert [m.uci() for m in game.mainline_moves()] == SCHOLAR
    h = game.headers
    assert h["Event"] == "Arena match" and h["Site"] == "arena" and h["Round"] == "-"
    assert h["Date"] == match.created_at[:10].replace("-", ".")
    assert (h["White"], h["Black"]) == (
        "stockfish:depth=6",
        "openai:gpt-5@http://localhost:8000/v1",
    )
    assert h["Result"] == "1-0" and text.rstrip().endswith("1-0")
    assert h["Termination"] == "checkmate"
    assert h["WhiteSpeculator"] == "stockfish:multipv=3"
    assert "BlackSpeculator" not in h
    assert h["PlyCount"] == "7"
    assert "FEN" not in h and "SetUp" not in h
    emts = [node.emt() for node in game.mainline()]
    assert emts == [pytest.approx(r.decision_s, abs=5e-4) for r in records]
    assert "[%emt 0:00:01.25]" in text


async def test_pgn_export_custom_fen_and_unfinished(store: Store) -> None:
    fen = "4k3/8/8/8/8/8/4P3/4K3 b - - 3 40"
    moves = ["e8d7", "e2e4", "d7e6"]
    await create(store, "m2", start_fen=fen)
    for record in make_records(moves, fen):
        await store.add_ply("m2", record)

    text = await export_pgn(store, "m2")
    game = chess.pgn.read_game(io.StringIO(text))
    assert game is not None and not game.errors
    assert game.headers["SetUp"] == "1" and game.headers["FEN"] == fen
    assert game.board().fen() == fen
    assert [m.uci() for m in game.mainline_moves()] == moves
    assert game.headers["Result"] == "*"
    assert "Termination" not in game.headers
    # Black moved first: the movetext starts with "40...".
    assert "40... Kd7" in text

    with pytest.raises(ArenaError, match="no match"):
        await export_pgn(store, "missing")


async def test_json_export(store: Store) -> None:
    records = make_records(SCHOLAR)
    await create(store, "m1")
    for record in records:
        await store.add_ply("m1", record)
    await store.append_events(
        [
            BranchStarted(
                match_id="m1",
                t=0.1,
                branch_id=1,
                ply=1,
                side=1,
                path=("e2e4",),
                guess="e2e4",
                probability=0.5,
                rank=1,
                depth=1,
            )
        ]
    )
    stats = MatchStats(plies=7, saved_pct=12.0, wall_s=float("inf"))
    await store.finish_match("m1", "1-0", "checkmate", stats)

    data = json.loads(json.dumps(await export_json(store, "m1"), allow_nan=False))
    assert data["match"]["id"] == "m1" and data["match"]["result"] == "1-0"
    assert data["version"] == 2
    # A non-finite figure is stored as null (strict JSON) and reads back as its default.
    stored = await store._scalar("SELECT stats_json FROM matches WHERE id = 'm1'")
    assert "Infinity" not in stored and json.loads(stored)["wall_s"] is None
    assert data["stats"]["saved_pct"] == 12.0 and data["stats"]["wall_s"] == 0.0
    assert data["moves"] == SCHOLAR
    assert len(data["plies"]) == 7
    ply1 = data["plies"][1]
    assert ply1 == records[1].as_dict()
    assert ply1["move"] == "e7e5" and ply1["san"] == "e5"
    assert [g["move"] for g in ply1["guesses"]][1] == "e7e5"
    assert ply1["attempts"][0]["error"] == "not a move"
    assert ply1["usage"]["input_tokens"] == 101
    assert data["branches"][0]["path"] == ["e2e4"] and data["branches"][0]["status"] == "running"


def match_events(match_id: str) -> list[object]:
    """A turn with three speculative branches: one adopted, one cancelled, one failed."""
    record = make_records(SCHOLAR[:2])
    return [
        TurnStarted(match_id=match_id, t=0.01, ply=0, side=0),
        GuessesMade(
            match_id=match_id,
            t=0.02,
            ply=0,
            side=1,
            guesses=(Guess("e2e4", 0.6), Guess("d2d4", 0.3)),
            predict_s=0.01,
        ),
        BranchStarted(
            match_id=match_id,
            t=0.03,
            branch_id=1,
            ply=1,
            side=1,
            path=("e2e4",),
            guess="e2e4",
            probability=0.6,
            rank=1,
            depth=1,
        ),
        BranchStarted(
            match_id=match_id,
            t=0.04,
            branch_id=2,
            ply=1,
            side=1,
            path=("d2d4",),
            guess="d2d4",
            probability=0.3,
            rank=2,
            depth=1,
        ),
        BranchStarted(
            match_id=match_id,
            t=0.05,
            branch_id=3,
            ply=1,
            side=1,
            path=("g1f3",),
            guess="g1f3",
            probability=0.1,
            rank=3,
            depth=1,
        ),
        BranchFinished(
            match_id=match_id,
            t=0.06,
            branch_id=3,
            ply=1,
            side=1,
            move=None,
            duration_s=0.01,
            usage=Usage(),
            error="RuntimeError: boom",
        ),
        MoveCommitted(match_id=match_id, t=0.5, record=record[0]),
        BranchCancelled(match_id=match_id, t=0.51, branch_id=2, ply=1, side=1, running_s=0.47),
        TurnStarted(match_id=match_id, t=0.52, ply=1, side=1),
        BranchAdopted(match_id=match_id, t=0.53, branch_id=1, ply=1, side=1, ready=False),
        IllegalAttempt(
            match_id=match_id, t=0.6, ply=1, side=1, attempt=Attempt("Ke2", None, "illegal")
        ),
        # The adopted branch finishes after adoption: it stays adopted.
        BranchFinished(
            match_id=match_id,
            t=0.9,
            branch_id=1,
            ply=1,
            side=1,
            move="e7e5",
            duration_s=0.87,
            usage=USAGE,
        ),
        MoveCommitted(match_id=match_id, t=0.91, record=record[1]),
    ]


async def test_recorder_as_journal_and_subscriber(store: Store) -> None:
    await create(store, "m1")
    bus = EventBus()
    recorder = MatchRecorder(store)
    bus.subscribe(recorder)
    await store.finish_match("m1", "*", "aborted", MatchStats())  # a resume starts it again
    await store.acquire_lease("m1")  # as `prepare_match` does

    started = MatchStarted(
        match_id="m1",
        t=0.0,
        players=("a", "b"),
        speculators=("c", None),
        start_fen=START_FEN,
        ply=0,
    )
    await recorder.record(started)
    assert (await store.get_match("m1")).status == "running"  # type: ignore[union-attr]
    bus.publish(started)
    for event in match_events("m1"):
        if isinstance(event, MoveCommitted):
            await recorder.record(event)
            # Durable: on disk when `record` returns, before anything else is awaited.
            assert (await store.moves("m1"))[-1] == event.record.move
        bus.publish(event)  # type: ignore[arg-type]
    ended = MatchEnded(
        match_id="m1",
        t=1.0,
        result="*",
        termination="max plies",
        stats=MatchStats(plies=2, saved_pct=50.0),
        max_plies=2,
    )
    await recorder.record(ended)
    # `record(MatchEnded)` flushed what the bus had queued so far.
    assert len(await store.get_events("m1")) == 1 + len(match_events("m1"))
    bus.publish(ended)
    await recorder.aclose()

    match = await store.get_match("m1")
    assert match is not None and not store.holds_lease("m1")
    assert (match.status, match.termination, match.saved_pct) == ("finished", "max plies", 50.0)
    assert match.max_plies == 2  # the limit the session ran under, not the one it was created with
    assert await store.moves("m1") == SCHOLAR[:2]
    events = await store.get_events("m1")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.kind for e in events][:3] == ["MatchStarted", "TurnStarted", "GuessesMade"]
    assert events[-1].kind == "MatchEnded" and events[-1].data["stats"]["plies"] == 2
    guesses = next(e for e in events if e.kind == "GuessesMade").data["guesses"]
    assert guesses == [{"move": "e2e4", "probability": 0.6}, {"move": "d2d4", "probability": 0.3}]
    # A committed move's event is a delta: its record is the ply's row, not repeated here.
    committed = next(e for e in events if e.kind == "MoveCommitted")
    first = make_records(SCHOLAR[:2])[0]
    assert committed.data == {
        "match_id": "m1",
        "t": committed.t,
        "ply": 0,
        "side": 0,
        "move": first.move,
    }
    assert (await store.get_plies("m1"))[0] == first

    branches = {b.branch_id: b for b in await store.get_branches("m1")}
    assert branches[1].status == "adopted"
    assert (branches[1].move, branches[1].ended_t, branches[1].usage) == ("e7e5", 0.9, USAGE)
    assert branches[2].status == "cancelled" and branches[2].ended_t == 0.51
    assert branches[3].status == "finished" and branches[3].error == "RuntimeError: boom"
    assert branches[3].path == ("g1f3",) and branches[3].rank == 3
    assert recorder.failed == 0


async def test_recorder_resumed_match_gets_new_branch_rows(store: Store) -> None:
    await create(store, "m1")
    for _ in range(2):  # two runs of the same match; branch ids restart at 1
        async with MatchRecorder(store) as recorder:
            recorder(
                BranchStarted(
                    match_id="m1",
                    t=0.1,
                    branch_id=1,
                    ply=0,
                    side=0,
                    path=(),
                    guess="e2e4",
                    probability=0.5,
                    rank=1,
                    depth=1,
                )
            )
            recorder(
                BranchCancelled(match_id="m1", t=0.2, branch_id=1, ply=0, side=0, running_s=0.1)
            )
    branches = await store.get_branches("m1")
    assert [(b.branch_id, b.status) for b in branches] == [(1, "cancelled"), (1, "cancelled")]
    assert [e.seq for e in await store.get_events("m1")] == [1, 2, 3, 4]


async def test_recorder_for_one_match_ignores_others(store: Store) -> None:
    await create(store, "m1")
    await create(store, "m2")
    async with MatchRecorder(store, "m1") as recorder:
        recorder(TurnStarted(match_id="m1", t=0.1, ply=0, side=0))
        recorder(TurnStarted(match_id="m2", t=0.2, ply=0, side=0))
        await recorder.record(
            MoveCommitted(match_id="m2", t=0.3, record=make_records(SCHOLAR[:1])[0])
        )
    assert [e.t for e in await store.get_events("m1")] == [0.1]
    assert await store.get_events("m2") == [] and await store.moves("m2") == []


async def test_recorder_unknown_match_is_refused_at_start(store: Store) -> None:
    recorder = MatchRecorder(store)
    with pytest.raises(ArenaError, match="create it first"):
        await recorder.record(
            MatchStarted(
                match_id="ghost",
                t=0.0,
                players=("a", "b"),
                speculators=(None, None),
                start_fen=START_FEN,
                ply=0,
            )
        )


async def test_recorder_bad_event_does_not_cost_the_batch(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await create(store, "m1")
    recorder = MatchRecorder(store)
    recorder(TurnStarted(match_id="m1", t=0.1, ply=0, side=0))
    recorder(TurnStarted(match_id="ghost", t=0.2, ply=0, side=0))  # foreign key violation
    recorder(TurnStarted(match_id="m1", t=0.3, ply=1, side=1))
    with caplog.at_level(logging.WARNING, logger="arena.store.recorder"):
        await recorder.aclose()
    assert [e.t for e in await store.get_events("m1")] == [0.1, 0.3]
    assert recorder.failed == 1
    assert "ghost" in caplog.text


async def test_recorder_never_raises_into_the_match(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(tmp_path / "a.db")
    await create(store, "m1")
    bus = EventBus()
    recorder = MatchRecorder(store)
    bus.subscribe(recorder)
    await store.close()
    with caplog.at_level(logging.WARNING, logger="arena.store.recorder"):
        for event in match_events("m1"):
            bus.publish(event)  # type: ignore[arg-type]
        await recorder.flush()
        bus.publish(TurnStarted(match_id="m1", t=2.0, ply=2, side=0))
        await recorder.aclose()
    assert recorder.failed == len(match_events("m1")) + 1
    assert "dropped" in caplog.text
    # The bus kept the recorder: it never raised.
    bus.publish(TurnStarted(match_id="m1", t=3.0, ply=3, side=0))
    assert bus._subscribers == [recorder]
    # Events after `aclose` are ignored, without a task or an error.
    assert recorder.failed == len(match_events("m1")) + 1


async def test_recorder_subscriber_is_non_blocking(store: Store) -> None:
    await create(store, "m1")
    recorder = MatchRecorder(store)
    # Called synchronously with many events: it only queues them.
    t = time.perf_counter()
    for i in range(2000):
        recorder(TurnStarted(match_id="m1", t=i / 1000, ply=i, side=i % 2))
    queued_s = time.perf_counter() - t
    assert await store.get_events("m1") == []  # nothing was written while we did not yield
    await recorder.aclose()
    assert len(await store.get_events("m1")) == 2000
    assert queued_s < 1.0


CRASH_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from arena.core.events import MoveCommitted
    from arena.core.ledger import PlyRecord
    from arena.core.actor import Usage
    from arena.games.chess import ChessState
    from arena.store import MatchRecorder, Store

    async def main(path):
        store = await Store.open(path)
        await store.create_match("crash", "w", "b", None, None, ChessState.from_fen().position(),
                                 None, None, {})
        recorder = MatchRecorder(store)
        state = ChessState.from_fen()
        n = 0
        while True:
            if state.outcome() is not None:
                state = ChessState.from_fen()  # keep going: a new game's moves on a new ply range
            moves = sorted(state.legal_moves())
            move = moves[(n * 7919) % len(moves)]
            after = state.apply(move)
            record = PlyRecord(ply=n, side=state.to_move, move=move, san=state.format_move(move),
                               fen_after=after.position(), decision_s=0.1, wait_s=0.1, wall_s=0.1,
                               saved_s=0.0, hit=False, rank=None, speculated=False,
                               raw="x" * 2000)
            await recorder.record(MoveCommitted(match_id="crash", t=0.0, record=record))
            n += 1
            print(f"ply {n}", flush=True)
            state = after

    asyncio.run(main(sys.argv[1]))
    """
)


def test_a_killed_process_loses_no_committed_ply(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    wanted = 40
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
        text=True,
    )
    printed = 0
    deadline = time.monotonic() + 60
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while printed < wanted:
                assert time.monotonic() < deadline, "the writer did not get far enough"
                if not sel.select(timeout=deadline - time.monotonic()):
                    continue
                line = proc.stdout.readline()
                if not line:
                    pytest.fail(f"writer exited early: {proc.stderr.read() if proc.stderr else ''}")
                printed = int(line.split()[1])
        # Killed while it keeps writing: likely in the middle of the next transaction.
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    async def check() -> None:
        async with await Store.open(path) as store:
            assert await store._scalar("PRAGMA integrity_check") == "ok"
            match = await store.get_match("crash")
            # Its process is gone: it reads as interrupted, with the command that continues it.
            assert match is not None and match.status == "interrupted"
            assert match.resume_command == "arena resume crash"
            plies = await store.get_plies("crash")
            assert len(plies) >= printed
            assert [p.ply for p in plies] == list(range(len(plies)))
            assert all(len(p.raw) == 2000 for p in plies)
            # The stored moves are whole games from the start position, each legal in turn.
            state = ChessState.from_fen()
            for p in plies:
                if state.outcome() is not None:
                    state = ChessState.from_fen()
                assert state.is_legal(p.move)
                state = state.apply(p.move)
                assert p.fen_after == state.position()

    asyncio.run(check())
