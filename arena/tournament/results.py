"""A tournament's results as read from the store: scores, standings, speculation, PGN.

A game's result is read from its match, never stored twice:

- a decided game counts as decided (`1-0`, `0-1`, `1/2-1/2`); a loss by an illegal move or no
  move (`forfeit: ...`) is a *forfeit*;
- a game stopped at the ply limit is adjudicated a draw (said so in the output and the PGN);
- a game that ended with a provider or engine error (`error: ...`) is lost by the side that was
  to move, as a forfeit;
- anything else (running, interrupted, aborted) is not played yet.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import chess
import chess.pgn

from arena.core.ledger import MatchStats
from arena.store import Store
from arena.store.db import MatchRow
from arena.store.export import export_pgn
from arena.store.tournaments import (
    GameState,
    TournamentGameRow,
    TournamentRow,
    get_games,
    tournament_matches,
)
from arena.tournament.config import TournamentConfig
from arena.tournament.ratings import ScoredGame, Table, rating_notes, standings

ADJUDICATED = "max plies"


@dataclass(frozen=True, kw_only=True)
class GameResult:
    """A scheduled game and, once played, its score."""

    game: TournamentGameRow
    match: MatchRow | None
    score: float | None
    """White's points; None while the game is not played."""
    result: str | None
    """The result as rated: `1-0`, `0-1`, `1/2-1/2` (None: not played)."""
    termination: str | None
    forfeit: bool = False
    adjudicated: bool = False

    @property
    def played(self) -> bool:
        return self.score is not None


def score_match(row: MatchRow | None) -> tuple[float | None, str | None, bool, bool]:
    """(White's points, rated result, forfeit, adjudicated) of a stored match."""
    if row is None:
        return None, None, False, False
    termination = row.termination or ""
    if row.result in ("1-0", "0-1", "1/2-1/2") and row.status == "finished":
        score = {"1-0": 1.0, "0-1": 0.0, "1/2-1/2": 0.5}[row.result]
        return score, row.result, termination.startswith("forfeit"), False
    if row.status == "finished" and termination == ADJUDICATED:
        return 0.5, "1/2-1/2", False, True
    if row.status == "stopped" and termination.startswith("error"):
        # The side to move when the error struck is the side whose player failed.
        white_to_move = (row.start_fen.split()[1:2] == ["w"]) == (row.plies % 2 == 0)
        return (0.0, "0-1", True, False) if white_to_move else (1.0, "1-0", True, False)
    return None, None, False, False


async def load_results(store: Store, tournament_id: str) -> list[GameResult]:
    out = []
    matches = await tournament_matches(store, tournament_id)
    for g in await get_games(store, tournament_id):
        row = matches.get(g.match_id) if g.match_id else None
        score, result, forfeit, adjudicated = score_match(row)
        out.append(
            GameResult(
                game=g,
                match=row,
                score=score,
                result=result,
                termination=row.termination if row else None,
                forfeit=forfeit,
                adjudicated=adjudicated,
            )
        )
    return out


def scored_games(results: Sequence[GameResult]) -> list[ScoredGame]:
    return [
        ScoredGame(
            white=r.game.white,
            black=r.game.black or "",
            score=r.score,
            forfeit=r.forfeit,
            pair=f"{r.game.pair}",
        )
        for r in results
        if r.score is not None and r.game.black is not None
    ]


