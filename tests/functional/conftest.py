"""Fast deterministic players for Pilot tests, and helpers to wait on the app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import chess
import pytest
from textual.pilot import Pilot

from arena.core.actor import Actor, Decision, Guess, Speculator, Usage
from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    Event,
    GuessesMade,
    MatchEnded,
    MatchStarted,
    MoveCommitted,
    PlyRecord,
    TurnStarted,
)
from arena.core.game import GameState, Outcome
from arena.core.match import Match, MatchSummary, Seat
from arena.core.policy import NO_SPECULATION, SpeculationPolicy
from arena.games.chess import ChessState

SCHOLAR = ["e4", "e5", "Bc4", "Nc6", "Qh5", "Nf6", "Qxf7#"]
"""A short game that ends in checkmate at ply 7."""

BLACK_GUESSES = {0: [("e4", 0.6), ("d4", 0.3)], 2: [("Nf3", 0.5), ("Bc4", 0.3)], 4: [("d3", 0.7)]}
"""Black's guesses of White's moves: a hit at rank 1 (ply 0), rank 2 (ply 2), a miss (ply 4)."""
WHITE_GUESSES = {1: [("e5", 0.5), ("c5", 0.4)], 3: [("Nf6", 0.6)], 5: [("Nf6", 0.8), ("g6", 0.1)]}
"""White's guesses of Black's moves: hit (ply 1), miss (ply 3), hit (ply 5)."""


def to_uci(sans: Sequence[str], fen: str | None = None) -> list[str]:
    board = chess.Board(fen or chess.STARTING_FEN)
    out = []
    for text in sans:
        move = board.parse_san(text)
        out.append(move.uci())
        board.push(move)
    return out


class ScriptedActor(Actor):
    """Plays a fixed game after a fixed latency; off the script it plays the first legal move.

    The move depends only on the state, as the speculation engine requires.
    """

    def __init__(
        self,
        game: Sequence[str],
        latency: float = 0.05,
        spec: str = "scripted",
        usage: Usage | None = None,
    ) -> None:
        self.game = to_uci(game)
        self.latency = latency
        self.spec = spec
        self.name = spec
        self.usage = usage or Usage()
        self.calls: list[str] = []
        self.closed = False

    async def close(self) -> None:
        self.closed = True

    def move_for(self, state: GameState) -> str:
        ply = state.ply
        if ply < len(self.game) and tuple(self.game[:ply]) == state.path:
            return self.game[ply]
        return sorted(state.legal_moves())[0]

    async def decide(self, state: GameState) -> Decision:
        self.calls.append(state.key())
        await asyncio.sleep(self.latency)
        move = self.move_for(state)
        return Decision(move=move, raw=move, usage=self.usage)


class ListSpeculator(Speculator):
    """Guesses from a script: at ply n the moves (SAN or UCI) and probabilities of `guesses[n]`."""

    def __init__(self, guesses: dict[int, list[tuple[str, float]]], spec: str = "list") -> None:
        self.guesses = guesses
        self.spec = spec
        self.name = spec

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        out = []
        for text, p in self.guesses.get(state.ply, [])[:k]:
            move = state.parse_move(text)
            if move is not None:
                out.append(Guess(move, p))
        return out


def scholar_match(
    white_latency: float = 0.05,
    black_latency: float = 0.08,
    *,
    white: Actor | None = None,
    black: Actor | None = None,
    max_plies: int | None = None,
    speculate: bool = True,
) -> Match:
    """Scholar's mate between scripted players, each guessing the other's moves from a list."""
    seats = (
        Seat(
            white or ScriptedActor(SCHOLAR, white_latency, "scripted-white"),
            ListSpeculator(WHITE_GUESSES, "list-white"),
        ),
        Seat(
            black or ScriptedActor(SCHOLAR, black_latency, "scripted-black"),
            ListSpeculator(BLACK_GUESSES, "list-black"),
        ),
    )
    return Match(
        "test-match",
        ChessState.from_fen(None),
        seats,
        policy=SpeculationPolicy(k=3) if speculate else NO_SPECULATION,
        max_plies=max_plies,
    )


async def wait_until(
    pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Lets the app run until `predicate` holds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        await pilot.pause(0.01)


class ReplayedMatch(Match):
    """A match whose `run` publishes a fixed list of events: timings are exact, for snapshots."""

    def __init__(self, events: list[Event], summary: MatchSummary, seats: tuple[Seat, Seat]):
        super().__init__("snapshot", ChessState.from_fen(None), seats, policy=SpeculationPolicy())
        self.events = events
        self.summary = summary

    async def run(self) -> MatchSummary:
        for event in self.events:
            self.bus.publish(event)
            await asyncio.sleep(0)
        return self.summary


def scholar_events() -> tuple[list[Event], MatchSummary]:
    """The events of a Scholar's mate with speculation, with made-up but fixed timings."""
    mid = "snapshot"
    moves = to_uci(SCHOLAR)
    guesses_by_ply = {**BLACK_GUESSES, **WHITE_GUESSES}
    state = ChessState.from_fen(None)
    events: list[Event] = [
        MatchStarted(
            match_id=mid,
            t=0.0,
            players=("scripted-white", "scripted-black"),
            speculators=("list-white", "list-black"),
            start_fen=state.position(),
            ply=0,
        )
    ]
    t = 0.0
    branch_id = 0
    adopted: int | None = None
    records: list[PlyRecord] = []
    think = [1.2, 1.6, 0.9, 2.1, 1.4, 1.8, 0.7]
    for ply, move in enumerate(moves):
        side = state.to_move
        events.append(TurnStarted(match_id=mid, t=t, ply=ply, side=side))
        hit = adopted is not None
        if adopted is not None:
            events.append(
                BranchAdopted(
                    match_id=mid, t=t, branch_id=adopted, ply=ply, side=side, ready=ply % 2 == 1
                )
            )
        guesses = tuple(
            Guess(g, p)
            for g, p in ((state.parse_move(s), p) for s, p in guesses_by_ply.get(ply, []))
            if g is not None
        )
        next_pending: dict[str, int] = {}
        if guesses:
            events.append(
                GuessesMade(
                    match_id=mid,
                    t=t + 0.05,
                    ply=ply,
                    side=1 - side,
                    guesses=guesses,
                    predict_s=0.05,
                )
            )
            for n, g in enumerate(guesses, 1):
                child = state.apply(g.move)
                if child.outcome() is not None:
                    continue
                branch_id += 1
                next_pending[g.move] = branch_id
                events.append(
                    BranchStarted(
                        match_id=mid,
                        t=t + 0.06,
                        branch_id=branch_id,
                        ply=ply + 1,
                        side=1 - side,
                        path=child.path,
                        guess=g.move,
                        probability=g.probability,
                        rank=n,
                        depth=1,
                    )
                )
        decision = think[ply]
        wait = 0.1 if hit else decision
        saved = decision - wait if hit else 0.0
        t += wait
        for guess, bid in next_pending.items():
            if guess == move:
                continue
            events.append(
                BranchCancelled(
                    match_id=mid,
                    t=t,
                    branch_id=bid,
                    ply=ply + 1,
                    side=1 - side,
                    running_s=wait - 0.06,
                )
            )
        if move in next_pending:
            reply = ScriptedActor(SCHOLAR).move_for(state.apply(move))
            events.append(
                BranchFinished(
                    match_id=mid,
                    t=t,
                    branch_id=next_pending[move],
                    ply=ply + 1,
                    side=1 - side,
                    move=reply,
                    duration_s=0.8,
                    usage=Usage(),
                )
            )
            adopted = next_pending[move]
        else:
            adopted = None
        rank = next((i for i, g in enumerate(guesses, 1) if g.move == move), None)
        usage = Usage(input_tokens=900 + 10 * ply, output_tokens=40, cost_usd=0.0012)
        after = state.apply(move)
        record = PlyRecord(
            ply=ply,
            side=side,
            move=move,
            san=state.format_move(move),
            fen_after=after.position(),
            decision_s=decision,
            wait_s=wait,
            wall_s=wait,
            saved_s=saved,
            hit=hit,
            rank=rank,
            speculated=bool(guesses),
            guesses=guesses,
            branches_started=len(next_pending),
            branches_cancelled=0,
            branches_wasted=max(0, len(next_pending) - (move in next_pending)),
            usage=usage,
            wasted_usage=Usage(),
        )
        records.append(record)
        events.append(MoveCommitted(match_id=mid, t=t, record=record))
        state = after
    outcome = Outcome("1-0", "checkmate", 0)
    summary = MatchSummary(
        match_id=mid, outcome=outcome, records=tuple(records), moves=tuple(moves)
    )
    events.append(
        MatchEnded(
            match_id=mid,
            t=t,
            result=outcome.result,
            termination=outcome.termination,
            stats=summary.stats,
        )
    )
    return events, summary


