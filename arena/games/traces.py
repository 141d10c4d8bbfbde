"""Recorded games (format in `arena/data/traces/README.md`): one JSON object per ply.

A trace is checked line by line as it is read: UTF-8, strict JSON (no `NaN` or `Infinity`),
whole non-negative token counts below `MAX_TOKENS`, latencies from 0 to `MAX_LATENCY_S`. A line
that breaks any of these is an `ArenaError` naming the file and line; nothing is clamped, since
a recording with an absurd figure is broken, and replaying it would only hide that.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import chess

from arena.config import MAX_TIME_SCALE
from arena.core.errors import TraceError
from arena.core.game import GameState
from arena.games.chess import ChessState, PlacementKey, placement_key

MAX_LATENCY_S: Final = 86_400.0
"""The longest recorded decision a trace may hold: a day."""
MAX_TOKENS: Final = 10**9
"""The most tokens one recorded call may report."""


def check_time_scale(value: float) -> float:
    """`value` if it is a usable time scale (0..MAX_TIME_SCALE), else an `ArenaError`."""
    if not (math.isfinite(value) and 0 <= value <= MAX_TIME_SCALE):
        raise TraceError(f"the time scale must be 0..{MAX_TIME_SCALE:g}, not {value}")
    return value


@dataclass(frozen=True)
class TracePly:
    ply: int
    fen: str
    move: str
    latency_s: float
    input_tokens: int
    output_tokens: int
    guesses: tuple[str, ...]
    guess_latency_s: float
    guess_input_tokens: int
    guess_output_tokens: int
    model: str = ""


def position_key(fen: str) -> str:
    """Placement, side to move and castling: what identifies a position across FEN writers."""
    return " ".join(fen.split()[:3])


@dataclass(frozen=True)
class Trace:
    """A recorded game, looked up by (ply, position)."""

    game: str
    path: str
    plies: tuple[TracePly, ...]

    @property
    def start_fen(self) -> str:
        return self.plies[0].fen

    def at(self, ply: int, fen: str) -> TracePly | None:
        if 0 <= ply < len(self.plies):
            rec = self.plies[ply]
            if position_key(rec.fen) == position_key(fen):
                return rec
        return None

    def at_state(self, state: GameState) -> TracePly | None:
        """`at` for a state: a chess position is compared by its pieces, side to move and
        castling rights, without writing its FEN (most states asked about are speculative)."""
        if not 0 <= state.ply < len(self.plies):
            return None
        if isinstance(state, ChessState):
            key = self._keys[state.ply]
            if key is not None:
                return self.plies[state.ply] if state.placement_key() == key else None
        return self.at(state.ply, state.position())

    @cached_property
    def _keys(self) -> list[PlacementKey | None]:
        keys: list[PlacementKey | None] = []
        for rec in self.plies:
            try:
                keys.append(placement_key(chess.Board(rec.fen)))
            except ValueError:
                keys.append(None)  # compared as text, as `at` does
        return keys

    def median_latency(self, side: int) -> float:
        values = [p.latency_s for p in self.plies if p.ply % 2 == side]
        return statistics.median(values) if values else 1.0

    def median_tokens(self, side: int) -> tuple[int, int]:
        own = [p for p in self.plies if p.ply % 2 == side] or list(self.plies)
        return (
            int(statistics.median(p.input_tokens for p in own)),
            int(statistics.median(p.output_tokens for p in own)),
        )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _latency(obj: dict[str, Any], key: str, default: float | None = None) -> float:
    value = obj.get(key, default) if default is not None else obj[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number of seconds, not {value!r}")
    if not 0 <= value <= MAX_LATENCY_S:
        raise ValueError(f"{key} must be 0..{MAX_LATENCY_S:g} s, not {value!r}")
    return float(value)


def _tokens(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key, 0)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        raise ValueError(f"{key} must be a whole number 0..{MAX_TOKENS}, not {value!r}")
    return value


def _ply(obj: Any) -> TracePly:
    if not isinstance(obj, dict):
        raise ValueError("a trace line is a JSON object")
    guesses = obj.get("guesses", [])
    if not isinstance(guesses, list):
        raise ValueError(f"guesses must be a list of moves, not {guesses!r}")
    ply = obj["ply"]
    if isinstance(ply, bool) or not isinstance(ply, int):
        raise ValueError(f"ply must be a whole number, not {ply!r}")
    rec = TracePly(
        ply=ply,
        fen=str(obj["fen"]),
        move=str(obj["move"]),
        latency_s=_latency(obj, "latency_s"),
        input_tokens=_tokens(obj, "input_tokens"),
        output_tokens=_tokens(obj, "output_tokens"),
        guesses=tuple(str(g) for g in guesses),
        guess_latency_s=_latency(obj, "guess_latency_s", 0.0),
        guess_input_tokens=_tokens(obj, "guess_input_tokens"),
        guess_output_tokens=_tokens(obj, "guess_output_tokens"),
        model=str(obj.get("model", "")),
    )
    chess.Board(rec.fen)
    return rec


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


_LOADED: dict[tuple[str, int, int], Trace] = {}
"""Traces read so far, by path, modification time and size: a trace is immutable, so the
games of a tournament or bench that replay one file share one copy."""


def load_trace(path: str | Path) -> Trace:
    """Reads and checks a trace; a missing or malformed file is an `ArenaError` naming the
    file and, for a bad line, its number."""
    p = Path(path)
    try:
        stat = p.stat()
        known = (str(p.resolve()), stat.st_mtime_ns, stat.st_size)
        if known in _LOADED:
            return _LOADED[known]
        raw = p.read_bytes()
    except OSError as exc:
        raise TraceError(f"cannot read trace {path}: {exc.strerror}") from None
    trace = _parse(path, p, raw)
    _ = trace._keys  # its positions' keys, computed once, now
    if len(_LOADED) >= 64:
        _LOADED.clear()
    _LOADED[known] = trace
    return trace


def _parse(path: str | Path, p: Path, raw: bytes) -> Trace:
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        where = raw[: exc.start].count(b"\n") + 1
        raise TraceError(f"{path}:{where}: not UTF-8 text (a trace is JSON lines)") from None
    plies: list[TracePly] = []
    game = ""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_constant=_no_constant)
            rec = _ply(obj)
        except KeyError as exc:
            raise TraceError(f"{path}:{n}: not a trace line (no {exc})") from None
        except (ValueError, TypeError, RecursionError) as exc:
            raise TraceError(f"{path}:{n}: not a trace line ({_short(str(exc))})") from None
        if rec.ply != len(plies):
            raise TraceError(f"{path}:{n}: expected ply {len(plies)}, found {rec.ply}")
        if not plies:
            game = str(obj.get("game", p.stem))
        plies.append(rec)
    if not plies:
        raise TraceError(f"{path}: empty trace")
    return Trace(game=game, path=str(p), plies=tuple(plies))
