"""The store's group-commit writer: one transaction per pass for every match in flight, each
ply durable before its match moves on, and nothing a process reported committed lost to kill -9."""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from arena.core.actor import Usage
from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    MoveCommitted,
    TurnStarted,
)
from arena.core.ledger import PlyRecord
from arena.games.chess import START_FEN, ChessState
from arena.store import LeaseLostError, MatchRecorder, Store

ROOT = Path(__file__).resolve().parents[2]


def _record(ply: int, state: ChessState, move: str) -> PlyRecord:
    after = state.apply(move)
    return PlyRecord(
        ply=ply,
        side=state.to_move,
        move=move,
        san=state.format_move(move),
        fen_after=after.position(),
        decision_s=0.1,
        wait_s=0.1,
        wall_s=0.1,
        saved_s=0.0,
        hit=False,
        rank=None,
        speculated=False,
    )


async def _create(store: Store, match_id: str) -> None:
    await store.acquire_lease(match_id)
    await store.create_match(match_id, "w", "b", None, None, START_FEN, None, None, {})


async def test_plies_of_many_matches_share_a_transaction(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.db")
    try:
        ids = [f"m{i}" for i in range(50)]
        for mid in ids:
            await _create(store, mid)
        start = ChessState.from_fen()
        first = store.passes

        async def play(mid: str) -> None:
            state = start
            for ply in range(4):
                move = sorted(state.legal_moves())[ply % 3]
                await store.add_ply(mid, _record(ply, state, move))
                # Durable before the match moves on.
                assert (await store.moves(mid))[-1] == move
                state = state.apply(move)

        await asyncio.gather(*(play(mid) for mid in ids))
        passes = store.passes - first
        assert [len(await store.moves(mid)) for mid in ids] == [4] * len(ids)
        # 200 plies; grouped, far fewer transactions than plies.
        assert passes < 100, passes
    finally:
        await store.close()


async def test_a_failed_write_does_not_cost_its_pass(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.db")
    try:
        await _create(store, "m1")
        await _create(store, "m2")
        state = ChessState.from_fen()
        # m2 is taken over by someone else: its ply fails, m1's in the same pass lands.
        async with store._transaction() as db:
            await db.execute("UPDATE leases SET token = 'other' WHERE match_id = 'm2'")
        results = await asyncio.gather(
            store.add_ply("m1", _record(0, state, "e2e4")),
            store.add_ply("m2", _record(0, state, "e2e4")),
            store.add_ply("ghost", _record(0, state, "e2e4")),
            return_exceptions=True,
        )
        assert results[0] is None
        assert isinstance(results[1], LeaseLostError)
        assert isinstance(results[2], sqlite3.IntegrityError | Exception)
        assert not store.holds_lease("m2")
        assert await store.moves("m1") == ["e2e4"]
        assert await store.moves("m2") == []
    finally:
        await store.close()


async def test_close_waits_for_submitted_plies(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    store = await Store.open(path)
    await _create(store, "m1")
    recorder = MatchRecorder(store, "m1")
    state = ChessState.from_fen()
    writes = []
    for ply in range(20):
        move = sorted(state.legal_moves())[0]
        recorder(TurnStarted(match_id="m1", t=0.0, ply=ply, side=state.to_move))
        writes.append(asyncio.ensure_future(store.add_ply("m1", _record(ply, state, move))))
        state = state.apply(move)
    await asyncio.sleep(0)
    await recorder.flush()
    await store.close()
    await asyncio.gather(*writes)
    async with await Store.open(path) as again:
        assert len(await again.moves("m1")) == 20
        assert len(await again.get_events("m1")) == 20


LOAD_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from arena.core.events import EventBus, MoveCommitted, TurnStarted
    from arena.core.ledger import PlyRecord
    from arena.games.chess import ChessState
    from arena.store import MatchRecorder, Store

    async def play(store, mid, k):
        await store.acquire_lease(mid)
        await store.create_match(mid, "w", "b", None, None, ChessState.from_fen().position(),
                                 None, None, {})
        recorder = MatchRecorder(store, mid)
        bus = EventBus()
        bus.subscribe(recorder)
        state = ChessState.from_fen()
        n = 0
        while True:
            if state.outcome() is not None:
                state = ChessState.from_fen()
            moves = sorted(state.legal_moves())
            move = moves[(n * 7919 + k) % len(moves)]
            after = state.apply(move)
            bus.publish(TurnStarted(match_id=mid, t=0.0, ply=n, side=state.to_move))
            record = PlyRecord(ply=n, side=state.to_move, move=move, san=state.format_move(move),
                               fen_after=after.position(), decision_s=0.1, wait_s=0.1,
                               wall_s=0.1, saved_s=0.0, hit=False, rank=None, speculated=False,
                               raw="x" * 500)
            await recorder.record(MoveCommitted(match_id=mid, t=0.0, record=record))
            n += 1
            print(f"{mid} {n}", flush=True)
            state = after

    async def main(path, games):
        store = await Store.open(path)
        await asyncio.gather(*(play(store, f"m{i}", i) for i in range(games)))

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


def test_kill_9_under_load_loses_no_committed_ply(tmp_path: Path) -> None:
    """50 matches in flight in one process; SIGKILL; every ply it reported is on disk."""
    path = tmp_path / "load.db"
    games = 50
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", LOAD_SCRIPT, str(path), str(games)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
        text=True,
    )
    reported: dict[str, int] = {}
    deadline = time.monotonic() + 90
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while len(reported) < games or min(reported.values()) < 8:
                assert time.monotonic() < deadline, "the writer did not get far enough"
                if not sel.select(timeout=deadline - time.monotonic()):
                    continue
                line = proc.stdout.readline()
                if not line:
                    pytest.fail(f"writer exited early: {proc.stderr.read() if proc.stderr else ''}")
                mid, n = line.split()
                reported[mid] = int(n)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    async def check() -> None:
        async with await Store.open(path) as store:
            assert await store._scalar("PRAGMA integrity_check") == "ok"
            for mid, n in reported.items():
                plies = await store.get_plies(mid)
                assert len(plies) >= n, (mid, len(plies), n)
                assert [p.ply for p in plies] == list(range(len(plies)))

    asyncio.run(check())


async def test_events_store_deltas_not_histories(tmp_path: Path) -> None:
    """A branch deep in a game stores its guesses, not the game's moves again; it reads back
    whole. A committed move's event is its ply and move (the record is the ply's row)."""
    store = await Store.open(tmp_path / "a.db")
    try:
        await _create(store, "m1")
        state = ChessState.from_fen()
        for ply in range(40):
            move = sorted(state.legal_moves())[ply % 2]
            await store.add_ply("m1", _record(ply, state, move))
            state = state.apply(move)
        guess = sorted(state.legal_moves())[0]
        reply = sorted(state.apply(guess).legal_moves())[0]
        async with MatchRecorder(store, "m1") as recorder:
            for depth, path in ((1, (*state.path, guess)), (2, (*state.path, guess, reply))):
                recorder(
                    BranchStarted(
                        match_id="m1",
                        t=0.1,
                        branch_id=depth,
                        ply=len(path),
                        side=depth % 2,
                        path=path,
                        guess=path[-1],
                        probability=0.5,
                        rank=1,
                        depth=depth,
                    )
                )
            recorder(MoveCommitted(match_id="m1", t=0.2, record=_record(40, state, guess)))
        rows = await store._rows("SELECT path FROM branches WHERE match_id = 'm1' ORDER BY id")
        assert [r[0] for r in rows] == [guess, f"{guess} {reply}"]
        events = await store.get_events("m1")
        assert [e.data["path"] for e in events[:2]] == [[guess], [guess, reply]]
        assert events[2].data == {"match_id": "m1", "t": 0.2, "ply": 40, "side": 0, "move": guess}
        branches = await store.get_branches("m1")
        assert [b.path for b in branches] == [(*state.path, guess), (*state.path, guess, reply)]
    finally:
        await store.close()


def _started(match_id: str, branch: int) -> BranchStarted:
    """The start of a depth-1 branch guessing 1. e4, ranked by its id."""
    return BranchStarted(
        match_id=match_id,
        t=0.1,
        branch_id=branch,
        ply=1,
        side=1,
        path=("e2e4",),
        guess="e2e4",
        probability=0.4,
        rank=branch,
        depth=1,
    )


async def test_a_pass_numbers_and_applies_the_events_of_many_matches_in_order(
    tmp_path: Path,
) -> None:
    """Events of several matches queued together land in one pass, numbered per match in the
    order they came, and their effect on `branches` follows that order (started, then
    cancelled or adopted); the next pass numbers on from there."""
    store = await Store.open(tmp_path / "a.db")
    try:
        ids = ("m1", "m2", "m3")
        for mid in ids:
            await _create(store, mid)

        first = store.passes
        for mid in ids:
            store.queue_event(_started(mid, 1))
            store.queue_event(_started(mid, 2))
        for mid in ids:
            store.queue_event(
                BranchCancelled(match_id=mid, t=0.2, branch_id=2, ply=1, side=1, running_s=0.1)
            )
            store.queue_event(
                BranchAdopted(match_id=mid, t=0.3, branch_id=1, ply=1, side=1, ready=False)
            )
        await store.append_events([TurnStarted(match_id="m2", t=0.4, ply=1, side=1)])
        assert store.passes - first == 1
        await store.append_events([TurnStarted(match_id="m2", t=0.5, ply=2, side=0)])
        for mid in ids:
            rows = await store._rows(
                "SELECT seq, kind FROM events WHERE match_id = ? ORDER BY seq", (mid,)
            )
            kinds = ["BranchStarted", "BranchStarted", "BranchCancelled", "BranchAdopted"]
            if mid == "m2":
                kinds += ["TurnStarted", "TurnStarted"]
            assert [tuple(r) for r in rows] == list(enumerate(kinds, 1))
            statuses = await store._rows(
                "SELECT branch_id, status FROM branches WHERE match_id = ? ORDER BY branch_id",
                (mid,),
            )
            assert [tuple(r) for r in statuses] == [(1, "adopted"), (2, "cancelled")]
    finally:
        await store.close()


async def test_a_branch_finished_and_adopted_in_one_pass_ends_adopted_either_way(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "a.db")
    try:
        await _create(store, "m1")
        usage = Usage(input_tokens=3, output_tokens=4)
        for branch in (1, 2):
            store.queue_event(_started("m1", branch))
        finished = {
            b: BranchFinished(
                match_id="m1",
                t=0.3,
                branch_id=b,
                ply=1,
                side=1,
                move="e7e5",
                duration_s=0.2,
                usage=usage,
            )
            for b in (1, 2)
        }
        adopted = {
            b: BranchAdopted(match_id="m1", t=0.2, branch_id=b, ply=1, side=1, ready=b == 1)
            for b in (1, 2)
        }
        # Branch 1 finished, then was adopted; branch 2 was adopted while it ran.
        for event in (finished[1], adopted[1], adopted[2], finished[2]):
            store.queue_event(event)
        await store.append_events([])
        store.flush_soon()
        await store._drain_writes()
        rows = await store._rows(
            "SELECT branch_id, status, move, ended_t FROM branches WHERE match_id = 'm1'"
            " ORDER BY branch_id"
        )
        want = [(b, "adopted", "e7e5", 0.3) for b in (1, 2)]
        assert [tuple(r) for r in rows] == want
    finally:
        await store.close()


async def test_a_recorder_counts_the_events_that_could_not_land_and_flush_waits_for_the_rest(
    tmp_path: Path,
) -> None:
    """Queued events carry no future each: a failure is reported to the recorder alone, the
    others of the same pass land, and `flush` returns once the pass that carries them is done."""
    store = await Store.open(tmp_path / "a.db")
    try:
        await _create(store, "m1")
        recorder = MatchRecorder(store)
        recorder(_started("m1", 1))
        recorder(_started("ghost", 1))  # no such match: its rows break a foreign key
        recorder(_started("m1", 2))
        assert recorder.failed == 0  # nothing is written before the pass
        await recorder.flush()
        assert recorder.failed == 1
        rows = await store._rows("SELECT match_id, seq FROM events ORDER BY match_id, seq")
        assert [tuple(r) for r in rows] == [("m1", 1), ("m1", 2)]
        # Nothing queued: flush returns at once; queued while a pass runs: it waits for the next.
        await recorder.flush()
        recorder(_started("m1", 3))
        store.flush_soon()
        recorder(_started("m1", 4))
        await recorder.flush()
        rows = await store._rows("SELECT seq FROM events WHERE match_id = 'm1' ORDER BY seq")
        assert [r[0] for r in rows] == [1, 2, 3, 4]
        assert recorder.failed == 1
    finally:
        await store.close()


async def test_closing_the_store_reports_queued_events_as_failed_and_frees_their_waiters(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "a.db")
    await _create(store, "m1")
    errors: list[BaseException] = []
    store.queue_event(_started("m1", 1), errors.append)
    waiter = asyncio.ensure_future(store.written())
    await asyncio.sleep(0)
    store._stop_writer()
    await asyncio.wait_for(waiter, 5)
    assert len(errors) == 1 and "closed" in str(errors[0])
    await store.close()