@pytest.fixture
def static_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARENA_TUI_STATIC", "1")


async def record_scholar_matches(db_path: str, count: int = 1) -> list[str]:
    """Plays `count` scripted Scholar's mates into a real store at `db_path`; their ids."""
    from arena.store import MatchRecorder, Store

    ids = []
    store = await Store.open(db_path)
    try:
        for n in range(count):
            base = scholar_match(0.005, 0.01)
            match_id = f"scholar{n:02d}"
            await store.create_match(
                match_id,
                base.seats[0].actor.spec,
                base.seats[1].actor.spec,
                "list-white",
                "list-black",
                base.start_state.position(),
                None,
                None,
                {"k": 3},
            )
            async with MatchRecorder(store, match_id) as recorder:
                match = Match(
                    match_id,
                    base.start_state,
                    base.seats,
                    policy=base.policy,
                    journal=recorder,
                )
                match.bus.subscribe(recorder)
                await match.run()
            ids.append(match_id)
    finally:
        await store.close()
    return ids


STORED = ("4c277d18a0b1", "9e03f5c1d2aa", "cd188ca07f31")
"""Ids of the matches `store_fixed_matches` saves, oldest first."""


async def store_fixed_matches(db: str) -> None:
    """The fixed Scholar's mate of `scholar_events`, stored under each id in STORED with fixed
    dates: a database whose every figure is the same on each run (snapshots, screenshots)."""
    import dataclasses
    import sqlite3

    from arena.store import MatchRecorder, Store

    events, _ = scholar_events()
    store = await Store.open(db)
    try:
        for match_id in STORED:
            await store.create_match(
                match_id,
                "scripted-white",
                "scripted-black",
                "list-white",
                "list-black",
                ChessState.from_fen(None).position(),
                None,
                None,
                {"k": 3},
            )
            async with MatchRecorder(store, match_id) as recorder:
                for event in events:
                    mine = dataclasses.replace(event, match_id=match_id)
                    if isinstance(mine, MatchStarted | MoveCommitted | MatchEnded):
                        await recorder.record(mine)
                    recorder(mine)
    finally:
        await store.close()
    with sqlite3.connect(db) as db_file:
        for n, match_id in enumerate(STORED):
            stamp = f"2026-03-0{n + 1}T20:1{n}:00.000+00:00"
            db_file.execute(
                "UPDATE matches SET created_at = ?, updated_at = ? WHERE id = ?",
                (stamp, stamp, match_id),
            )
