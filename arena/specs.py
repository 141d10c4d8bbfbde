"""Turns player and speculator specs into actors and speculators: the one place knowing every kind.

A spec is `KIND[:ARG][,key=value...]` or a profile name (`arena profiles`):

    stockfish                       Stockfish at its default limit (depth 8)
    stockfish:depth=6,skill=5       options: movetime (ms), depth, nodes, skill, elo, threads,
                                    hash (MB), keep_hash=1, path=/bin/engine, init_timeout and
                                    move_timeout (s); ranges in `arena.engines.ENGINE_OPTIONS`
    uci:/path/to/engine,depth=10    any UCI engine, same options
    random[:seed=N]                 a seeded random mover
    trace:FILE|NAME                 replays a recorded game (its moves and latencies): a file,
                                    or a shipped trace by name (e.g. trace:gpt5-4c277d18)
    human                           you, in the TUI
    mcts[:simulations=N,...]        OpenSpiel's MCTS (OpenSpiel games): simulations (1000),
                                    rollouts (1), uct_c (2), seed (the match's)
    solver[:positions=N]            exact minimax within N positions (500000: tic-tac-toe,
                                    Connect Four endgames), else MCTS's move, flagged
    anthropic:MODEL[,opts]          Anthropic Messages API (key: ANTHROPIC_API_KEY)
    openai:MODEL[@URL][,opts]       OpenAI, or any OpenAI-compatible server at URL
    ollama:MODEL[,opts]             a local Ollama server (http://127.0.0.1:11434/v1)
    NAME                            a profile: shipped (arena/data/profiles/NAME.toml), or
                                    NAME.toml in your profile folder (`config.user_profiles()`)

Speculator specs: `stockfish[:opts]` (MultiPV), `mcts[:opts]` (OpenSpiel games: top k by
visits, default 500 simulations), `random`, `trace-guesses`, `adaptive`
(a learning blend of a shallow and a deeper engine), `anthropic:MODEL`, `openai:MODEL[@URL]`,
or `none`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, overload

from arena import config, data
from arena.core.actor import Actor, Speculator
from arena.core.errors import ArenaError, SpecError
from arena.engines import EngineOptions
from arena.games import Game, load_game
from arena.games.traces import Trace, load_trace
from arena.players.random import RandomPlayer
from arena.players.stockfish import EnginePlayer
from arena.players.trace import TracePlayer
from arena.speculators.blend import BlendSpeculator
from arena.speculators.simple import RandomSpeculator, TraceGuessSpeculator
from arena.speculators.stockfish import EngineSpeculator

PLAYER_KINDS = (
    "stockfish", "uci", "random", "trace", "human", "anthropic", "openai", "mcts", "solver",
)  # fmt: skip
SPECULATOR_KINDS = (
    "stockfish",
    "uci",
    "random",
    "trace-guesses",
    "adaptive",
    "anthropic",
    "openai",
    "mcts",
)
CHESS_ONLY_KINDS = frozenset({"stockfish", "uci", "trace", "trace-guesses", "adaptive"})
"""Kinds that need python-chess positions."""
OPENSPIEL_ONLY_KINDS = frozenset({"mcts", "solver"})
"""Kinds that search OpenSpiel games."""


def kinds_for(game: Game, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The kinds of `kinds` that play `game`."""
    other = OPENSPIEL_ONLY_KINDS if game.is_chess else CHESS_ONLY_KINDS
    return tuple(k for k in kinds if k not in other)


@dataclass(frozen=True)
class Spec:
    """A parsed spec: kind, its positional argument and its options."""

    kind: str
    arg: str = ""
    options: dict[str, str] = field(default_factory=dict)
    text: str = ""
    profile: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What building an actor may need besides its spec."""

    seed: int = 0
    time_scale: float = 1.0
    concurrency: int = 4
    traces: list[Trace] = field(default_factory=list)
    game: Game = field(default_factory=load_game)
    """The game played: a kind that cannot play it is an `ArenaError`."""


def _check_game(spec: Spec, ctx: Context, kinds: tuple[str, ...]) -> None:
    if spec.kind in kinds_for(ctx.game, kinds):
        return
    usable = ", ".join(kinds_for(ctx.game, kinds))
    raise SpecError(f"{spec.text}: {spec.kind} does not play {ctx.game.spec} (use {usable})")


def _profile_sources() -> Iterator[tuple[str, str, str]]:
    """(name, where, TOML text) of the shipped profiles, then of the user's folder."""
    for name, resource in data.profile_files().items():
        yield name, f"{name} (shipped)", resource.read_text(encoding="utf-8")
    folder = config.user_profiles()
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"cannot read profile {path}: {exc.strerror}") from None
        yield path.stem, str(path), text


