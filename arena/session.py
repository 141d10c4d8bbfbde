"""Builds a ready-to-run match from a plan: actors, speculators, policy, store journal.

Shared by the headless CLI, the TUI, `arena resume` and tournaments.
"""

from __future__ import annotations

import contextlib
import gc
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from arena import config
from arena.core.errors import ArenaError
from arena.core.game import GameState
from arena.core.match import Match, Seat
from arena.core.policy import DEFAULT_POLICY, SpeculationPolicy
from arena.games import CHESS, Game, load_game, replay
from arena.specs import Context, build_actor, build_speculator, stored_spec
from arena.store import MatchRecorder, Store


def default_db_path(explicit: str | None = None) -> Path:
    """`--db`, then `ARENA_DB`, then the per-user `config.default_db()`
    (`~/.local/share/arena/arena.db`)."""
    if explicit:
        return Path(explicit).expanduser()
    return config.db_override() or config.default_db()


@dataclass(frozen=True)
class MatchPlan:
    """Everything needed to (re)build a match; stored with it so it can be resumed."""

    white: str
    black: str
    """The first player's spec (White in chess); `black` the second's."""
    white_speculator: str | None = None
    black_speculator: str | None = None
    fen: str | None = None
    """The start position in the game's notation (a FEN for chess); None for the usual start."""
    moves: tuple[str, ...] = ()
    max_plies: int | None = None
    seed: int = 0
    time_scale: float = 1.0
    policy: SpeculationPolicy = field(default_factory=SpeculationPolicy)
    game: str = CHESS
    """The game's spec: `chess`, `connect_four`, `go:board_size=9` (`arena games`)."""

    def policy_json(self) -> dict[str, Any]:
        return {**asdict(self.policy), "time_scale": self.time_scale}


def plan_from_form(values: dict[str, str]) -> MatchPlan:
    """A plan from the TUI's start form: white, black, white_speculator, black_speculator (or one
    `speculator` for both), k, max_plies, fen, game."""

    def number(key: str, default: int | None) -> int | None:
        text = values.get(key, "").strip()
        if not text:
            return default
        try:
            value = int(text)
        except ValueError:
            raise ArenaError(
                f"{key.replace('_', ' ')} must be a whole number, not {text!r}"
            ) from None
        if value < 1:
            raise ArenaError(f"{key.replace('_', ' ')} must be at least 1")
        return value

    shared = values.get("speculator", "").strip()

    def speculator(side: str) -> str | None:
        spec = values.get(f"{side}_speculator", "").strip() or shared
        return None if spec in ("", "none", "off") else spec

    white_speculator, black_speculator = speculator("white"), speculator("black")
    enabled = white_speculator is not None or black_speculator is not None
    k = number("k", DEFAULT_POLICY.k) or DEFAULT_POLICY.k
    return MatchPlan(
        white=values.get("white", "").strip(),
        black=values.get("black", "").strip(),
        white_speculator=white_speculator,
        black_speculator=black_speculator,
        fen=values.get("fen", "").strip() or None,
        max_plies=number("max_plies", None),
        policy=SpeculationPolicy(enabled=enabled, k=k),
        game=values.get("game", "").strip() or CHESS,
    )


def build_seats(plan: MatchPlan, game: Game | None = None) -> tuple[Seat, Seat]:
    """Actors and speculators for both sides; bad specs raise `ArenaError` before anything runs."""
    ctx = Context(
        seed=plan.seed,
        time_scale=plan.time_scale,
        concurrency=plan.policy.k + 2,
        game=game or load_game(plan.game),
    )
    white = build_actor(plan.white, ctx)
    black = build_actor(plan.black, ctx)
    speculate = plan.policy.enabled
    white_spec = build_speculator(plan.white_speculator, ctx) if speculate else None
    black_spec = build_speculator(plan.black_speculator, ctx) if speculate else None
    return Seat(white, white_spec), Seat(black, black_spec)


MANY_MATCHES_GC: tuple[int, int, int] = (20_000, 50, 100)
"""Collector thresholds while many matches share the process (Python's are 700, 10, 10)."""