@dataclass(frozen=True, kw_only=True)
class Speculation:
    """Speculation over every played game, as the ledger adds matches up."""

    sequential_s: float = 0.0
    wall_s: float = 0.0
    saved_s: float = 0.0
    saved_pct: float = 0.0
    """`100 * saved_s / sequential_s`."""
    committed_tokens: int = 0
    wasted_tokens: int = 0
    token_overhead_pct: float = 0.0
    hit_rate: float = 0.0
    """Predicted plies over speculated plies, all games together."""
    cost_usd: float | None = 0.0
    plies: int = 0

    @classmethod
    def of(cls, stats: Sequence[MatchStats]) -> Speculation:
        """The ledger's figures over every game (`MatchStats.combine`: one definition each)."""
        total = MatchStats.combine(stats)
        return cls(
            sequential_s=total.sequential_s,
            wall_s=total.wall_s,
            saved_s=total.saved_s,
            saved_pct=total.saved_pct,
            committed_tokens=total.committed_tokens,
            wasted_tokens=total.wasted_tokens,
            token_overhead_pct=total.token_overhead_pct,
            hit_rate=total.hit_rate,
            cost_usd=total.cost_usd,
            plies=total.plies,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "saved_s": self.saved_s,
            "saved_pct": self.saved_pct,
            "token_overhead_pct": self.token_overhead_pct,
            "sequential_s": self.sequential_s,
            "wall_s": self.wall_s,
            "hit_rate": self.hit_rate,
            "committed_tokens": self.committed_tokens,
            "wasted_tokens": self.wasted_tokens,
        }


@dataclass(frozen=True, kw_only=True)
class Report:
    """What `run`, `resume` and `show` print."""

    tournament_id: str
    config: TournamentConfig
    status: str
    stopped_by: str | None
    results: tuple[GameResult, ...]
    table: Table
    speculation: Speculation
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def games_played(self) -> int:
        return sum(1 for r in self.results if r.played)

    def as_dict(self) -> dict[str, Any]:
        fit = self.table.fit
        pairs = []
        for p in self.table.pairs:
            entry = p.as_dict()
            if self.config.sprt is not None:
                sprt = self.config.sprt
                entry["sprt"] = {
                    **sprt.as_dict(),
                    "llr": round(sprt.llr(p.wins, p.draws, p.losses), 3),
                    "lower": round(sprt.lower, 3),
                    "upper": round(sprt.upper, 3),
                    "state": sprt.state(p.wins, p.draws, p.losses),
                }
            pairs.append(entry)
        return {
            "tournament_id": self.tournament_id,
            "format": self.config.format,
            "status": self.status,
            "games_played": self.games_played,
            "games_scheduled": sum(1 for r in self.results if r.game.state == GameState.SCHEDULED),
            "stopped_by": self.stopped_by,
            "standings": [s.as_dict() for s in self.table.standings],
            "rating": {
                **rating_notes(fit),
                "rated_games": self.table.rated_games,
                "forfeits_rated": self.config.rate_forfeits,
                "adjudicated_draws": sum(1 for r in self.results if r.adjudicated),
            },
            "crosstable": self.table.crosstable,
            "pairs": pairs,
            "speculation": self.speculation.as_dict(),
            "cost_usd": self.speculation.cost_usd,
            "notes": list(self.notes),
        }

    def text(self) -> str:
        """The standings table, crosstable and notes, for a terminal."""
        rows = self.table.standings
        width = max([len(s.player) for s in rows] + [6])
        head = (
            f"{'#':>2} {'player':<{width}} {'elo':>7} {'±95%':>6} {'games':>5} "
            f"{'W':>4} {'D':>4} {'L':>4} {'forf':>4} {'score':>6}"
        )
        lines = [
            f"tournament {self.tournament_id} ({self.config.format}): {self.games_played} games, "
            f"{self.status}" + (f", stopped by {self.stopped_by}" if self.stopped_by else ""),
            head,
            "-" * len(head),
        ]
        for rank, s in enumerate(rows, 1):
            elo = "-" if s.elo is None else f"{s.elo:+.0f}"
            ci = "-" if s.ci95 is None else f"{s.ci95:.0f}"
            lines.append(
                f"{rank:>2} {s.player:<{width}} {elo:>7} {ci:>6} {s.games:>5} "
                f"{s.wins:>4} {s.draws:>4} {s.losses:>4} {s.forfeits:>4} {s.score:>6.1f}"
            )
        names = [s.player for s in rows]
        if len(names) <= 10:
            cell = max(7, *(len(v) for row in self.table.crosstable.values() for v in row.values()))
            lines.append("")
            lines.append(
                f"{'':<{width + 3}}"
                + "".join(f"{i!s:>{cell + 1}}" for i in range(1, len(names) + 1))
            )
            for rank, me in enumerate(names, 1):
                cells = [
                    "-" * 3 if them == me else self.table.crosstable.get(me, {}).get(them, "")
                    for them in names
                ]
                lines.append(
                    f"{rank:>2} {me:<{width}}" + "".join(f"{c:>{cell + 1}}" for c in cells)
                )
        fit = self.table.fit
        spec = self.speculation
        lines.append("")
        lines.append(
            f"Elo: Bradley-Terry maximum likelihood, anchored at {fit.anchor if fit else '-'} = 0; "
            f"±95% from the Fisher information; prior: "
            + (f"{fit.prior:g} virtual draw per player" if fit and fit.prior > 0 else "none")
            + ("" if self.config.rate_forfeits else "; forfeits not rated")
        )
        adjudicated = sum(1 for r in self.results if r.adjudicated)
        if adjudicated:
            lines.append(f"{adjudicated} game(s) reached the ply limit and count as draws")
        lines.append(
            f"speculation: saved {spec.saved_s:.1f}s of {spec.sequential_s:.1f}s sequential "
            f"({spec.saved_pct:.1f}%), hit rate {100 * spec.hit_rate:.0f}%, token overhead "
            f"{spec.token_overhead_pct:.0f}%"
            + ("" if spec.cost_usd in (None, 0.0) else f", ${spec.cost_usd:.4f}")
        )
        return "\n".join(lines)