def list_profiles() -> dict[str, dict[str, Any]]:
    """Profiles by name: the shipped ones, then the user's folder (`ARENA_PROFILES`, else
    `~/.config/arena/profiles`), whose profile of the same name wins."""
    out: dict[str, dict[str, Any]] = {}
    for name, where, text in _profile_sources():
        try:
            out[name] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"broken profile {where}: {exc}") from None
    return dict(sorted(out.items()))


def parse_spec(text: str, kinds: tuple[str, ...] = PLAYER_KINDS) -> Spec:
    """Parses a spec or resolves a profile name; unknown kinds are an `ArenaError`."""
    text = text.strip()
    if not text:
        raise SpecError("empty player spec")
    head, _, rest = text.partition(":")
    if head not in kinds and "," in head:
        head, _, opts_only = head.partition(",")
        rest = "," + opts_only + (":" + rest if rest else "")
    if head not in kinds:
        profiles = list_profiles()
        if head in profiles:
            return _from_profile(head, profiles[head], text, kinds)
        known = ", ".join(kinds)
        names = ", ".join(sorted(profiles)) or "none"
        raise SpecError(f"unknown spec {text!r}: kinds are {known}; profiles are {names}")
    arg, options = _split_options(rest)
    return Spec(head, arg, options, text)


def _split_options(rest: str) -> tuple[str, dict[str, str]]:
    parts = [p for p in rest.split(",")] if rest else []
    arg = ""
    options: dict[str, str] = {}
    for i, part in enumerate(parts):
        part = part.strip()
        if not part:
            continue
        if "=" in part and not (i == 0 and "://" in part.split("=", 1)[0]):
            key, _, value = part.partition("=")
            options[key.strip()] = value.strip()
        elif i == 0:
            arg = part
        else:
            raise SpecError(f"bad option {part!r}: options look like key=value")
    return arg, options


def _from_profile(name: str, profile: dict[str, Any], text: str, kinds: tuple[str, ...]) -> Spec:
    kind = str(profile.get("kind", ""))
    if kind not in kinds:
        raise SpecError(f"profile {name!r} has kind {kind!r}; expected one of {', '.join(kinds)}")
    options = {str(k): str(v) for k, v in dict(profile.get("options", {})).items()}
    _, extra = _split_options(text.partition(",")[2])
    options.update(extra)
    arg = str(profile.get("model", profile.get("path", "")))
    if profile.get("base_url"):
        arg = f"{arg}@{profile['base_url']}"
    return Spec(kind, arg, options, text, profile)


def _int(spec: Spec, key: str) -> int | None:
    value = spec.options.get(key)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise SpecError(f"{spec.text}: {key} must be an integer, not {value!r}") from None


def engine_options(spec: Spec) -> EngineOptions:
    """The engine options of a stockfish/uci spec, their ranges checked (`ENGINE_OPTIONS`)."""
    binary = spec.options.get("path") or (spec.arg if spec.kind == "uci" else None)
    if spec.kind == "uci" and not binary:
        raise SpecError(f"{spec.text}: uci needs a path, e.g. uci:/usr/bin/engine")
    try:
        return EngineOptions.from_strings(spec.options, binary=binary)
    except ArenaError as exc:
        raise type(exc)(f"{spec.text}: {exc}") from None


def _seed(spec: Spec, ctx: Context) -> int:
    """`random`'s seed: `seed=N` (or `random:N`), else the match's."""
    unknown = set(spec.options) - {"seed"}
    if unknown:
        raise SpecError(f"{spec.text}: unknown option {sorted(unknown)[0]!r}; random takes seed=N")
    text = spec.options.get("seed", spec.arg or None)
    if text is None:
        return ctx.seed
    try:
        seed = int(text)
    except ValueError:
        raise SpecError(f"{spec.text}: the seed must be an integer, e.g. random:seed=7") from None
    if not 0 <= seed < 2**63:
        raise SpecError(f"{spec.text}: the seed must be 0..2^63-1, not {seed}")
    return seed


def trace_file(arg: str) -> Path:
    """A trace argument as a file: an existing file, else the shipped trace of that name."""
    path = Path(arg).expanduser()
    if path.is_file():
        return path
    shipped = data.trace_path(arg)
    if shipped is not None:
        return shipped
    if "/" in arg or arg.endswith(".jsonl"):
        return path  # load_trace reports the missing file
    names = ", ".join(data.trace_names())
    raise SpecError(f"no trace {arg!r}: give a file, or a shipped trace ({names})")


