"""`arena tournament rate FILE.pgn`: any PGN's games rated as a tournament's are.

Only the headers are read (White, Black, Result, FEN), so files of thousands of games from
fastchess, cutechess or a rating list rate quickly. Unfinished games (`*`) are left out.
Consecutive games of the same two players with colours swapped from the same position form the
pentanomial pairs, as those programs write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chess.pgn

from arena.core.errors import ArenaError
from arena.tournament.ratings import (
    DEFAULT_PRIOR,
    ScoredGame,
    Table,
    pair_consecutive,
    rating_notes,
    standings,
)

_SCORES = {"1-0": 1.0, "0-1": 0.0, "1/2-1/2": 0.5}
_FORFEIT_TERMINATIONS = ("rules infraction", "time forfeit", "abandoned")


def read_pgn_games(path: str | Path) -> tuple[list[ScoredGame], int]:
    """The decided games of a PGN file (with pair keys) and the number left out."""
    where = Path(path).expanduser()
    games: list[ScoredGame] = []
    fens: list[str | None] = []
    skipped = 0
    try:
        handle = where.open(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise ArenaError(f"cannot read {where}: {exc.strerror}") from None
    with handle:
        while True:
            try:
                headers = chess.pgn.read_headers(handle)
            except ValueError as exc:
                raise ArenaError(f"{where}: unreadable PGN ({exc})") from None
            if headers is None:
                break
            result = headers.get("Result", "*")
            white, black = headers.get("White", "?"), headers.get("Black", "?")
            if result not in _SCORES or white == black:
                skipped += 1
                continue
            termination = headers.get("Termination", "").lower()
            games.append(
                ScoredGame(
                    white=white,
                    black=black,
                    score=_SCORES[result],
                    forfeit=termination in _FORFEIT_TERMINATIONS,
                )
            )
            fens.append(headers.get("FEN"))
    return pair_consecutive(games, fens), skipped


@dataclass(frozen=True, kw_only=True)
class RateReport:
    source: str
    table: Table
    games: int
    skipped: int

    def as_dict(self) -> dict[str, Any]:
        fit = self.table.fit
        pairs = [p.as_dict() for p in self.table.pairs]
        return {
            "source": self.source,
            "games_played": self.games,
            "games_skipped": self.skipped,
            "standings": [s.as_dict() for s in self.table.standings],
            "rating": rating_notes(fit),
            "crosstable": self.table.crosstable,
            "pairs": pairs,
        }

    def text(self) -> str:
        rows = self.table.standings
        width = max([len(s.player) for s in rows] + [6])
        head = (
            f"{'#':>2} {'player':<{width}} {'elo':>7} {'±95%':>6} {'games':>5} "
            f"{'W':>5} {'D':>5} {'L':>5} {'score':>7}"
        )
        lines = [f"{self.source}: {self.games} games rated, {self.skipped} left out", head]
        lines.append("-" * len(head))
        for rank, s in enumerate(rows, 1):
            elo = "-" if s.elo is None else f"{s.elo:+.0f}"
            ci = "-" if s.ci95 is None else f"{s.ci95:.0f}"
            lines.append(
                f"{rank:>2} {s.player:<{width}} {elo:>7} {ci:>6} {s.games:>5} "
                f"{s.wins:>5} {s.draws:>5} {s.losses:>5} {s.score:>7.1f}"
            )
        fit = self.table.fit
        lines.append(
            f"Elo: Bradley-Terry maximum likelihood, anchored at {fit.anchor if fit else '-'} = 0; "
            "±95% from the Fisher information; prior: "
            + (f"{fit.prior:g} virtual draw per player" if fit and fit.prior > 0 else "none")
        )
        return "\n".join(lines)


def rate_pgn(
    path: str | Path, *, anchor: str | None = None, prior: float = DEFAULT_PRIOR
) -> RateReport:
    games, skipped = read_pgn_games(path)
    if not games:
        raise ArenaError(f"{path}: no decided game to rate")
    names: list[str] = []
    for g in games:
        for name in (g.white, g.black):
            if name not in names:
                names.append(name)
    if anchor is not None and anchor not in names:
        raise ArenaError(f"--anchor {anchor!r} plays no game in {path}")
    table = standings(games, names, anchor=anchor, prior=prior)
    return RateReport(source=str(path), table=table, games=len(games), skipped=skipped)


__all__ = ["RateReport", "rate_pgn", "read_pgn_games"]