def many_matches_gc() -> None:
    """For a process that runs many matches at once (tournaments, benches): the cyclic
    garbage collector runs far less often. A full collection over hundreds of matches' objects
    stalled the event loop for ~100 ms, and every match's commit with it; reference counting
    frees nearly everything anyway."""
    if gc.get_threshold()[0] < MANY_MATCHES_GC[0]:
        gc.set_threshold(*MANY_MATCHES_GC)


@dataclass
class Prepared:
    """A match wired to its journal; `await prepared.run()` plays it and closes the recorder."""

    match: Match
    recorder: MatchRecorder
    plan: MatchPlan

    async def run(self) -> Any:
        try:
            return await self.match.run()
        finally:
            await self.recorder.aclose()


async def prepare_match(
    plan: MatchPlan, store: Store, match_id: str | None = None, *, resume: bool = False
) -> Prepared:
    """Checks the plan, records the match row and returns the runnable match."""
    game = load_game(plan.game)
    start = game.start(plan.fen)
    state = replay(start, plan.moves)
    seats = build_seats(plan, game)
    if match_id is None:
        match_id = store.new_match_id()
    recorder = MatchRecorder(store, match_id)
    # A recorded game ends where its record ends: stop there rather than forfeit.
    limits = [plan.max_plies, *(s.actor.last_ply for s in seats)]
    max_plies = min((n for n in limits if n is not None), default=None)
    # A resumed match's ledger covers the plies of its earlier sessions too.
    history = tuple(await store.get_records(match_id)) if resume else ()
    match = Match(
        match_id,
        state,
        seats,
        policy=plan.policy,
        max_plies=max_plies,
        journal=recorder,
        history=history,
    )
    # Engines and clients start before anything is written, so a broken setup leaves no trace.
    await match.open()
    try:
        # One writer per match: a resume of a match another live process plays stops here.
        await store.acquire_lease(match_id)
        if not resume:
            await _create_row(store, match_id, replace(plan, max_plies=max_plies), game, start)
    except BaseException:
        with contextlib.suppress(Exception):
            await store.release_lease(match_id)
        await match.close()
        raise
    match.bus.subscribe(recorder)
    return Prepared(match, recorder, plan)


async def _create_row(
    store: Store, match_id: str, plan: MatchPlan, game: Game, start: GameState
) -> None:
    await store.create_match(
        match_id,
        white_spec=stored_spec(plan.white),
        black_spec=stored_spec(plan.black),
        white_speculator=stored_spec(plan.white_speculator) if plan.policy.enabled else None,
        black_speculator=stored_spec(plan.black_speculator) if plan.policy.enabled else None,
        start_fen=start.position(),
        max_plies=plan.max_plies,
        seed=plan.seed,
        policy=plan.policy_json(),
        game=game.spec,
    )


async def plan_for_resume(store: Store, match_id: str, max_plies: int | None = None) -> MatchPlan:
    """The stored plan of an unfinished match, with the moves already played.

    A match stopped by its ply limit continues when given a larger `max_plies`.
    """
    row = await store.get_match(match_id)
    if row is None:
        raise ArenaError(f"no match {match_id!r}: see `arena replays`")
    extended = (
        row.termination == "max plies"
        and max_plies is not None
        and (row.max_plies is None or max_plies > row.max_plies)
    )
    if row.status == "finished" and not extended:
        raise ArenaError(f"match {match_id} is finished ({row.result}, {row.termination})")
    policy_data = json.loads(row.policy_json or "{}")
    time_scale = float(policy_data.pop("time_scale", 1.0))
    fields = SpeculationPolicy.__dataclass_fields__
    policy = SpeculationPolicy(**{k: v for k, v in policy_data.items() if k in fields})
    plan = MatchPlan(
        white=row.white_spec,
        black=row.black_spec,
        white_speculator=row.white_speculator,
        black_speculator=row.black_speculator,
        fen=row.start_fen,
        moves=tuple(await store.moves(match_id)),
        max_plies=max_plies if max_plies is not None else row.max_plies,
        seed=row.seed or 0,
        time_scale=time_scale,
        policy=policy,
        game=row.game or CHESS,
    )
    return plan
