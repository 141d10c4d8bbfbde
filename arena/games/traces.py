"""Recorded games (`../shared/traces/` format): one JSON object per ply."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import chess

from arena.core.errors import ArenaError


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

    def median_latency(self, side: int) -> float:
        values = [p.latency_s for p in self.plies if p.ply % 2 == side]
        return statistics.median(values) if values else 1.0

    def median_tokens(self, side: int) -> tuple[int, int]:
        own = [p for p in self.plies if p.ply % 2 == side] or list(self.plies)
        return (
            int(statistics.median(p.input_tokens for p in own)),
            int(statistics.median(p.output_tokens for p in own)),
        )


def load_trace(path: str | Path) -> Trace:
    """Reads and checks a trace; a missing or malformed file is an `ArenaError`."""
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except OSError as exc:
        raise ArenaError(f"cannot read trace {path}: {exc.strerror}") from None
    plies: list[TracePly] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            rec = TracePly(
                ply=int(obj["ply"]),
                fen=str(obj["fen"]),
                move=str(obj["move"]),
                latency_s=float(obj["latency_s"]),
                input_tokens=int(obj.get("input_tokens", 0)),
                output_tokens=int(obj.get("output_tokens", 0)),
                guesses=tuple(str(g) for g in obj.get("guesses", [])),
                guess_latency_s=float(obj.get("guess_latency_s", 0.0)),
                guess_input_tokens=int(obj.get("guess_input_tokens", 0)),
                guess_output_tokens=int(obj.get("guess_output_tokens", 0)),
                model=str(obj.get("model", "")),
            )
            chess.Board(rec.fen)
        except (ValueError, KeyError, TypeError) as exc:
            raise ArenaError(f"{path}:{n}: not a trace line ({exc})") from None
        if rec.ply != len(plies):
            raise ArenaError(f"{path}:{n}: expected ply {len(plies)}, found {rec.ply}")
        plies.append(rec)
    if not plies:
        raise ArenaError(f"{path}: empty trace")
    game = str(json.loads(lines[0]).get("game", p.stem))
    return Trace(game=game, path=str(p), plies=tuple(plies))
