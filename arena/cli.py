"""The `arena` command. Results go to stdout (`--json` pipes cleanly), diagnostics to stderr."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena import __version__, config, data
from arena.config import MAX_TIME_SCALE
from arena.core.errors import ArenaError
from arena.core.policy import DEFAULT_POLICY, DEFAULT_SPECULATOR, SpeculationPolicy

# The rest of the stack is imported where a command needs it, so `arena --help` and a
# mistyped command answer at once.
if TYPE_CHECKING:
    from arena.core.events import Event
    from arena.core.match import Match, MatchSummary
    from arena.session import MatchPlan, Prepared
    from arena.store import MatchRecorder, Store

EXIT_OK = 0
EXIT_MATCH_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, like every other bad input
        usage = " ".join(["arena", *self.prog.split()[1:], "--help"])
        raise ArenaError(f"{message} (see `{usage}`)")


def _ranged(kind: Callable[[str], Any], low: float, high: float) -> Callable[[str], Any]:
    """An argparse type: a finite number of `kind` in low..high, else one line and exit 2."""
    noun = "an integer" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not (math.isfinite(value) and low <= value <= high):
            span = f"{_whole(low)}..{_whole(high)}"
            raise argparse.ArgumentTypeError(f"must be {noun} {span}, not {text!r}")
        return value

    return parse


def _whole(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


_PLIES = _ranged(int, 1, 100_000)
_SEED = _ranged(int, 0, 2**63 - 1)
_K = _ranged(int, 1, 50)
_PROBABILITY = _ranged(float, 0.0, 1.0)
_TIME_SCALE = _ranged(float, 0.0, MAX_TIME_SCALE)
_OVERHEAD = _ranged(float, 0.0, 10_000.0)


def _k_list(text: str) -> list[int]:
    """`bench --k`: comma-separated guesses per ply, each 1..50, at least one."""
    ks = [_K(part.strip()) for part in text.split(",") if part.strip()]
    if not ks:
        raise argparse.ArgumentTypeError(f"takes numbers like 1,2,3, not {text!r}")
    return ks


def _policy_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("speculation")
    P = DEFAULT_POLICY
    g.add_argument("--speculator", help=f"speculator for both sides (default {DEFAULT_SPECULATOR})")
    g.add_argument("--white-speculator", help="White's speculator (guesses Black's moves)")
    g.add_argument("--black-speculator", help="Black's speculator (guesses White's moves)")
    g.add_argument("--no-speculation", action="store_true", help="turn speculation off")
    g.add_argument("--k", type=_K, default=P.k, help=f"guesses per ply, 1..50 (default {P.k})")
    g.add_argument(
        "--min-prob", type=_PROBABILITY, default=P.min_probability, help="skip guesses below this"
    )
    g.add_argument(
        "--max-in-flight",
        type=_ranged(int, 1, 1000),
        default=P.max_in_flight,
        help=f"cap on running branches (default {P.max_in_flight})",
    )
    g.add_argument("--cost-aware", action="store_true", help="start a branch only if worth it")
    g.add_argument(
        "--max-overhead",
        type=_OVERHEAD,
        default=P.max_overhead_pct,
        help="token budget: keep wasted tokens under this %% of committed tokens",
    )
    g.add_argument(
        "--price-per-hour", type=_ranged(float, 0, 1e6), default=P.price_per_hour,
        help="$ value of an hour waited",
    )  # fmt: skip
    g.add_argument("--depth", type=int, default=P.depth, choices=(1, 2), help="speculation depth")
    g.add_argument(
        "--time-scale", type=_TIME_SCALE, default=1.0,
        help=f"scale of trace latencies, 0..{MAX_TIME_SCALE:g}",
    )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    variables = "\n".join(f"  {name:<18} {text}" for name, text in config.VARIABLES.items())
    parser = _Parser(
        prog="arena",
        description="LLMs and engines play chess, fast.",
        epilog=f"environment:\n{variables}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"arena {__version__}")
    parser.add_argument(
        "--db",
        dest="home_db",
        help="database for the home screen (default: ARENA_DB, then per user)",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    play = sub.add_parser("play", help="play a match (TUI unless --headless)")
    play.add_argument("--white", help="White's player spec or profile (the first player)")
    play.add_argument("--black", help="Black's player spec or profile (the second player)")
    play.add_argument(
        "--game", default="chess", help="chess (default) or an OpenSpiel game: see `arena games`"
    )
    play.add_argument("--fen", help="start position (FEN; a position string for other games)")
    play.add_argument("--max-plies", type=_PLIES, help="stop after this many plies")
    play.add_argument("--seed", type=_SEED, default=0, help="seed for random players")
    play.add_argument("--db", help=f"SQLite database (default ${config.DB}, else {_default_db()})")
    play.add_argument("--headless", action="store_true", help="no TUI; progress on stderr")
    play.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    _policy_args(play)

    resume = sub.add_parser("resume", help="continue an unfinished match")
    resume.add_argument("match_id")
    resume.add_argument("--db")
    resume.add_argument("--max-plies", type=_PLIES, help="new ply limit")
    resume.add_argument("--headless", action="store_true")
    resume.add_argument("--json", action="store_true")

    replays = sub.add_parser("replays", help="list saved matches (TUI browser unless --json)")
    replays.add_argument("--db")
    replays.add_argument("--json", action="store_true")
    replays.add_argument("--limit", type=_ranged(int, 1, 10**6))

    replay = sub.add_parser("replay", help="step through a saved match in the TUI")
    replay.add_argument("match_id")
    replay.add_argument("--db")

    export = sub.add_parser("export", help="export a saved match")
    export.add_argument("match_id")
    export.add_argument("--format", choices=("pgn", "json"), default="pgn")
    export.add_argument("--db")
    export.add_argument("--out", help="write to this file instead of stdout")

    sub.add_parser(
        "profiles", help=f"list player profiles (shipped, and yours in {_user_profiles()})"
    )
    games = sub.add_parser("games", help="list the playable games and their players")
    games.add_argument("--json", action="store_true")

    bench = sub.add_parser("bench", help="benchmarks")
    bench_sub = bench.add_subparsers(dest="bench_command", parser_class=_Parser)
    spec = bench_sub.add_parser("speculation", help="speculators on recorded games")
    traces = ", ".join(data.trace_names())
    spec.add_argument(
        "--trace",
        action="append",
        help=f"trace file or shipped trace name (repeatable; default all shipped: {traces})",
    )
    spec.add_argument("--speculator", action="append", help="speculator spec (repeatable)")
    spec.add_argument(
        "--k", type=_k_list, default="1,2,3", help="comma-separated k values (default 1,2,3)"
    )
    spec.add_argument("--time-scale", type=_TIME_SCALE, default=0.001, help="latency scale")
    spec.add_argument("--depth", type=int, default=1, choices=(1, 2), help="speculation depth")
    spec.add_argument("--min-prob", type=_PROBABILITY, default=0.0, help="skip guesses below this")
    spec.add_argument(
        "--max-overhead", type=_OVERHEAD, default=None, help="token budget: wasted/committed, %%"
    )
    spec.add_argument(
        "--frontier",
        action="store_true",
        help="run a grid of k, budgets and depths and mark the Pareto front",
    )
    spec.add_argument("--json", action="store_true")
    _bench_store_args(bench_sub)
    _bench_tournament_args(bench_sub)
    _tournament_args(sub)
    return parser


def _bench_store_args(bench_sub: Any) -> None:
    store = bench_sub.add_parser(
        "store", help="ms per ply against a floor, bytes per ply, commit latency in flight"
    )
    store.add_argument(
        "--plies", type=_ranged(int, 100, 100_000), default=500,
        help="plies of the long game (default 500)",
    )  # fmt: skip
    store.add_argument(
        "--games", type=_k_list_of(0, 10_000), default="50",
        help="games in flight, comma-separated counts (default 50; 0 skips)",
    )  # fmt: skip
    store.add_argument("--player", default="random", help="both sides of the games in flight")
    store.add_argument("--speculator", help="speculator of the games in flight (default none)")
    store.add_argument("--max-plies", type=_PLIES, default=200, help="plies per game in flight")
    store.add_argument("--time-scale", type=_TIME_SCALE, default=0.001, help="trace latency scale")
    store.add_argument("--no-long-game", action="store_true", help="only the games in flight")
    store.add_argument(
        "--lockstep",
        action="store_true",
        help="start the games in flight at once (default: spread over one mean ply interval)",
    )
    store.add_argument(
        "--rounds", type=_ranged(int, 1, 100), default=3,
        help="long game and floor alternate this often; each figure is its best round",
    )  # fmt: skip
    store.add_argument("--dir", help="folder for the benchmark's databases (default: temp)")
    store.add_argument("--json", action="store_true")


def _k_list_of(low: int, high: int) -> Callable[[str], list[int]]:
    """Comma-separated integers, each low..high."""
    one = _ranged(int, low, high)

    def parse(text: str) -> list[int]:
        values = [one(part.strip()) for part in text.split(",") if part.strip()]
        if not values:
            raise argparse.ArgumentTypeError(f"takes numbers like 50,200, not {text!r}")
        return values

    return parse


class _OneLine(logging.Formatter):
    """Warnings on stderr as one line: the reason, never a traceback (ARENA_DEBUG=1 shows it)."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"arena: {record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f" ({type(exc).__name__}: {exc})"
        return text


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    if not config.debug():
        handler.setFormatter(_OneLine())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)


