"""Opening suites: the positions a tournament's games start from.

Each opening is played twice, colours swapped, so that neither player gets the better side of it.
A suite ships with the package (`arena/data/openings/arena-balanced.epd`); `--openings FILE` takes
an EPD (or FEN) file, one position a line, or a PGN file, whose games' final positions are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import chess
import chess.pgn

from arena import data
from arena.core.errors import ArenaError

SHIPPED_SUITE = "arena-balanced.epd"


@dataclass(frozen=True, kw_only=True)
class Opening:
    """A start position."""

    name: str
    fen: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "fen": self.fen}


def shipped_suite() -> Path:
    return data.resource_path("openings", SHIPPED_SUITE)


def load_openings(path: str | Path | None = None) -> tuple[Opening, ...]:
    """The openings of an EPD/FEN or PGN file (the shipped suite when `path` is None)."""
    where = Path(path).expanduser() if path is not None else shipped_suite()
    try:
        text = where.read_text(encoding="utf-8")
    except OSError as exc:
        raise ArenaError(f"cannot read openings {where}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ArenaError(f"openings {where} is not UTF-8 text") from None
    if where.suffix.lower() == ".pgn" or text.lstrip().startswith("["):
        openings = _from_pgn(where)
    else:
        openings = _from_epd(where, text)
    if not openings:
        raise ArenaError(f"openings {where} holds no position")
    return openings


def _from_epd(where: Path, text: str) -> tuple[Opening, ...]:
    out: list[Opening] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            fields = line.split()
            if len(fields) == 6 and fields[4].isdigit() and fields[5].isdigit():
                board, ops = chess.Board(line), {}
            else:
                board = chess.Board()
                ops = board.set_epd(line)
        except ValueError as exc:
            raise ArenaError(f"{where}:{number}: not an EPD or FEN position ({exc})") from None
        if board.status() != chess.STATUS_VALID or board.is_game_over():
            raise ArenaError(f"{where}:{number}: not a playable position")
        name = ops.get("id")
        out.append(Opening(name=str(name) if name else f"{where.stem} {number}", fen=board.fen()))
    return tuple(out)


def _from_pgn(where: Path) -> tuple[Opening, ...]:
    out: list[Opening] = []
    with where.open(encoding="utf-8") as handle:
        while True:
            try:
                game = chess.pgn.read_game(handle)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ArenaError(f"{where}: unreadable PGN ({exc})") from None
            if game is None:
                break
            if game.errors:
                raise ArenaError(f"{where}: game {len(out) + 1}: {game.errors[0]}")
            board = game.end().board()
            if board.is_game_over():
                raise ArenaError(f"{where}: game {len(out) + 1} ends the game; not an opening")
            h = game.headers
            name = h.get("Opening") or h.get("ECO") or h.get("Event") or ""
            if not name or name == "?":
                name = f"{where.stem} {len(out) + 1}"
            out.append(Opening(name=name, fen=board.fen()))
    return tuple(out)
