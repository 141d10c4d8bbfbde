"""One engine pool per process: pools of one configuration share processes, fairly, and a
decision still depends only on its position."""

from __future__ import annotations

import asyncio

from arena.engines import EngineOptions, EnginePool
from arena.engines.pool import BACKLOG_PER_PROCESS, _cores, _Slots, _top_moves
from arena.games.chess import ChessState
from arena.players.stockfish import EnginePlayer
from arena.speculators.stockfish import EngineSpeculator

MIDDLEGAME = "r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4"


async def test_many_matches_share_the_processes_of_one_configuration() -> None:
    speculators = [EngineSpeculator(EngineOptions(depth=4), "stockfish:depth=4") for _ in range(30)]
    private = EnginePool(EngineOptions(depth=4, keep_hash=True), size=1)
    try:
        for s in speculators:
            await s.start()
        await private.start()
        state = ChessState.from_fen(MIDDLEGAME)
        guesses = [await s.predict(state, 2) for s in speculators]
        # A burst beyond the backlog a speculation may wait behind is refused at once.
        burst = await asyncio.gather(*(s.predict(state, 2) for s in speculators))
        answered = [g for g in burst if g]
        capacity = speculators[0].pool._procs.capacity  # type: ignore[union-attr]
        assert 1 <= len(answered) <= capacity * (1 + BACKLOG_PER_PROCESS)
        assert all(g == guesses[0] for g in answered)
        # One configuration, 30 speculators: at most max(cores, 2) processes, not 30.
        assert 1 <= speculators[0].pool.processes <= max(_cores(), 2)
        assert speculators[0].pool._transports == speculators[-1].pool._transports
        # A hash kept between decisions is never shared with another match.
        assert private._transports != speculators[0].pool._transports
        # A new game (a cleared hash) per search: every speculator saw the same lines.
        assert all(g == guesses[0] for g in guesses)
    finally:
        for s in speculators:
            await s.close()
        await private.close()
    assert speculators[0].pool.processes == 0


async def test_decisions_stay_deterministic_on_shared_processes() -> None:
    a = EnginePlayer(EngineOptions(nodes=20000), "stockfish:nodes=20000", concurrency=1)
    b = EnginePlayer(EngineOptions(nodes=5000), "stockfish:nodes=5000", concurrency=1)
    await a.start()
    await b.start()
    try:
        assert a.pool._transports == b.pool._transports  # same UCI options: same processes
        state = ChessState.from_fen(MIDDLEGAME)
        first = (await a.decide(state)).move
        await b.decide(ChessState.from_fen(None))  # another match's search in between
        assert (await a.decide(state)).move == first
    finally:
        await a.close()
        await b.close()


async def test_slots_serve_searches_in_the_order_they_asked() -> None:
    slots = _Slots(1)
    order: list[int] = []
    await slots.acquire()

    async def search(i: int) -> None:
        await slots.acquire()
        order.append(i)
        await asyncio.sleep(0)
        slots.release()

    tasks = [asyncio.ensure_future(search(i)) for i in range(5)]
    await asyncio.sleep(0)
    tasks[2].cancel()  # a cancelled waiter gives up its place, not anyone else's
    slots.release()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == [0, 1, 3, 4]
    slots.grow(3)
    for _ in range(3):
        await asyncio.wait_for(slots.acquire(), 1)


async def test_a_search_still_waiting_when_its_pool_closes_starts_nothing() -> None:
    pool = EnginePool(EngineOptions(movetime=1.0, keep_hash=True), size=1)
    await pool.start()
    state = ChessState.from_fen(MIDDLEGAME)
    running = asyncio.ensure_future(pool.play(state.board, game=object(), info=0))  # type: ignore[arg-type]
    waiting = asyncio.ensure_future(pool.analyse(state.board, multipv=1))
    await asyncio.sleep(0.2)
    procs = pool._procs
    await pool.close()
    results = await asyncio.gather(running, waiting, return_exceptions=True)
    # The running search ended before its process quit; the waiting one never started.
    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], asyncio.CancelledError) or waiting.cancelled()
    assert procs is not None and procs.processes == 0


async def test_an_analysis_no_longer_wanted_when_a_process_frees_is_dropped() -> None:
    pool = EnginePool(EngineOptions(depth=8), size=1)
    await pool.start()
    try:
        start = ChessState.from_fen(None)
        fen = start.position()
        assert await pool.top_moves(fen, multipv=2, wanted=lambda: False) == []
        lines = await pool.top_moves(fen, multipv=2, wanted=lambda: True)
        assert len(lines) == 2 and all(start.is_legal(line.move) for line in lines)
    finally:
        await pool.close()


MATE_IN_ONE = "6k1/5ppp/8/8/8/8/5PPP/3R2K1 w - - 0 1"


async def test_top_moves_are_the_lines_python_chess_reports() -> None:
    """The light MultiPV search gives the same first moves and scores as python-chess's full
    analysis of the same position (hash cleared, one thread: Stockfish is deterministic)."""
    pool = EnginePool(EngineOptions(depth=8), size=1)
    await pool.start()
    try:
        for fen in (MIDDLEGAME, MATE_IN_ONE, ChessState.from_fen(None).position()):
            board = ChessState.from_fen(fen).board
            infos = await pool.analyse(board, multipv=3)
            full = [
                (i["pv"][0].uci(), i["score"].pov(board.turn).score(mate_score=10000))
                for i in infos
            ]
            light = await pool.top_moves(fen, multipv=3)
            assert [(t.move, t.score_cp) for t in light] == full, fen
        assert (await pool.top_moves(MATE_IN_ONE, multipv=1))[0].score_cp == 10000 - 1
    finally:
        await pool.close()


def test_top_moves_read_each_lines_last_report() -> None:
    lines = {
        1: "info depth 9 seldepth 4 multipv 1 score mate 2 nodes 10 pv d1d8 g8h7",
        2: "info depth 9 multipv 2 score cp -35 lowerbound nodes 10 pv a2a3 h7h6",
        3: "info depth 9 multipv 3 score mate -3 pv g1f1",
        4: "info depth 9 multipv 4 nodes 10",  # no score, no pv: left out
    }
    assert [(t.move, t.score_cp) for t in _top_moves(lines)] == [
        ("d1d8", 9998),
        ("a2a3", -35),
        ("g1f1", -9997),
    ]


async def test_a_cancelled_top_moves_search_leaves_its_engine_usable() -> None:
    pool = EnginePool(EngineOptions(depth=30), size=1)
    await pool.start()
    try:
        for pause in (0.0, 0.2):  # while the engine gets ready, then while it searches
            search = asyncio.ensure_future(pool.top_moves(MIDDLEGAME, multipv=2))
            await asyncio.sleep(pause)
            search.cancel()
            await asyncio.gather(search, return_exceptions=True)
        quick = EnginePool(EngineOptions(depth=6), size=1)
        await quick.start()
        try:
            lines = await asyncio.wait_for(quick.top_moves(MIDDLEGAME, multipv=2), 10)
            assert len(lines) == 2
        finally:
            await quick.close()
        assert pool.processes == 1
    finally:
        await pool.close()