def main(argv: Sequence[str] | None = None) -> int:
    _setup_logging()
    try:
        args = _parser().parse_args(argv)
        command = args.command or "home"
        with asyncio.Runner(loop_factory=_loop_factory(command, args)) as runner:
            return runner.run(_dispatch_stoppable(command, args))
    except ArenaError as exc:
        print(f"arena: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("arena: interrupted; every committed move is saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    except asyncio.CancelledError:
        print("arena: stopped; every committed move is saved", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        return EXIT_OK


def _loop_factory(
    command: str, args: argparse.Namespace
) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for the headless commands (benches, tournaments, `--headless` matches), where
    hundreds of matches share one loop and its own overhead was ~7% of the process's time; the
    standard loop for the TUI and wherever uvloop is missing or `ARENA_EVENT_LOOP=asyncio`."""
    headless = (
        command == "bench"
        or (command == "tournament" and getattr(args, "tournament_command", None) != "watch")
        or (command in ("play", "resume") and getattr(args, "headless", False))
    )
    if not headless or config.event_loop() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _dispatch_stoppable(command: str, args: argparse.Namespace) -> int:
    """Runs a command; SIGTERM cancels it like ctrl-c, so matches end as `aborted`, resumable."""
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await _dispatch(command, args)


async def _dispatch(command: str, args: argparse.Namespace) -> int:
    if command == "home":
        return await _home(args)
    if command == "play":
        return await _play(args)
    if command == "resume":
        return await _resume(args)
    if command == "replays":
        return await _replays(args)
    if command == "replay":
        return await _replay(args)
    if command == "export":
        return await _export(args)
    if command == "profiles":
        return _profiles()
    if command == "games":
        return _games(args)
    if command == "bench":
        return await _bench(args)
    if command == "tournament":
        return await _tournament(args)
    raise ArenaError(f"unknown command {command!r}")


def _default_db() -> str:
    return str(config.default_db()).replace(str(Path.home()), "~", 1)


def _user_profiles() -> str:
    return str(config.user_profiles_default()).replace(str(Path.home()), "~", 1)


def _plan_from_args(args: argparse.Namespace) -> tuple[MatchPlan, str | None]:
    from arena.games import load_game
    from arena.session import MatchPlan
    from arena.specs import default_players

    note = None
    white, black = args.white, args.black
    game = load_game(args.game)
    if (white is None or black is None) and not game.is_chess:
        white, black = white or "mcts", black or "mcts"
        note = f"{game.title}: MCTS plays both sides unless --white/--black say otherwise"
    if white is None or black is None:
        default_white, default_black, note = default_players()
        white = white or default_white
        black = black or default_black
    shared = args.speculator or game.default_speculator
    if args.k < 1:
        raise ArenaError("--k must be at least 1")
    policy = SpeculationPolicy(
        enabled=not args.no_speculation,
        k=args.k,
        min_probability=args.min_prob,
        max_in_flight=args.max_in_flight,
        cost_aware=args.cost_aware,
        price_per_hour=args.price_per_hour,
        depth=args.depth,
        max_overhead_pct=args.max_overhead,
    )
    plan = MatchPlan(
        white=white,
        black=black,
        white_speculator=None
        if args.no_speculation
        else (args.white_speculator or args.speculator or _default_speculator(white, shared)),
        black_speculator=None
        if args.no_speculation
        else (args.black_speculator or args.speculator or _default_speculator(black, shared)),
        fen=args.fen,
        max_plies=args.max_plies,
        seed=args.seed,
        time_scale=args.time_scale,
        policy=policy,
        game=game.spec,
    )
    return plan, note


INSTANT_PLAYERS = frozenset({"random"})
"""Players that answer at once: pre-thinking their replies saves nothing, so by default they get
no speculator (and no engine processes for one). `--speculator` still gives them one."""


def _default_speculator(player: str, default: str | None) -> str | None:
    return (
        None if player.strip().partition(":")[0].partition(",")[0] in INSTANT_PLAYERS else default
    )


def _need_terminal(instead: str) -> None:
    """The TUI draws on a terminal; without one it would write escape codes forever."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ArenaError(f"the TUI needs a terminal (stdin and stdout); without one, {instead}")


async def _home(args: argparse.Namespace) -> int:
    _need_terminal("use `arena play --headless`, `arena replays --json` or `arena --help`")
    from arena.session import plan_from_form, prepare_match
    from arena.specs import default_players
    from arena.tui.app import ArenaApp

    recorders: list[MatchRecorder] = []

    async def start_from_form(values: dict[str, str]) -> Match:
        prepared = await prepare_match(plan_from_form(values), await app.open_store())
        recorders.append(prepared.recorder)
        return prepared.match

    app = ArenaApp(
        db_path=str(default_db_path(getattr(args, "home_db", None))),
        note=default_players()[2],
        match_factory=start_from_form,
    )
    try:
        await app.run_async()
    finally:
        for recorder in recorders:
            with contextlib.suppress(Exception):
                await recorder.aclose()
    return EXIT_OK


async def _open_store(db: str | None, *, create: bool = True) -> Store:
    """The database; commands that only read pass `create=False`, so a mistyped path is an error
    rather than a new, empty database."""
    from arena.store import Store

    return await Store.open(default_db_path(db), create=create)


def default_db_path(explicit: str | None = None) -> Path:
    """`arena.session.default_db_path`, imported when a command needs a database."""
    from arena.session import default_db_path as resolve

    return resolve(explicit)


async def _play(args: argparse.Namespace) -> int:
    if not args.headless:
        _need_terminal("add --headless")
    from arena.session import prepare_match

    plan, note = _plan_from_args(args)
    if args.headless and "human" in (plan.white, plan.black):
        raise ArenaError("a human seat needs the TUI: drop --headless")
    store = await _open_store(args.db)
    try:
        prepared = await prepare_match(plan, store)
        if note:
            print(f"arena: {note}", file=sys.stderr)
        cpu_bound = any(s.actor.cpu_bound for s in prepared.match.seats)
        if args.headless and plan.policy.enabled and cpu_bound:
            print(
                f"arena: note: depth/node-limited engines and MCTS speculate on the same "
                f"{os.cpu_count()} cores as the real search, so wall time can grow; "
                "speculation pays off for models and movetime-limited engines",
                file=sys.stderr,
            )
        return await _run_prepared(prepared, args, note)
    finally:
        await store.close()


async def _resume(args: argparse.Namespace) -> int:
    if not args.headless:
        _need_terminal("add --headless")
    from arena.session import plan_for_resume, prepare_match

    store = await _open_store(args.db, create=False)
    try:
        match_id = await store.resolve_match_id(args.match_id)
        plan = await plan_for_resume(store, match_id, args.max_plies)
        prepared = await prepare_match(plan, store, match_id, resume=True)
        print(f"arena: resuming {match_id} at ply {len(plan.moves)}", file=sys.stderr)
        return await _run_prepared(prepared, args, None)
    finally:
        await store.close()


async def _run_prepared(prepared: Prepared, args: argparse.Namespace, note: str | None) -> int:
    if not args.headless:
        from arena.tui.app import ArenaApp

        app = ArenaApp(match=prepared.match, note=note, store=prepared.recorder.store)
        try:
            await app.run_async()
        finally:
            await prepared.recorder.aclose()
        if app.summary is not None and args.json:
            print(json.dumps(summary_json(app.summary)))
        return EXIT_OK
    prepared.match.bus.subscribe(_progress_printer)
    task = asyncio.ensure_future(prepared.run())
    try:
        summary: MatchSummary = await asyncio.shield(task)
    except asyncio.CancelledError:
        task.cancel()
        await _settle(task)
        raise
    if args.json:
        print(json.dumps(summary_json(summary)))
    return EXIT_MATCH_ERROR if summary.outcome.termination.startswith("error") else EXIT_OK


async def _settle(task: asyncio.Future[Any], limit_s: float = 30.0) -> None:
    """Waits for a stopped match to write its end (the store closes after it), through further
    ctrl-c or SIGTERM, for at most `limit_s`; a match cut short there is left resumable."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not task.done() and loop.time() < deadline:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({task}, timeout=deadline - loop.time())
    if task.done() and not task.cancelled():
        task.exception()  # retrieved: the match's own outcome says what happened


def summary_json(summary: MatchSummary) -> dict[str, Any]:
    """The `play --json` object."""
    return {
        "match_id": summary.match_id,
        "result": summary.outcome.result,
        "termination": summary.outcome.termination,
        "moves": list(summary.moves),
        **summary.stats.as_dict(),
        "plies_this_run": len(summary.records),
    }


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr)


def _progress_printer(event: Event) -> None:
    from arena.core.events import MatchEnded, MatchStarted, MoveCommitted

    if isinstance(event, MatchStarted):
        print(
            f"match {event.match_id}: {event.players[0]} (white) vs {event.players[1]} (black)",
            file=sys.stderr,
        )
    elif isinstance(event, MoveCommitted):
        r = event.record
        guess = f"guessed #{r.rank}" if r.rank else "not guessed" if r.guesses else ""
        mark = f"{guess:<12} {f'pre-computed, saved {r.saved_s:.2f}s' if r.hit else ''}"
        number = f"{r.ply // 2 + 1}{'.' if r.side == 0 else '...'}"
        print(
            f"  {number:>5} {r.san:<8} think {r.decision_s:6.2f}s  wall {r.wall_s:6.2f}s  {mark}",
            file=sys.stderr,
        )
    elif isinstance(event, MatchEnded):
        stats = event.stats
        print(
            f"result {event.result} ({event.termination}); "
            f"{stats.plies} {'ply' if stats.plies == 1 else 'plies'}, "
            f"wall {stats.wall_s:.1f}s against {stats.sequential_s:.1f}s without speculation, "
            f"saved {stats.saved_s:.1f}s ({stats.saved_pct:.1f}%), "
            f"hit rate {100 * stats.hit_rate:.0f}%",
            file=sys.stderr,
        )
        print(f"saved as {event.match_id}: arena replay {event.match_id}", file=sys.stderr)


async def _replays(args: argparse.Namespace) -> int:
    if not args.json:
        from arena.tui.app import ArenaApp

        if args.db:  # a mistyped --db is an error, not a new database (no --db: "none yet")
            await (await _open_store(args.db, create=False)).close()
        _need_terminal("add --json")
        await ArenaApp(db_path=str(default_db_path(args.db)), start_screen="replays").run_async()
        return EXIT_OK
    store = await _open_store(args.db, create=False)
    try:
        rows = await store.list_matches(limit=args.limit)
        print(json.dumps([row.as_dict() for row in rows], allow_nan=False))
    finally:
        await store.close()
    return EXIT_OK


async def _replay(args: argparse.Namespace) -> int:
    store = await _open_store(args.db, create=False)
    try:
        match_id = await store.resolve_match_id(args.match_id)
    finally:
        await store.close()
    from arena.tui.app import ArenaApp

    _need_terminal("use `arena export ID --format json`")
    app = ArenaApp(db_path=str(default_db_path(args.db)), start_screen=("replay", match_id))
    await app.run_async()
    return EXIT_OK


async def _export(args: argparse.Namespace) -> int:
    from arena.store import export_json, export_pgn

    store = await _open_store(args.db, create=False)
    try:
        match_id = await store.resolve_match_id(args.match_id)
        row = await store.get_match(match_id)
        if args.format == "pgn" and row is not None and (row.game or "chess") != "chess":
            raise ArenaError(f"PGN is for chess; {match_id} is {row.game}: use --format json")
        if args.format == "pgn":
            text = await export_pgn(store, match_id)
        else:
            text = json.dumps(await export_json(store, match_id), indent=2, allow_nan=False)
    finally:
        await store.close()
    _write_out(args.out, text)
    return EXIT_OK


def _write_out(out: str | None, text: str) -> None:
    if not out:
        print(text)
        return
    try:
        Path(out).write_text(text + "\n")
    except OSError as exc:
        raise ArenaError(f"cannot write {out}: {exc.strerror}") from None


def _profiles() -> int:
    from arena.specs import list_profiles

    for name, profile in list_profiles().items():
        print(f"{name:<20} {profile.get('kind', '?'):<10} {profile.get('description', '')}")
    return EXIT_OK


def _games(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from arena.specs import game_catalog

    entries = game_catalog()
    if args.json:
        print(json.dumps([asdict(entry) for entry in entries]))
        return EXIT_OK
    for entry in entries:
        print(f"{entry.spec:<22} {entry.title:<26} players: {', '.join(entry.players)}")
    print(
        "play one: arena play --game connect_four --white mcts --black random; "
        "parameters: --game go:board_size=9",
        file=sys.stderr,
    )
    return EXIT_OK


async def _bench(args: argparse.Namespace) -> int:
    if args.bench_command == "store":
        from arena.bench_store import run_store_bench

        store_result = await run_store_bench(
            plies=args.plies,
            games=args.games,
            player=args.player,
            speculator=args.speculator,
            max_plies=args.max_plies,
            time_scale=args.time_scale,
            folder=args.dir,
            long_game=not args.no_long_game,
            rounds=args.rounds,
            lockstep=args.lockstep,
            progress=_stderr_line,
        )
        print(json.dumps(store_result.as_json()) if args.json else store_result.table())
        return EXIT_OK
    if args.bench_command == "tournament":
        return await _bench_tournament(args)
    if args.bench_command != "speculation":
        raise ArenaError(
            "usage: arena bench speculation|store|tournament (see `arena bench --help`)"
        )
    from arena.bench import run_speculation_bench
    from arena.specs import trace_file

    ks: list[int] = args.k
    from arena.bench import FRONTIER_KS, FRONTIER_VARIANTS

    policy = SpeculationPolicy(
        depth=args.depth, min_probability=args.min_prob, max_overhead_pct=args.max_overhead
    )
    specs = args.speculator or ["stockfish", "trace-guesses"]
    traces = [str(trace_file(t)) for t in args.trace or data.trace_names()]
    result = await run_speculation_bench(
        traces,
        specs,
        list(FRONTIER_KS) if args.frontier else ks,
        args.time_scale,
        policy,
        progress=_stderr_line,
        variants=FRONTIER_VARIANTS if args.frontier else None,
    )
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        print(result.table())
    return EXIT_OK


# -- tournaments ------------------------------------------------------------------------------


def _tournament_args(sub: Any) -> None:
    """`arena tournament run|resume|list|show|export|rate`."""
    from arena.tournament.pairing import FORMATS

    tournament = sub.add_parser(
        "tournament", help="headless tournaments: rated, budgeted, resumable"
    )
    tsub = tournament.add_subparsers(dest="tournament_command", parser_class=_Parser)
    run = tsub.add_parser("run", help="play a round robin, gauntlet or Swiss")
    run.add_argument("--player", action="append", default=[], help="player spec (repeatable)")
    run.add_argument("--players-file", help="TOML: [[player]] tables with name and spec")
    run.add_argument("--format", choices=FORMATS, default="roundrobin")
    run.add_argument(
        "--games-per-pair", type=_ranged(int, 1, 10_000),
        help="games between two players (Swiss: per pairing, 1 or 2; default 2, Swiss 1)",
    )  # fmt: skip
    run.add_argument("--rounds", type=_ranged(int, 1, 1000), help="Swiss rounds")
    run.add_argument("--openings", help="EPD/FEN or PGN file (default: the shipped suite)")
    run.add_argument("--no-openings", action="store_true", help="all from the start position")
    run.add_argument("--max-plies", type=_PLIES, help="adjudicate a draw after this many plies")
    run.add_argument("--speculator", help=f"both sides' speculator (default {DEFAULT_SPECULATOR})")
    run.add_argument("--no-speculation", action="store_true")
    run.add_argument("--k", type=_K, default=DEFAULT_POLICY.k, help="guesses per ply")
    run.add_argument(
        "--max-overhead",
        type=_OVERHEAD,
        default=DEFAULT_POLICY.max_overhead_pct,
        help="token budget per game: wasted tokens under this %% of committed tokens",
    )
    run.add_argument("--time-scale", type=_TIME_SCALE, default=1.0, help="trace latency scale")
    run.add_argument("--sprt", help="elo0,elo1[,alpha,beta]: stop a pair once decided")
    run.add_argument("--anchor", help="the player rated 0 (default: the first)")
    run.add_argument("--rate-forfeits", choices=("yes", "no"), default="yes")
    run.add_argument("--seed", type=_SEED, default=0)
    _tournament_limit_args(run)
    run.add_argument("--db")
    run.add_argument("--json", action="store_true", help="the result as JSON on stdout")

    resume = tsub.add_parser("resume", help="continue a stopped or killed tournament")
    resume.add_argument("tournament_id")
    _tournament_limit_args(resume, defaults=False)
    resume.add_argument("--db")
    resume.add_argument("--json", action="store_true")

    listing = tsub.add_parser("list", help="saved tournaments")
    listing.add_argument("--db")
    listing.add_argument("--json", action="store_true")

    show = tsub.add_parser("show", help="standings and crosstable of a tournament")
    show.add_argument("tournament_id")
    show.add_argument("--db")
    show.add_argument("--json", action="store_true")

    export = tsub.add_parser("export", help="every game of a tournament as one PGN")
    export.add_argument("tournament_id")
    export.add_argument("--format", choices=("pgn",), default="pgn")
    export.add_argument("--db")
    export.add_argument("--out", help="write to this file instead of stdout")

    watch = tsub.add_parser("watch", help="live standings and games in flight (TUI)")
    watch.add_argument("tournament_id")
    watch.add_argument("--db")

    rate = tsub.add_parser("rate", help="rate the games of any PGN file")
    rate.add_argument("pgn")
    rate.add_argument("--anchor", help="the player rated 0 (default: the first met)")
    rate.add_argument("--prior", type=_ranged(float, 0, 100), default=1.0, help="virtual draws")
    rate.add_argument("--json", action="store_true")


def _tournament_limit_args(p: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    p.add_argument(
        "--concurrency", type=_ranged(int, 1, 10_000), default=4 if defaults else None,
        help="games in flight (default 4)",
    )  # fmt: skip
    p.add_argument(
        "--engine-slots", type=_ranged(int, 1, 1024),
        help="engine games in flight (default: the cores)",
    )  # fmt: skip
    p.add_argument("--budget-usd", type=_ranged(float, 0, 1e9), help="start no game past this")
    p.add_argument("--max-wall", type=_ranged(float, 0, 1e9), help="seconds; start no game past")
    p.add_argument(
        "--limit", action="append", default=[] if defaults else None,
        help="per provider endpoint: KEY=IN_FLIGHT[/PER_MINUTE], e.g. openai=8/500",
    )  # fmt: skip


async def _tournament(args: argparse.Namespace) -> int:
    command = args.tournament_command
    if command == "rate":
        return _tournament_rate(args)
    if command not in ("run", "resume", "list", "show", "export", "watch"):
        raise ArenaError(
            "usage: arena tournament run|resume|list|show|export|watch|rate (see --help)"
        )
    from arena.store.tournaments import list_tournaments, resolve_tournament_id

    store = await _open_store(args.db, create=command == "run")
    try:
        if command == "list":
            rows = await list_tournaments(store)
            if args.json:
                print(json.dumps([r.as_dict() for r in rows], allow_nan=False))
            for r in [] if args.json else rows:
                d = r.as_dict()
                print(
                    f"{r.id}  {r.created_at[:16]}  {r.format:<10} {d['games_played']:>4}/"
                    f"{r.scheduled:<4} {r.status!s:<11} {', '.join(map(str, d['players']))}"
                    + (f"  ({d['resume']})" if d["resume"] else "")
                )
            return EXIT_OK
        if command == "run":
            return await _tournament_run(store, args)
        tournament_id = await resolve_tournament_id(store, args.tournament_id)
        if command == "watch":
            from arena.tui.screens.tournament import TournamentApp

            _need_terminal("use `arena tournament show ID --json`")

            await TournamentApp(tournament_id, db_path=str(default_db_path(args.db))).run_async()
            return EXIT_OK
        if command == "resume":
            return await _tournament_run(store, args, tournament_id)
        if command == "show":
            from arena.tournament.runner import Tournament

            report = await (await Tournament.load(store, tournament_id)).report()
            print(json.dumps(report.as_dict(), allow_nan=False) if args.json else report.text())
            return EXIT_OK
        from arena.store.tournaments import get_tournament
        from arena.tournament.results import export_tournament_pgn

        row = await get_tournament(store, tournament_id)
        assert row is not None
        text, left_out = await export_tournament_pgn(store, row)
        if left_out:
            print(f"arena: {left_out} game(s) not played yet are left out", file=sys.stderr)
        _write_out(args.out, text.rstrip("\n") + "\n")
        return EXIT_OK
    finally:
        await store.close()


async def _tournament_run(
    store: Store, args: argparse.Namespace, tournament_id: str | None = None
) -> int:
    from arena.tournament.limits import ProviderLimit
    from arena.tournament.runner import Tournament

    overrides: dict[str, Any] = {
        "concurrency": args.concurrency,
        "engine_slots": args.engine_slots,
        "budget_usd": args.budget_usd,
        "max_wall_s": args.max_wall,
        "limits": tuple(ProviderLimit.parse(t) for t in args.limit) if args.limit else None,
    }
    printer = _TournamentProgress()
    if tournament_id is None:
        config = _tournament_config(args, overrides)
        tournament = await Tournament.create(store, config, progress=printer)
        print(
            f"arena: tournament {tournament.id}: {config.format}, {len(config.players)} players "
            f"(`arena tournament resume {tournament.id}` continues it if stopped)",
            file=sys.stderr,
        )
    else:
        tournament = await Tournament.load(store, tournament_id, progress=printer, **overrides)
        print(f"arena: resuming tournament {tournament_id}", file=sys.stderr)
    for note in tournament.notes:
        print(f"arena: {note}", file=sys.stderr)
    try:
        report = await tournament.run()
    finally:
        printer.close()
    if report.stopped_by:
        print(f"arena: stopped by {report.stopped_by}", file=sys.stderr)
    print(json.dumps(report.as_dict(), allow_nan=False) if args.json else report.text())
    return EXIT_OK


def _tournament_config(args: argparse.Namespace, overrides: dict[str, Any]) -> Any:
    from arena.tournament.config import TournamentConfig, entrants
    from arena.tournament.openings import load_openings
    from arena.tournament.ratings import Sprt

    players = entrants(args.player, args.players_file)
    sprt = None
    if args.sprt:
        try:
            sprt = Sprt.parse(args.sprt)
        except ValueError as exc:
            raise ArenaError(f"--sprt {exc}") from None
    games = args.games_per_pair or (1 if args.format == "swiss" else 2)
    speculate = not args.no_speculation
    return TournamentConfig(
        format=args.format,
        players=players,
        games_per_pair=games,
        rounds=args.rounds,
        openings=() if args.no_openings else load_openings(args.openings),
        openings_source="none" if args.no_openings else (args.openings or "shipped"),
        max_plies=args.max_plies,
        speculator=(args.speculator or DEFAULT_SPECULATOR) if speculate else None,
        policy=SpeculationPolicy(enabled=speculate, k=args.k, max_overhead_pct=args.max_overhead),
        time_scale=args.time_scale,
        seed=args.seed,
        concurrency=overrides["concurrency"],
        engine_slots=overrides["engine_slots"],
        budget_usd=overrides["budget_usd"],
        max_wall_s=overrides["max_wall_s"],
        sprt=sprt,
        anchor=args.anchor,
        rate_forfeits=args.rate_forfeits == "yes",
        limits=overrides["limits"] or (),
    )


class _TournamentProgress:
    """The progress line on stderr: a bar on a terminal, a line per finished game otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._drawn = False

    def __call__(self, p: Any) -> None:
        width = 24
        filled = int(width * p.done / p.total) if p.total else width
        eta = "-" if p.eta_s is None else f"{p.eta_s:.0f}s"
        spent = "?" if p.spent_usd is None else f"${p.spent_usd:.4f}"
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {p.done}/{p.total} games, "
            f"{p.in_flight} in flight, {p.elapsed_s:.0f}s, ETA {eta}, {spent}, "
            f"speculation saved {round(p.saved_s, 1) + 0.0:.1f}s"
        )
        if self.tty:
            if p.last:
                print(f"\r\x1b[K{p.last}", file=sys.stderr)
            print(f"\r\x1b[K{line}", end="", file=sys.stderr, flush=True)
            self._drawn = True
        else:
            print(f"{p.last or 'progress'} | {line}", file=sys.stderr)

    def close(self) -> None:
        if self._drawn:
            print(file=sys.stderr)


def _tournament_rate(args: argparse.Namespace) -> int:
    from arena.tournament.rate import rate_pgn

    report = rate_pgn(args.pgn, anchor=args.anchor, prior=args.prior)
    print(json.dumps(report.as_dict(), allow_nan=False) if args.json else report.text())
    return EXIT_OK


def _bench_tournament_args(bench_sub: Any) -> None:
    bench = bench_sub.add_parser(
        "tournament", help="games in flight through the runner and store: loop lag, writes/s"
    )
    bench.add_argument("--games", type=_ranged(int, 1, 100_000), default=200)
    bench.add_argument("--concurrency", type=_ranged(int, 1, 100_000), default=200)
    bench.add_argument(
        "--time-scale", type=_TIME_SCALE, default=0.01, help="trace latency scale (default 0.01)"
    )
    bench.add_argument("--no-speculation", action="store_true")
    bench.add_argument("--db", help="database file (default: a temporary one)")
    bench.add_argument("--json", action="store_true")


async def _bench_tournament(args: argparse.Namespace) -> int:
    from arena.tournament.bench import run_tournament_bench

    result = await run_tournament_bench(
        games=args.games,
        concurrency=args.concurrency,
        time_scale=args.time_scale,
        speculation=not args.no_speculation,
        db=args.db,
        progress=_stderr_line,
    )
    print(json.dumps(result.as_json()) if args.json else result.table())
    return EXIT_OK