def build_report(
    tournament: TournamentRow, results: Sequence[GameResult], notes: Sequence[str] = ()
) -> Report:
    config = TournamentConfig.from_dict(tournament.config)
    byes: dict[str, int] = {}
    for r in results:
        if r.game.state == GameState.BYE:
            byes[r.game.white] = byes.get(r.game.white, 0) + 1
    table = standings(
        scored_games(results),
        config.names,
        anchor=config.anchor_name,
        prior=config.prior,
        rate_forfeits=config.rate_forfeits,
        byes=byes,
    )
    stats = [r.match.stats for r in results if r.played and r.match and r.match.stats]
    return Report(
        tournament_id=tournament.id,
        config=config,
        status=str(tournament.status),
        stopped_by=tournament.stopped_by,
        results=tuple(results),
        table=table,
        speculation=Speculation.of(stats),
        notes=tuple(notes),
    )


async def export_tournament_pgn(store: Store, tournament: TournamentRow) -> tuple[str, int]:
    """Every played game as one PGN (Event, Round, Opening, player names, the rated result);
    returns the text and the number of games left out because they are not played yet."""
    config = TournamentConfig.from_dict(tournament.config)
    results = await load_results(store, tournament.id)
    out = io.StringIO()
    left_out = 0
    for r in results:
        if r.game.state != GameState.SCHEDULED or r.game.match_id is None:
            continue
        if not r.played or r.result is None:
            left_out += 1
            continue
        text = await export_pgn(store, r.game.match_id)
        game = chess.pgn.read_game(io.StringIO(text))
        if game is None:
            left_out += 1
            continue
        h = game.headers
        h["Event"] = f"Arena {config.format} {tournament.id}"
        h["Round"] = f"{r.game.round}.{r.game.n}"
        h["White"] = r.game.white
        h["Black"] = r.game.black or "?"
        h["Result"] = r.result
        h["WhiteSpec"] = config.spec_of(r.game.white)
        h["BlackSpec"] = config.spec_of(r.game.black or r.game.white)
        if r.game.opening is not None and r.game.opening < len(config.openings):
            h["Opening"] = config.openings[r.game.opening].name
        if r.adjudicated:
            h["Termination"] = "adjudication"
            h["ArenaTermination"] = "max plies: adjudicated a draw"
        elif r.forfeit:
            h["Termination"] = "rules infraction"
            h["ArenaTermination"] = r.termination or "forfeit"
        h["ArenaMatch"] = r.game.match_id
        print(game, file=out, end="\n\n")
    return out.getvalue(), left_out


__all__ = [
    "GameResult",
    "Report",
    "Speculation",
    "build_report",
    "export_tournament_pgn",
    "load_results",
    "score_match",
    "scored_games",
]
