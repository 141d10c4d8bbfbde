"""The replay database through the CLI: one writer per match, kill -9 and resume, double signals,
mistyped and foreign database files."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import Run

SLOW_MATCH = ["--white", "stockfish:movetime=200", "--black", "stockfish:movetime=200"]


def start_match(tmp_path: Path, db: Path, *extra: str) -> subprocess.Popen[str]:
    """A headless match that keeps playing (80 plies at 0.2 s a move), started in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "arena", "play", "--headless", *SLOW_MATCH, "--max-plies", "80",
         "--db", str(db), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "ARENA_DB"},
    )  # fmt: skip


def wait_for_plies(proc: subprocess.Popen[str], count: int, match_id: str = "") -> str:
    """Reads the match's progress on stderr until `count` more plies were printed; the match id."""
    assert proc.stderr is not None
    seen = 0
    for line in proc.stderr:  # ends at EOF if the process died, and the checks below fail
        if line.startswith("match "):
            match_id = line.split()[1].rstrip(":")
        elif "think" in line:
            seen += 1
            if seen >= count:
                break
    assert match_id and seen >= count, "the match did not get going"
    return match_id


def listed(arena: Run, db: Path) -> dict[str, dict[str, object]]:
    proc = arena("replays", "--json", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return {m["match_id"]: m for m in json.loads(proc.stdout)}


@pytest.mark.slow
def test_one_writer_per_match_and_resume_after_kill(tmp_path: Path, arena: Run) -> None:
    db = tmp_path / "d.db"
    proc = start_match(tmp_path, db)
    try:
        match_id = wait_for_plies(proc, 2)
        # While it plays, a resume is refused in one line, and it writes nothing.
        refused = arena("resume", match_id, "--headless", "--db", str(db), timeout=60)
        assert refused.returncode == 2, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1
        assert f"match {match_id} is being played by process {proc.pid}" in lines[0]
        assert listed(arena, db)[match_id]["status"] == "running"
        wait_for_plies(proc, 2, match_id)  # the first process played on, undisturbed
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait(timeout=30)

    # Killed: it lists as interrupted with the command that continues it.
    match = listed(arena, db)[match_id]
    assert match["status"] == "interrupted" and match["resume"] == f"arena resume {match_id}"
    played = int(match["plies"])  # type: ignore[call-overload]
    resumed = arena(
        "resume", match_id, "--headless", "--json", "--max-plies", str(played + 2),
        "--db", str(db), timeout=120,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    match = listed(arena, db)[match_id]
    assert (match["status"], match["plies"], match["max_plies"]) == (
        "finished",
        played + 2,
        played + 2,
    )
    with sqlite3.connect(db) as conn:
        statuses = {row[0] for row in conn.execute("SELECT status FROM branches")}
        assert "running" not in statuses
        assert conn.execute("SELECT COUNT(*) FROM leases").fetchone() == (0,)
        # The stored game is legal from start to end.
        moves = [r[0] for r in conn.execute("SELECT move FROM plies ORDER BY ply")]
    import chess

    board = chess.Board()
    for move in moves:
        assert chess.Move.from_uci(move) in board.legal_moves
        board.push_uci(move)


@pytest.mark.slow
@pytest.mark.parametrize("signals", [2, 4])
def test_repeated_sigterm_still_writes_the_end(tmp_path: Path, arena: Run, signals: int) -> None:
    """What `timeout` or a process-group kill sends: the end row lands, the process exits."""
    db = tmp_path / "d.db"
    proc = start_match(tmp_path, db)
    try:
        match_id = wait_for_plies(proc, 1)
        for _ in range(signals):
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.001)
        assert proc.wait(timeout=60) == 143
        assert proc.stderr is not None
        rest = proc.stderr.read()
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert "closed database" not in rest and "Traceback" not in rest
    match = listed(arena, db)[match_id]
    assert (match["status"], match["termination"]) == ("stopped", "aborted")
    assert match["resume"] == f"arena resume {match_id}"


def test_read_only_commands_never_create_a_database(tmp_path: Path, arena: Run) -> None:
    typo = tmp_path / "replay" / "arnea.db"
    commands = (
        ["replays", "--json"],
        ["replays"],
        ["replay", "abc"],
        ["export", "abc"],
        ["resume", "abc", "--headless"],
    )
    for args in commands:
        proc = arena(*args, "--db", str(typo))
        assert proc.returncode == 2, (args, proc.stderr)
        (line,) = proc.stderr.strip().splitlines()
        assert f"no replay database at {typo}" in line
    assert not typo.exists() and not typo.parent.exists()


def test_a_foreign_database_is_named_and_left_alone(tmp_path: Path, arena: Run) -> None:
    other = tmp_path / "shop.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE matches (id INTEGER PRIMARY KEY, score TEXT)")
    before = other.read_bytes()
    for args in (["replays", "--json"], ["play", "--headless", "--white", "random",
                                         "--black", "random", "--max-plies", "2"]):  # fmt: skip
        proc = arena(*args, "--db", str(other))
        assert proc.returncode == 2, proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert "not an arena replay database" in line and "writable" not in line
    assert other.read_bytes() == before


def test_a_corrupt_stats_row_does_not_break_listing_or_export(tmp_path: Path, arena: Run) -> None:
    db = tmp_path / "d.db"
    played = arena(
        "play", "--headless", "--json", "--white", "random", "--black", "random",
        "--max-plies", "4", "--no-speculation", "--db", str(db),
    )  # fmt: skip
    assert played.returncode == 0, played.stderr
    match_id = json.loads(played.stdout)["match_id"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE matches SET stats_json = '{\"plies\": NaN, oops'")
    match = listed(arena, db)[match_id]
    assert match["stats"] is None and match["stats_unreadable"] is True
    exported = arena("export", match_id, "--format", "json", "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads(exported.stdout)["moves"]) == 4
