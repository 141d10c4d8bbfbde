"""Runs a tournament: schedules its games, plays them concurrently on one event loop, resumes.

Each game is one match built by `arena.session.prepare_match` and played by `Prepared.run()`: it is
stored ply by ply, holds its lease, and its accounting is the ledger's. The schedule is stored
before any of its games starts (a Swiss round when it is paired), each game with its match id, so a
tournament killed at any point resumes with the same plan: finished games are kept, unfinished
matches continue from their last stored ply, and games never started start.

Bounds, all on one event loop:

- `concurrency` games in flight;
- `engine_slots` engine threads busy at once, by default the machine's cores: a game with a UCI
  engine player takes that engine's threads (the sides think in turn: the larger of the two), a
  game with an engine speculator at least one. More would make the engines compete for cores, and
  their games would no longer measure what they claim (a movetime engine would search less);
- per provider endpoint, requests in flight and per minute (`ProviderLimiter`);
- `budget_usd` and `max_wall_s`: no game starts once the money spent plus the expected cost of the
  games in flight and of the new one, or the time so far plus a game's expected duration, would
  pass the limit. The games in flight finish.

Swiss rounds are paired when the round before has finished; `sprt` skips the remaining games of a
pair once its test has decided.

A game could run elsewhere (another process or machine): all the runner needs back is its match
in the store, written by the one writer that holds its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from arena.core.errors import ArenaError
from arena.core.match import Match, MatchSummary
from arena.players.stockfish import EnginePlayer
from arena.session import MatchPlan, many_matches_gc, plan_for_resume, prepare_match
from arena.specs import SPECULATOR_KINDS, Context, build_actor, parse_spec
from arena.store import Store
from arena.store.db import MatchBusyError
from arena.store.tournaments import (
    LEASE_PREFIX,
    GameState,
    TournamentGameRow,
    TournamentStatus,
    add_games,
    create_tournament,
    get_tournament,
    set_status,
    skip_games,
)
from arena.tournament.config import TournamentConfig
from arena.tournament.limits import ProviderLimiter
from arena.tournament.pairing import Pairing, SwissRecord, gauntlet, round_robin, swiss_round
from arena.tournament.results import (
    GameResult,
    Report,
    build_report,
    load_results,
)

log = logging.getLogger(__name__)

ENGINE_SPECULATORS = ("stockfish", "uci", "adaptive")


@dataclass(frozen=True, kw_only=True)
class Progress:
    """A snapshot for the progress line."""

    done: int
    total: int
    in_flight: int
    elapsed_s: float
    eta_s: float | None
    spent_usd: float | None
    saved_s: float
    last: str | None = None
    """The game that just ended, as one line."""


@dataclass
class _Live:
    game: TournamentGameRow
    task: asyncio.Task[MatchSummary | None]
    engine: int
    """Engine threads the game keeps busy (0: none)."""
    started: float
    match: Match | None = None


@dataclass
class _Session:
    started: float = field(default_factory=time.monotonic)
    durations: list[float] = field(default_factory=list)
    stopped_by: str | None = None


def new_tournament_id() -> str:
    return secrets.token_hex(4)


def _schedule(config: TournamentConfig) -> list[Pairing]:
    n, openings = len(config.players), len(config.openings)
    if config.format == "roundrobin":
        return round_robin(n, config.games_per_pair, openings, config.seed)
    if config.format == "gauntlet":
        return gauntlet(n, config.games_per_pair, openings, config.seed)
    return []


def _rows(
    tournament_id: str, config: TournamentConfig, pairings: Sequence[Pairing], first_n: int
) -> list[TournamentGameRow]:
    names = config.names
    rows = []
    for k, p in enumerate(pairings):
        n = first_n + k
        bye = p.black is None
        rows.append(
            TournamentGameRow(
                n=n,
                round=p.round,
                pair=p.pair,
                white=names[p.white],
                black=None if p.black is None else names[p.black],
                opening=p.opening,
                match_id=None if bye else f"{tournament_id}-{n:04d}",
                state=GameState.BYE if bye else GameState.SCHEDULED,
            )
        )
    return rows


class Tournament:
    """A stored tournament: `await Tournament.create(...)` or `.load(...)`, then `run()`."""

    def __init__(
        self,
        store: Store,
        tournament_id: str,
        config: TournamentConfig,
        *,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.store = store
        self.id = tournament_id
        self.config = config
        self.progress = progress
        self.notes: list[str] = []
        """Said on stderr before the games start (oversubscribed cores, ...)."""
        self.live: dict[int, _Live] = {}
        """Games in flight by game number (their matches, for a live view)."""
        self.limiter = ProviderLimiter(config.limits)
        self._engine_players: dict[str, int] = {}
        """Players that search on this machine's cores, with their threads."""
        self._engine_speculator = False
        self._stopping = False
        self._prior_cost: float | None = None
        self._classify_players()

    # -- creation -------------------------------------------------------------------------------

    @classmethod
    async def create(
        cls,
        store: Store,
        config: TournamentConfig,
        *,
        progress: Callable[[Progress], None] | None = None,
    ) -> Tournament:
        """Checks every spec, stores the tournament and its schedule (a Swiss: none yet)."""
        _check_specs(config)
        tournament_id = new_tournament_id()
        await create_tournament(store, tournament_id, config.format, config.as_dict())
        rows = _rows(tournament_id, config, _schedule(config), 1)
        if rows:
            await add_games(store, tournament_id, rows)
        return cls(store, tournament_id, config, progress=progress)

    @classmethod
    async def load(
        cls,
        store: Store,
        tournament_id: str,
        *,
        progress: Callable[[Progress], None] | None = None,
        **overrides: Any,
    ) -> Tournament:
        """A stored tournament; `overrides` replace settings that do not change the plan
        (concurrency, budgets, limits)."""
        row = await get_tournament(store, tournament_id)
        if row is None:
            raise ArenaError(f"no tournament {tournament_id!r}; `arena tournament list` shows them")
        config = TournamentConfig.from_dict(row.config)
        changes = {k: v for k, v in overrides.items() if v is not None}
        if changes:
            config = config.replace(**changes)
        return cls(store, tournament_id, config, progress=progress)

    # -- running --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Starts no new game; the games in flight finish."""
        self._stopping = True

    async def run(self) -> Report:
        """Plays every game not played yet; returns the report (also when stopped by a limit)."""
        from arena.providers.base import set_call_gate

        many_matches_gc()
        lease = LEASE_PREFIX + self.id
        try:
            await self.store.acquire_lease(lease)
        except MatchBusyError:
            raise ArenaError(
                f"tournament {self.id} is being run by another process; stop it first, or wait"
            ) from None
        previous_gate = set_call_gate(self.limiter)
        session = _Session()
        status = TournamentStatus.STOPPED
        try:
            await set_status(self.store, self.id, TournamentStatus.RUNNING)
            await self._play_all(session)
            status = TournamentStatus.STOPPED if session.stopped_by else TournamentStatus.FINISHED
        except asyncio.CancelledError:
            session.stopped_by = "interrupted"
            raise
        except BaseException as exc:
            session.stopped_by = f"error: {exc}"
            raise
        finally:
            set_call_gate(previous_gate)
            with contextlib.suppress(Exception):
                await asyncio.shield(set_status(self.store, self.id, status, session.stopped_by))
            with contextlib.suppress(Exception):
                await asyncio.shield(self.store.release_lease(lease))
        return await self.report()

    async def report(self) -> Report:
        row = await get_tournament(self.store, self.id)
        assert row is not None
        results = await load_results(self.store, self.id)
        return build_report(row, results, self.notes)

    def _classify_players(self) -> None:
        """Which players and speculators search on this machine's cores (any UCI engine: a
        movetime engine loses strength when it shares a core too); notes oversubscription."""
        self._engine_players = {
            p.name: threads
            for p in self.config.players
            if (threads := _engine_threads(p.spec, self.config))
        }
        spec = self.config.speculator
        self._engine_speculator = bool(
            spec
            and self.config.policy.enabled
            and parse_spec(spec, SPECULATOR_KINDS).kind in ENGINE_SPECULATORS
        )
        slots = self.engine_slots
        if (self._engine_players or self._engine_speculator) and self.config.concurrency > slots:
            self.notes.append(
                f"note: {self.config.concurrency} games in flight asked, but engines are "
                "CPU-bound: "
                f"engine games run on at most {slots} engine thread(s) at once "
                f"({os.cpu_count()} core(s); --engine-slots to change)"
            )
        if self._engine_speculator and self._engine_players:
            self.notes.append(
                "note: engine speculators search on the same cores as engine players; "
                "--no-speculation or a model speculator keeps engine games' timing clean"
            )

    @property
    def engine_slots(self) -> int:
        return self.config.engine_slots or os.cpu_count() or 1

    def _engine_weight(self, game: TournamentGameRow) -> int:
        """Engine threads a game keeps busy: the larger player's (the sides think in turn),
        or one for an engine speculator."""
        threads = [self._engine_players.get(name, 0) for name in (game.white, game.black or "")]
        return max(*threads, 1 if self._engine_speculator else 0)

    async def _play_all(self, session: _Session) -> None:
        config = self.config
        results = await load_results(self.store, self.id)
        if config.format == "swiss":
            results = await self._pair_swiss(results)
        queue = [r.game for r in results if _pending(r)]
        try:
            await self._loop(queue, results, session)
        except BaseException:
            await self._settle()
            raise
        if self._stopping and not session.stopped_by:
            results = await load_results(self.store, self.id)
            rounds = max((r.game.round for r in results), default=0)
            unpaired = config.format == "swiss" and rounds < config.swiss_rounds
            if unpaired or any(_pending(r) for r in results):
                session.stopped_by = "interrupted"

    async def _settle(self) -> None:
        """Stops the games in flight; each writes its end (resumable) before we go."""
        tasks = [live.task for live in self.live.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            with contextlib.suppress(BaseException):
                await asyncio.shield(asyncio.wait(tasks, timeout=40))
        self.live.clear()

    async def _loop(
        self, queue: list[TournamentGameRow], results: list[GameResult], session: _Session
    ) -> None:
        config = self.config
        while True:
            await self._fill(queue, results, session)
            if not self.live:
                if config.format == "swiss" and not session.stopped_by and not self._stopping:
                    results = await load_results(self.store, self.id)
                    more = await self._pair_swiss(results)
                    if len(more) > len(results):
                        results = more
                        queue[:] = [r.game for r in results if _pending(r)]
                        continue
                break
            done, _ = await asyncio.wait(
                {live.task for live in self.live.values()}, return_when=asyncio.FIRST_COMPLETED
            )
            finished = [n for n, live in self.live.items() if live.task in done]
            for n in finished:
                live = self.live.pop(n)
                session.durations.append(time.monotonic() - live.started)
                live.task.result()  # a game that could not be played stops the tournament
            results = await load_results(self.store, self.id)
            self._report_progress(results, session, finished)

    async def _fill(
        self, queue: list[TournamentGameRow], results: Sequence[GameResult], session: _Session
    ) -> None:
        """Starts games from the front of `queue` while the bounds allow."""
        while queue and not session.stopped_by and not self._stopping:
            if len(self.live) >= self.config.concurrency:
                return
            engines = sum(live.engine for live in self.live.values())
            pick = next(
                (
                    k
                    for k, g in enumerate(queue)
                    if not self._engine_weight(g)
                    or engines == 0
                    or engines + self._engine_weight(g) <= self.engine_slots
                ),
                None,
            )
            if pick is None:
                return
            game = queue[pick]
            if self.config.sprt is not None and self._sprt_decided(game, results):
                queue.pop(pick)
                self._spawn_skip(game)
                continue
            reason = self._budget_stop(results, session)
            if reason:
                session.stopped_by = reason
                return
            queue.pop(pick)
            self._start(game)
            # Each game's set-up runs before the next starts, not all in one pass of the loop.
            await asyncio.sleep(0)

    def _start(self, game: TournamentGameRow) -> None:
        task = asyncio.ensure_future(self._play(game))
        self.live[game.n] = _Live(
            game=game, task=task, engine=self._engine_weight(game), started=time.monotonic()
        )

    def _spawn_skip(self, game: TournamentGameRow) -> None:
        async def skip() -> MatchSummary | None:
            await skip_games(self.store, self.id, [game.n], "SPRT decided")
            return None

        self.live[game.n] = _Live(
            game=game, task=asyncio.ensure_future(skip()), engine=0, started=time.monotonic()
        )

    async def _play(self, game: TournamentGameRow) -> MatchSummary | None:
        assert game.match_id is not None and game.black is not None
        row = await self.store.get_match(game.match_id)
        if row is None:
            plan = self._plan(game)
            prepared = await prepare_match(plan, self.store, game.match_id)
        else:
            from arena.tournament.results import score_match

            if score_match(row)[0] is not None:
                return None
            plan = await plan_for_resume(self.store, game.match_id)
            prepared = await prepare_match(plan, self.store, game.match_id, resume=True)
        live = self.live.get(game.n)
        if live is not None:
            live.match = prepared.match
        task = asyncio.ensure_future(prepared.run())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # ctrl-c: the match ends as aborted (resumable) and writes its end before we go.
            task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), 30)
            raise

    def _plan(self, game: TournamentGameRow) -> MatchPlan:
        config = self.config
        speculate = config.policy.enabled and config.speculator is not None
        opening = config.openings[game.opening] if game.opening is not None else None
        return MatchPlan(
            white=config.spec_of(game.white),
            black=config.spec_of(game.black or ""),
            white_speculator=config.speculator if speculate else None,
            black_speculator=config.speculator if speculate else None,
            fen=opening.fen if opening else None,
            max_plies=config.max_plies,
            seed=config.seed + game.n,
            time_scale=config.time_scale,
            policy=config.policy if speculate else config.policy.__class__(enabled=False),
        )

    # -- limits -----------------------------------------------------------------------------------

    def _budget_stop(self, results: Sequence[GameResult], session: _Session) -> str | None:
        config = self.config
        if config.max_wall_s is not None:
            elapsed = time.monotonic() - session.started
            expected = sum(session.durations) / len(session.durations) if session.durations else 0.0
            if elapsed + expected > config.max_wall_s:
                return "max_wall"
        if config.budget_usd is not None:
            costs = [
                r.match.stats.cost_usd or 0.0
                for r in results
                if r.played and r.match and r.match.stats
            ]
            spent = sum(costs)
            expected = sum(costs) / len(costs) if costs else self._prior_game_cost()
            if spent + (len(self.live) + 1) * expected > config.budget_usd or (
                spent >= config.budget_usd
            ):
                return "budget_usd"
        return None

    def _prior_game_cost(self) -> float:
        """A game's cost before any game has finished: both players' expected cost per move
        over the ply limit (80 plies without one)."""
        if self._prior_cost is not None:
            return self._prior_cost
        plies = self.config.max_plies or 80
        ctx = Context()
        total = 0.0
        for p in self.config.players:
            with contextlib.suppress(Exception):
                total += build_actor(p.spec, ctx).expected_cost_usd()
        per_move = total / len(self.config.players)
        self._prior_cost = per_move * plies
        return self._prior_cost

    def _sprt_decided(self, game: TournamentGameRow, results: Sequence[GameResult]) -> bool:
        sprt = self.config.sprt
        assert sprt is not None
        me, them = game.white, game.black or ""
        first = self.config.names[0]
        if them == first:
            me, them = them, me
        wins = draws = losses = 0
        for r in results:
            if not r.played or r.score is None or {r.game.white, r.game.black} != {me, them}:
                continue
            mine = r.score if r.game.white == me else 1.0 - r.score
            wins += mine == 1.0
            draws += mine == 0.5
            losses += mine == 0.0
        return sprt.state(wins, draws, losses) != "continue"

    # -- Swiss ------------------------------------------------------------------------------------

    async def _pair_swiss(self, results: list[GameResult]) -> list[GameResult]:
        """Pairs the next round once every game so far is played (or nothing is paired yet)."""
        config = self.config
        if any(r.game.state == GameState.SCHEDULED and not r.played for r in results):
            return results
        rounds = max((r.game.round for r in results), default=0)
        if rounds >= config.swiss_rounds:
            return results
        names = config.names
        index = {name: i for i, name in enumerate(names)}
        score = [0.0] * len(names)
        opponents: list[list[int]] = [[] for _ in names]
        colours: list[list[int]] = [[] for _ in names]
        byes = [0] * len(names)
        for r in results:
            w = index[r.game.white]
            if r.game.state == GameState.BYE:
                score[w] += 1.0
                byes[w] += 1
                continue
            if r.game.black is None or r.score is None:
                continue
            b = index[r.game.black]
            score[w] += r.score
            score[b] += 1.0 - r.score
            opponents[w].append(b)
            opponents[b].append(w)
            colours[w].append(0)
            colours[b].append(1)
        records = [
            SwissRecord(
                score=score[i],
                opponents=tuple(opponents[i]),
                colours=tuple(colours[i]),
                byes=byes[i],
            )
            for i in range(len(names))
        ]
        pairings = swiss_round(
            records,
            rounds + 1,
            games_per_pairing=config.games_per_pair,
            n_openings=len(config.openings),
            first_pair=max((r.game.pair for r in results), default=-1) + 1,
            seed=config.seed,
        )
        first_n = max((r.game.n for r in results), default=0) + 1
        await add_games(self.store, self.id, _rows(self.id, config, pairings, first_n))
        return await load_results(self.store, self.id)

    # -- progress ---------------------------------------------------------------------------------

    def total_games(self, results: Sequence[GameResult]) -> int:
        scheduled = sum(1 for r in results if r.game.state == GameState.SCHEDULED)
        if self.config.format != "swiss":
            return scheduled
        per_round = (len(self.config.players) // 2) * self.config.games_per_pair
        rounds = max((r.game.round for r in results), default=0)
        return scheduled + max(0, self.config.swiss_rounds - rounds) * per_round

    def _report_progress(
        self, results: Sequence[GameResult], session: _Session, finished: Sequence[int]
    ) -> None:
        if self.progress is None:
            return
        done = sum(1 for r in results if r.played)
        total = self.total_games(results)
        elapsed = time.monotonic() - session.started
        played_now = len(session.durations)
        remaining = total - done
        eta = (
            elapsed / played_now * remaining / 1.0
            if played_now and remaining > 0
            else (0.0 if remaining <= 0 else None)
        )
        costs = [r.match.stats.cost_usd for r in results if r.played and r.match and r.match.stats]
        saved = sum(
            r.match.stats.saved_s for r in results if r.played and r.match and r.match.stats
        )
        last = None
        for r in results:
            if r.game.n in finished and r.played:
                last = (
                    f"game {r.game.n}: {r.game.white} - {r.game.black} {r.result}"
                    f" ({'adjudicated' if r.adjudicated else r.termination})"
                )
        self.progress(
            Progress(
                done=done,
                total=total,
                in_flight=len(self.live),
                elapsed_s=elapsed,
                eta_s=eta,
                spent_usd=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
                saved_s=saved,
                last=last,
            )
        )


def _pending(result: GameResult) -> bool:
    return result.game.state == GameState.SCHEDULED and not result.played


def _engine_threads(spec: str, config: TournamentConfig) -> int:
    """The threads a player's engine searches with on this machine; 0 for other players."""
    actor = build_actor(spec, Context(seed=config.seed, time_scale=config.time_scale))
    if isinstance(actor, EnginePlayer):
        return actor.options.threads
    return 1 if actor.cpu_bound else 0


def _check_specs(config: TournamentConfig) -> None:
    """Every player and the speculator build (a bad spec is one line before anything runs)."""
    from arena.specs import build_speculator

    ctx = Context(seed=config.seed, time_scale=config.time_scale)
    for p in config.players:
        try:
            actor = build_actor(p.spec, ctx)
        except ArenaError as exc:
            raise type(exc)(f"player {p.name}: {exc}") from None
        if actor.person:
            raise ArenaError(f"player {p.name}: a tournament is headless; no human seats")
    if config.speculator is not None and config.policy.enabled:
        build_speculator(config.speculator, ctx)
    for o in config.openings:
        from arena.games.chess import ChessState

        ChessState.from_fen(o.fen)


__all__ = ["Progress", "Tournament", "new_tournament_id"]
