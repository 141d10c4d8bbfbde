"""One writer per match: the lease a process holds while it plays a match."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from arena.core.events import BranchStarted, BranchStatus
from arena.core.ledger import MatchStats
from arena.store import LeaseLostError, MatchBusyError, MatchRecorder, MatchStatus, Store
from arena.store.db import LEASE_STALE_S

from .test_store import SCHOLAR, create, make_records


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


async def fake_lease(
    store: Store, match_id: str, pid: int, *, host: str | None = None, age_s: float = 0.0
) -> None:
    """A lease row as another process would have left it."""
    async with store._transaction() as db:
        await db.execute(
            "INSERT OR REPLACE INTO leases (match_id, token, pid, host, acquired_at, heartbeat)"
            " VALUES (?, 'other-token', ?, ?, 'then', ?)",
            (match_id, pid, host or socket.gethostname(), time.time() - age_s),
        )


async def running_branch(store: Store, match_id: str) -> None:
    await store.append_events(
        [
            BranchStarted(
                match_id=match_id,
                t=0.1,
                branch_id=1,
                ply=0,
                side=1,
                path=("e2e4",),
                guess="e2e4",
                probability=0.5,
                rank=1,
                depth=1,
            )
        ]
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "arena.db"


async def test_a_live_holder_keeps_the_match(db: Path) -> None:
    async with await Store.open(db) as first, await Store.open(db) as second:
        await create(first, "m1")
        lease = await first.acquire_lease("m1")
        assert (lease.pid, lease.host) == (os.getpid(), socket.gethostname())
        assert await first.acquire_lease("m1") == lease  # held already: the same lease
        # Another writer (here: another connection of a live process) is refused, in one line.
        with pytest.raises(MatchBusyError) as info:
            await second.acquire_lease("m1")
        message = str(info.value)
        assert f"match m1 is being played by process {os.getpid()}" in message
        assert "\n" not in message and info.value.exit_code == 2
        # Writing without the lease is refused too, and nothing lands.
        with pytest.raises(MatchBusyError):
            await second.add_ply("m1", make_records(SCHOLAR[:1])[0])
        assert await first.moves("m1") == []
        row = await second.get_match("m1")
        assert row is not None and row.status == MatchStatus.RUNNING
        assert row.lease_pid == os.getpid() and row.resume_command is None
        # Finishing the match gives the lease up; then anyone may take it.
        await first.add_ply("m1", make_records(SCHOLAR[:1])[0])
        await first.finish_match("m1", "*", "aborted", MatchStats(plies=1))
        assert not first.holds_lease("m1")
        await second.acquire_lease("m1")


@pytest.mark.parametrize(
    "holder",
    ["dead pid", "silent for too long", "other host, silent"],
)
async def test_a_stale_lease_is_taken_over(db: Path, holder: str) -> None:
    async with await Store.open(db) as store:
        await create(store, "m1")
        await store.add_ply("m1", make_records(SCHOLAR[:1])[0])
        await running_branch(store, "m1")
        if holder == "dead pid":
            await fake_lease(store, "m1", dead_pid())
        elif holder == "silent for too long":
            await fake_lease(store, "m1", os.getpid(), age_s=LEASE_STALE_S + 5)
        else:
            await fake_lease(store, "m1", 1, host="elsewhere", age_s=LEASE_STALE_S + 5)
        row = await store.get_match("m1")
        assert row is not None and row.status == MatchStatus.INTERRUPTED
        assert row.resume_command == "arena resume m1" and row.as_dict()["resume"]
        lease = await store.acquire_lease("m1")
        assert lease.token != "other-token"
        # What the dead process left running will never finish.
        assert [b.status for b in await store.get_branches("m1")] == [BranchStatus.CANCELLED]
        await store.add_ply("m1", make_records(SCHOLAR[:2])[1])
        assert await store.moves("m1") == SCHOLAR[:2]


async def test_a_live_lease_on_another_host_is_respected(db: Path) -> None:
    async with await Store.open(db) as store:
        await create(store, "m1")
        await fake_lease(store, "m1", 1, host="elsewhere", age_s=1.0)
        with pytest.raises(MatchBusyError, match="process 1 on elsewhere"):
            await store.acquire_lease("m1")


async def test_a_writer_whose_lease_was_taken_over_stops(db: Path) -> None:
    records = make_records(SCHOLAR[:3])
    async with await Store.open(db) as old, await Store.open(db) as new:
        await create(old, "m1")
        await old.acquire_lease("m1")
        await old.add_ply("m1", records[0])
        # Say the old process hung long enough to be declared gone, and a resume took over.
        async with new._transaction() as conn:
            await conn.execute("UPDATE leases SET heartbeat = heartbeat - ?", (LEASE_STALE_S + 5,))
        await new.acquire_lease("m1")
        await new.add_ply("m1", records[1])
        with pytest.raises(LeaseLostError, match="taken over by process") as info:
            await old.add_ply("m1", records[1])
        assert info.value.exit_code == 2
        assert not old.holds_lease("m1")
        # The old writer's end-of-match row is refused as well.
        with pytest.raises(Exception, match="being played"):
            await old.finish_match("m1", "1-0", "checkmate", MatchStats())
        assert await new.moves("m1") == SCHOLAR[:2]
        assert (await new.get_match("m1")).status == "running"  # type: ignore[union-attr]


async def test_the_recorder_gives_the_lease_up_at_close(db: Path) -> None:
    async with await Store.open(db) as store:
        await create(store, "m1")
        await store.acquire_lease("m1")
        async with MatchRecorder(store, "m1"):
            pass
        assert not store.holds_lease("m1")
        row = await store.get_match("m1")
        assert row is not None and row.status == MatchStatus.INTERRUPTED


async def test_leases_are_renewed(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("arena.store.db.LEASE_HEARTBEAT_S", 0.01)
    async with await Store.open(db) as store:
        await create(store, "m1")
        await store.acquire_lease("m1")
        first = await store._scalar("SELECT heartbeat FROM leases")
        deadline = time.monotonic() + 10
        while await store._scalar("SELECT heartbeat FROM leases") == first:
            assert time.monotonic() < deadline, "the heartbeat never renewed the lease"
            await asyncio.sleep(0.02)
    # Closing the store stopped the renewer.
    assert store._heartbeat is None