@overload
def stored_spec(text: str) -> str: ...
@overload
def stored_spec(text: None) -> None: ...
def stored_spec(text: str | None) -> str | None:
    """`text` as stored with a match: a relative trace file made absolute, so that `arena resume`
    works from any folder. Other specs (a shipped trace's name included) are kept as they are."""
    if text is None:
        return None
    head, _, rest = text.strip().partition(":")
    if head not in ("trace", "trace-guesses") or not rest:
        return text
    arg, comma, options = rest.partition(",")
    path = Path(arg.strip()).expanduser()
    if path.is_absolute() or not path.is_file():
        return text
    return f"{head}:{path.resolve()}{comma}{options}"


def _trace(spec: Spec, ctx: Context) -> Trace:
    if not spec.arg:
        raise SpecError(f"{spec.text}: trace needs a file or a name, e.g. trace:gpt5-4c277d18")
    path = trace_file(spec.arg)
    for trace in ctx.traces:
        if trace.path in (spec.arg, str(path)):
            return trace
    trace = load_trace(path)
    ctx.traces.append(trace)
    return trace


def build_actor(text: str, ctx: Context | None = None) -> Actor:
    """An actor from a player spec."""
    ctx = ctx or Context()
    spec = parse_spec(text, PLAYER_KINDS)
    _check_game(spec, ctx, PLAYER_KINDS)
    if spec.kind in ("mcts", "solver"):
        return _build_search_actor(spec, ctx)
    if spec.kind in ("stockfish", "uci"):
        return EnginePlayer(engine_options(spec), spec.text, concurrency=ctx.concurrency)
    if spec.kind == "random":
        return RandomPlayer(_seed(spec, ctx), spec.text)
    if spec.kind == "trace":
        return TracePlayer(_trace(spec, ctx), ctx.time_scale, spec.text)
    if spec.kind == "human":
        from arena.players.human import HumanPlayer

        return HumanPlayer(spec.text)
    return _build_llm_actor(spec)


def build_speculator(text: str | None, ctx: Context | None = None) -> Speculator | None:
    """A speculator from a spec; None for `none`."""
    ctx = ctx or Context()
    if text is None or text.strip() in ("", "none", "off"):
        return None
    spec = parse_spec(text, SPECULATOR_KINDS)
    _check_game(spec, ctx, SPECULATOR_KINDS)
    if spec.kind == "mcts":
        from arena.speculators.mcts import MCTSSpeculator

        options, seed = _mcts_options(spec, ctx, default_simulations=500)
        return MCTSSpeculator(options, seed, spec.text)
    if spec.kind in ("stockfish", "uci"):
        options = engine_options(spec)
        if options.movetime is None and options.depth is None and options.nodes is None:
            options = options.replace(depth=8)
        return EngineSpeculator(options, spec.text)
    if spec.kind == "random":
        return RandomSpeculator(_seed(spec, ctx), spec.text)
    if spec.kind == "trace-guesses":
        if spec.arg:
            _trace(Spec("trace", spec.arg, {}, spec.text), ctx)
        if not ctx.traces:
            raise SpecError("trace-guesses needs a trace: play trace:FILE or trace-guesses:FILE")
        return TraceGuessSpeculator(ctx.traces, ctx.time_scale, spec.text)
    if spec.kind == "adaptive":
        shallow, deep = (
            EngineSpeculator(_adaptive_depth(spec, key, default), "stockfish")
            for key, default in (("shallow", 1), ("deep", 10))
        )
        return BlendSpeculator([shallow, deep], spec.text)
    return _build_llm_speculator(spec)


_MCTS_OPTIONS = {"simulations", "rollouts", "uct_c", "seed", "solve"}


def _mcts_options(
    spec: Spec, ctx: Context, *, default_simulations: int, extra: frozenset[str] = frozenset()
) -> tuple[Any, int]:
    """MCTS options and seed from a spec: simulations 1..10^7, rollouts 1..1000, uct_c > 0."""
    from arena.games.search import MCTSOptions

    unknown = set(spec.options) - _MCTS_OPTIONS - extra
    if unknown:
        names = ", ".join(sorted(_MCTS_OPTIONS | extra))
        raise SpecError(f"{spec.text}: unknown option {sorted(unknown)[0]!r} (options: {names})")

    def bounded(key: str, default: int, high: int) -> int:
        value = _int(spec, key)
        if value is None:
            return default
        if not 1 <= value <= high:
            raise SpecError(f"{spec.text}: {key} must be 1..{high}, not {value}")
        return value

    uct_text = spec.options.get("uct_c", "2")
    try:
        uct_c = float(uct_text)
    except ValueError:
        uct_c = -1.0
    if not 0 < uct_c < 1000:
        raise SpecError(f"{spec.text}: uct_c must be a number above 0, not {uct_text!r}")
    options = MCTSOptions(
        simulations=bounded("simulations", default_simulations, 10**7),
        rollouts=bounded("rollouts", 1, 1000),
        uct_c=uct_c,
        solve=spec.options.get("solve", "1") not in ("0", "false"),
    )
    seed_spec = Spec("random", "", {"seed": spec.options["seed"]} if "seed" in spec.options else {})
    return options, _seed(replace(seed_spec, text=spec.text), ctx)


def _build_search_actor(spec: Spec, ctx: Context) -> Actor:
    from arena.players.mcts import MCTSPlayer, SolverPlayer

    if spec.kind == "mcts":
        options, seed = _mcts_options(spec, ctx, default_simulations=1000)
        return MCTSPlayer(options, seed, spec.text)
    options, seed = _mcts_options(
        spec, ctx, default_simulations=1000, extra=frozenset({"positions"})
    )
    positions = _int(spec, "positions") or 500_000
    if not 1 <= positions <= 10**8:
        raise SpecError(f"{spec.text}: positions must be 1..10^8, not {positions}")
    return SolverPlayer(positions, options, seed, spec.text)


def _adaptive_depth(spec: Spec, key: str, default: int) -> EngineOptions:
    depth = _int(spec, key)
    try:
        return EngineOptions(depth=default if depth is None else depth)
    except ArenaError as exc:
        raise SpecError(f"{spec.text}: {key} {exc}") from None


def _build_llm_actor(spec: Spec) -> Actor:
    from arena.players.llm import LLMPlayer
    from arena.providers import provider_from_spec

    provider = provider_from_spec(spec.kind, spec.arg, spec.options, spec.profile)
    return LLMPlayer(provider, provider.model, spec.text, spec.options)


def _build_llm_speculator(spec: Spec) -> Speculator:
    from arena.providers import provider_from_spec
    from arena.speculators.llm import LLMSpeculator

    provider = provider_from_spec(spec.kind, spec.arg, spec.options, spec.profile)
    return LLMSpeculator(provider, provider.model, spec.text)


def available_keys() -> list[str]:
    return [k for k in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY") if os.environ.get(k)]


DEFAULT_WHITE = "stockfish-club"
DEFAULT_BLACK = "stockfish-casual"


def default_players() -> tuple[str, str, str]:
    """The embedded default (white, black, note): engines unless a key is in the environment."""
    keys = available_keys()
    if "ANTHROPIC_API_KEY" in keys:
        return "claude-sonnet", "claude-sonnet", "ANTHROPIC_API_KEY found: Claude plays itself."
    if "OPENAI_API_KEY" in keys:
        return "gpt-5-mini", "gpt-5-mini", "OPENAI_API_KEY found: GPT-5 mini plays itself."
    return (
        DEFAULT_WHITE,
        DEFAULT_BLACK,
        "No API key: Stockfish vs Stockfish, Stockfish speculators. For models set "
        "ANTHROPIC_API_KEY or OPENAI_API_KEY, or play openai:MODEL@URL (README).",
    )


@dataclass(frozen=True, kw_only=True)
class GameEntry:
    """A playable game as `arena games` lists it."""

    spec: str
    title: str
    players: tuple[str, ...]
    """The player kinds that play it (and profiles of those kinds)."""
    speculators: tuple[str, ...]
    default_speculator: str
    listed: bool
    """True for the games with a board of their own in the TUI; others show a generic grid."""


def game_catalog() -> list[GameEntry]:
    """Chess, the listed OpenSpiel games, then every other OpenSpiel game the arena can play."""
    from arena.games.openspiel import GAMES, playable_games

    out = []
    for name in ["chess", *playable_games()]:
        game = load_game(name)
        out.append(
            GameEntry(
                spec=game.spec,
                title=game.title,
                players=kinds_for(game, PLAYER_KINDS),
                speculators=kinds_for(game, SPECULATOR_KINDS),
                default_speculator=game.default_speculator,
                listed=name == "chess" or name in GAMES,
            )
        )
    return out
