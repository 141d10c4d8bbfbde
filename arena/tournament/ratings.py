"""Ratings from game results: Bradley–Terry maximum likelihood, pentanomial pairs, SPRT.

Everything here is pure (no I/O) and works on `ScoredGame`s, so a tournament's stored games and
any PGN file are rated the same way.

**Elo by maximum likelihood.** The Bradley–Terry (logistic) model: a player rated `d` Elo above
another scores `1 / (1 + 10^(-d/400))` against it on average. A draw counts as half a win and half
a loss (as Ordo does). The ratings maximise the likelihood of all results; they are *anchored*:
the anchor is 0 and every other figure is a difference to it.

**Prior.** A player who won (or lost) every game has no finite maximum-likelihood rating. Every
player therefore gets a weak prior of **one virtual draw**, shared evenly among the opponents it
actually met (BayesElo does the same with its default two virtual draws). Its pull is that of one
game among all of a player's games: negligible after a few dozen games, decisive only where the
data alone says "infinitely strong". `prior=0` turns it off (a perfect score then has no finite
rating: `elo` is None).

**Intervals.** 95% intervals are ±1.96 standard errors from the observed Fisher information (the
inverse of the negative Hessian of the log-likelihood at the maximum, with the anchor held fixed):
the error of a player's difference to the anchor. Draws are treated as half-points, so where
many games are drawn the intervals are a little wide (conservative).

**Pentanomial.** Engine testers play each opening twice with colours swapped and count the pairs
by their total score for one player: 0, ½, 1, 1½, 2 (LL, LD, DD or WL, WD, WW). The Elo
difference and its interval come from the mean and variance of those pair scores (fastchess,
OpenBench); colour and opening bias cancel within a pair.

**SPRT.** The sequential probability ratio test of cutechess: H0 "the difference is elo0" against
H1 "it is elo1", with the log-likelihood ratio of the W/D/L counts under the BayesElo model (the
draw Elo estimated from the games so far), stopping at the bounds `ln(beta/(1-alpha))` and
`ln((1-beta)/alpha)`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ELO_PER_NAT: float = 400.0 / math.log(10.0)
"""Elo points per natural-log unit of the logistic model."""
Z95: float = 1.959963984540054
"""The two-sided 95% quantile of the normal distribution."""
DEFAULT_PRIOR: float = 1.0
"""Virtual draws per player (see the module docstring)."""


@dataclass(frozen=True, kw_only=True)
class ScoredGame:
    """One game's result as ratings see it."""

    white: str
    black: str
    score: float
    """White's points: 1, 0.5 or 0."""
    forfeit: bool = False
    """Lost by an illegal move, no move or a provider error (not decided on the board)."""
    pair: str | None = None
    """Games with the same `pair` (same players, same opening, colours swapped) form a
    pentanomial pair."""


# -- Elo -------------------------------------------------------------------------------------


def expected_score(elo_diff: float) -> float:
    """The mean score of a player `elo_diff` above its opponent."""
    return 1.0 / (1.0 + math.pow(10.0, -elo_diff / 400.0))


def elo_from_score(score: float) -> float:
    """The Elo difference that gives mean score `score` (0 < score < 1)."""
    return -400.0 * math.log10(1.0 / score - 1.0)


@dataclass(frozen=True, kw_only=True)
class Rating:
    """One player's anchored rating."""

    player: str
    elo: float | None
    """Elo difference to the anchor; None when not connected to it by games (or, with no
    prior, a perfect or zero score)."""
    ci95: float | None
    """Half-width of the 95% interval of `elo` (0 for the anchor)."""
    games: int


@dataclass(frozen=True, kw_only=True)
class RatingFit:
    """The maximum-likelihood ratings of a set of games."""

    anchor: str
    prior: float
    ratings: tuple[Rating, ...]
    iterations: int = 0

    def of(self, player: str) -> Rating:
        return next(r for r in self.ratings if r.player == player)


def round_elo(value: float | None) -> float | None:
    """An Elo figure for output: one decimal, None when unknown or infinite."""
    return None if value is None or not math.isfinite(value) else round(value, 1) + 0.0


def rating_notes(fit: RatingFit | None) -> dict[str, Any]:
    """How the ratings were computed, for every JSON output that shows them."""
    return {
        "method": "Bradley-Terry maximum likelihood (draws count half), Elo scale",
        "anchor": fit.anchor if fit else None,
        "prior": (
            f"{fit.prior:g} virtual draw per player, shared among its opponents"
            if fit and fit.prior > 0
            else "none"
        ),
        "ci95": "observed Fisher information, difference to the anchor",
    }


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """`matrix^-1 vector` by Gauss–Jordan elimination with partial pivoting."""
    n = len(vector)
    a = [[*row, vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-300:
            raise ZeroDivisionError("singular matrix")
        a[col], a[pivot] = a[pivot], a[col]
        p = a[col][col]
        a[col] = [v / p for v in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0.0:
                f = a[r][col]
                a[r] = [v - f * w for v, w in zip(a[r], a[col], strict=True)]
    return [a[i][n] for i in range(n)]


def _inverse(matrix: list[list[float]]) -> list[list[float]]:
    n = len(matrix)
    columns = [_solve(matrix, [1.0 if i == j else 0.0 for i in range(n)]) for j in range(n)]
    return [[columns[j][i] for j in range(n)] for i in range(n)]


def _components(players: Sequence[str], edges: Iterable[tuple[int, int]]) -> list[int]:
    parent = list(range(len(players)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in edges:
        parent[find(i)] = find(j)
    return [find(i) for i in range(len(players))]


def fit_ratings(
    games: Iterable[ScoredGame],
    players: Sequence[str] | None = None,
    *,
    anchor: str | None = None,
    prior: float = DEFAULT_PRIOR,
) -> RatingFit:
    """Bradley–Terry maximum-likelihood Elo with 95% intervals, anchored at `anchor` (default:
    the first player)."""
    game_list = list(games)
    names: list[str] = list(players or [])
    for g in game_list:
        for name in (g.white, g.black):
            if name not in names:
                names.append(name)
    if not names:
        return RatingFit(anchor=anchor or "", prior=prior, ratings=())
    anchor = anchor if anchor is not None else names[0]
    if anchor not in names:
        raise ValueError(f"anchor {anchor!r} is not a player")
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    # Games and points between each pair (i < j): n_ij, and i's points s_ij.
    count: dict[tuple[int, int], float] = {}
    points: dict[tuple[int, int], float] = {}
    played = [0] * n
    for g in game_list:
        i, j = index[g.white], index[g.black]
        if i == j:
            continue
        score = g.score
        if i > j:
            i, j, score = j, i, 1.0 - score
        count[(i, j)] = count.get((i, j), 0.0) + 1.0
        points[(i, j)] = points.get((i, j), 0.0) + score
        played[i] += 1
        played[j] += 1
    opponents: list[set[int]] = [set() for _ in range(n)]
    for i, j in count:
        opponents[i].add(j)
        opponents[j].add(i)
    if prior > 0:
        for i, j in list(count):
            virtual = prior * (1.0 / len(opponents[i]) + 1.0 / len(opponents[j])) / 2.0
            count[(i, j)] += virtual
            points[(i, j)] += virtual / 2.0

    root = _components(names, count)
    a = index[anchor]
    free = [i for i in range(n) if i != a and root[i] == root[a]]
    # Without a prior a player with all points (or none) has no finite maximum.
    if prior <= 0:
        free = [i for i in free if _interior(i, count, points)]
    position = {p: k for k, p in enumerate(free)}
    r = [0.0] * n
    iterations = 0

    def loglik(values: list[float]) -> float:
        total = 0.0
        for (i, j), c in count.items():
            if (i in position or i == a) and (j in position or j == a):
                d = values[i] - values[j]
                s = points[(i, j)]
                total += s * _log_sigmoid(d) + (c - s) * _log_sigmoid(-d)
        return total

    def derivatives(values: list[float]) -> tuple[list[float], list[list[float]]]:
        grad = [0.0] * len(free)
        info = [[0.0] * len(free) for _ in free]
        for (i, j), c in count.items():
            ki, kj = position.get(i), position.get(j)
            if (ki is None and i != a) or (kj is None and j != a):
                continue
            p = _sigmoid(values[i] - values[j])
            g = points[(i, j)] - c * p
            w = c * p * (1.0 - p)
            if ki is not None:
                grad[ki] += g
                info[ki][ki] += w
            if kj is not None:
                grad[kj] -= g
                info[kj][kj] += w
            if ki is not None and kj is not None:
                info[ki][kj] -= w
                info[kj][ki] -= w
        return grad, info

    if free:
        current = loglik(r)
        for iterations in range(1, 200):  # noqa: B007 - the count is reported
            grad, info = derivatives(r)
            try:
                step = _solve(info, grad)
            except ZeroDivisionError:
                break
            scale = 1.0
            while True:
                trial = r[:]
                for k, p in enumerate(free):
                    trial[p] += scale * step[k]
                value = loglik(trial)
                if value >= current - 1e-12 or scale < 1e-6:
                    break
                scale /= 2.0
            r, improvement, current = trial, value - current, value
            if max(abs(s) for s in step) * scale < 1e-10 or abs(improvement) < 1e-13:
                break
        _, info = derivatives(r)
        try:
            covariance = _inverse(info)
        except ZeroDivisionError:
            covariance = [[math.nan] * len(free) for _ in free]
    else:
        covariance = []

    ratings = []
    for i, name in enumerate(names):
        if i == a:
            elo: float | None = 0.0
            ci: float | None = 0.0
        elif i in position:
            k = position[i]
            elo = r[i] * ELO_PER_NAT
            variance = covariance[k][k]
            ci = Z95 * math.sqrt(variance) * ELO_PER_NAT if variance >= 0 else None
            if ci is not None and not math.isfinite(ci):
                ci = None
        else:
            elo = ci = None
        ratings.append(Rating(player=name, elo=elo, ci95=ci, games=played[i]))
    return RatingFit(anchor=anchor, prior=prior, ratings=tuple(ratings), iterations=iterations)


def _interior(
    i: int, count: dict[tuple[int, int], float], points: dict[tuple[int, int], float]
) -> bool:
    """Whether player `i` has both points and losses (a finite maximum without a prior)."""
    won = lost = 0.0
    for (x, y), c in count.items():
        if x == i:
            won += points[(x, y)]
            lost += c - points[(x, y)]
        elif y == i:
            won += c - points[(x, y)]
            lost += points[(x, y)]
    return won > 0 and lost > 0


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


# -- pentanomial ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Pentanomial:
    """Colour-swapped game pairs of `player` against `opponent`, by `player`'s pair score."""

    player: str
    opponent: str
    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    """Pairs scoring 0, 1/2, 1, 3/2, 2 points for `player` (LL, LD, DD+WL, WD, WW)."""
    wins: int = 0
    draws: int = 0
    losses: int = 0
    """`player`'s W/D/L over every game between the two (unpaired ones included)."""

    @property
    def pairs(self) -> int:
        return sum(self.counts)

    @property
    def score(self) -> float | None:
        """`player`'s mean score per game over the pairs."""
        if not self.pairs:
            return None
        return sum(c * k / 4.0 for k, c in enumerate(self.counts)) / self.pairs

    def as_dict(self) -> dict[str, Any]:
        """JSON of the pair: W/D/L, the pentanomial counts, the Elo difference and interval."""
        elo, low, high = self.elo()
        return {
            "player": self.player,
            "opponent": self.opponent,
            "wins": self.wins,
            "draws": self.draws,
            "losses": self.losses,
            "pentanomial": list(self.counts),
            "elo": round_elo(elo),
            "ci95": [round_elo(low), round_elo(high)],
        }

    def elo(self) -> tuple[float | None, float | None, float | None]:
        """(Elo difference, low, high) of the 95% interval; None where the score is 0 or 1, and
        no interval while the pair scores do not vary (one pair, or all alike)."""
        mean = self.score
        if mean is None:
            return None, None, None
        n = self.pairs
        variance = sum(c * (k / 4.0 - mean) ** 2 for k, c in enumerate(self.counts)) / n
        error = math.sqrt(variance / n)

        def elo(s: float) -> float | None:
            return elo_from_score(s) if 0.0 < s < 1.0 else None

        if variance <= 0.0:
            return elo(mean), None, None
        return elo(mean), elo(mean - Z95 * error), elo(mean + Z95 * error)


def pentanomials(games: Iterable[ScoredGame], players: Sequence[str] = ()) -> list[Pentanomial]:
    """One `Pentanomial` per pair of players, from the games that share a `pair` key, seen by
    the player listed first in `players` (else the first met); W/D/L count every game between
    the two."""
    rank = {name: i for i, name in enumerate(players)}
    by_pair: dict[str, list[ScoredGame]] = {}
    wdl: dict[tuple[str, str], list[int]] = {}
    order: list[tuple[str, str]] = []
    for g in games:
        if g.white in rank and g.black in rank:
            leader = g.white if rank[g.white] < rank[g.black] else g.black
            key = (leader, g.black if leader == g.white else g.white)
        else:
            key = (g.white, g.black) if (g.black, g.white) not in wdl else (g.black, g.white)
        if key not in wdl:
            wdl[key] = [0, 0, 0]
            order.append(key)
        mine = g.score if key[0] == g.white else 1.0 - g.score
        wdl[key][0 if mine == 1.0 else 1 if mine == 0.5 else 2] += 1
        if g.pair is not None:
            by_pair.setdefault(g.pair, []).append(g)
    counts: dict[tuple[str, str], list[int]] = {key: [0] * 5 for key in order}
    for pair_games in by_pair.values():
        if len(pair_games) != 2:
            continue
        first, second = pair_games
        if {first.white, first.black} != {
            second.white,
            second.black,
        } or first.white == second.white:
            continue
        key = (
            (first.white, first.black)
            if (first.white, first.black) in wdl
            else (first.black, first.white)
        )
        total = sum(g.score if g.white == key[0] else 1.0 - g.score for g in pair_games)
        counts[key][round(total * 2)] += 1
    out = []
    for key in order:
        c = counts[key]
        w, d, lost = wdl[key]
        out.append(
            Pentanomial(
                player=key[0],
                opponent=key[1],
                counts=(c[0], c[1], c[2], c[3], c[4]),
                wins=w,
                draws=d,
                losses=lost,
            )
        )
    return out


def pair_consecutive(
    games: Sequence[ScoredGame], start_fens: Sequence[str | None] = ()
) -> list[ScoredGame]:
    """Games of a PGN file with `pair` keys: two consecutive games of the same players with
    colours swapped (and the same start position, when known) form a pair, as fastchess and
    cutechess write them."""
    out: list[ScoredGame] = []
    i = 0
    fens = list(start_fens) + [None] * (len(games) - len(start_fens))
    while i < len(games):
        g = games[i]
        if i + 1 < len(games):
            h = games[i + 1]
            if (h.white, h.black) == (g.black, g.white) and fens[i] == fens[i + 1]:
                key = f"p{i}"
                out.append(_with_pair(g, key))
                out.append(_with_pair(h, key))
                i += 2
                continue
        out.append(g)
        i += 1
    return out


def _with_pair(g: ScoredGame, key: str) -> ScoredGame:
    return ScoredGame(white=g.white, black=g.black, score=g.score, forfeit=g.forfeit, pair=key)


# -- SPRT -------------------------------------------------------------------------------------

SprtState = Literal["continue", "H0", "H1"]


@dataclass(frozen=True, kw_only=True)
class Sprt:
    """An SPRT of H0 `elo0` against H1 `elo1` (logistic Elo), error rates `alpha` and `beta`."""

    elo0: float = 0.0
    elo1: float = 5.0
    alpha: float = 0.05
    beta: float = 0.05

    @classmethod
    def parse(cls, text: str) -> Sprt:
        """`elo0,elo1,alpha,beta` (alpha and beta default to 0.05)."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) not in (2, 4):
            raise ValueError(f"takes elo0,elo1[,alpha,beta], not {text!r}")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"takes numbers elo0,elo1[,alpha,beta], not {text!r}") from None
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"takes finite numbers, not {text!r}")
        sprt = cls(**dict(zip(("elo0", "elo1", "alpha", "beta"), values, strict=False)))
        if sprt.elo1 <= sprt.elo0:
            raise ValueError("elo1 must be above elo0")
        if not (0 < sprt.alpha < 0.5 and 0 < sprt.beta < 0.5):
            raise ValueError("alpha and beta must be between 0 and 0.5")
        return sprt

    @property
    def lower(self) -> float:
        """Accept H0 when the LLR falls below this."""
        return math.log(self.beta / (1.0 - self.alpha))

    @property
    def upper(self) -> float:
        """Accept H1 when the LLR rises above this."""
        return math.log((1.0 - self.beta) / self.alpha)

    def llr(self, wins: int, draws: int, losses: int) -> float:
        """The log-likelihood ratio of H1 against H0 for these counts (cutechess's BayesElo
        model); 0 until there is at least one win, one draw and one loss."""
        if wins <= 0 or draws <= 0 or losses <= 0:
            return 0.0
        n = wins + draws + losses
        p_win, p_loss = wins / n, losses / n
        draw_elo = 200.0 * math.log10((1.0 - p_loss) / p_loss * (1.0 - p_win) / p_win)
        x = 10.0 ** (-draw_elo / 400.0)
        scale = 4.0 * x / ((1.0 + x) ** 2)

        def probabilities(elo: float) -> tuple[float, float, float]:
            bayes = elo / scale
            win = 1.0 / (1.0 + 10.0 ** ((draw_elo - bayes) / 400.0))
            loss = 1.0 / (1.0 + 10.0 ** ((draw_elo + bayes) / 400.0))
            return win, 1.0 - win - loss, loss

        w0, d0, l0 = probabilities(self.elo0)
        w1, d1, l1 = probabilities(self.elo1)
        return wins * math.log(w1 / w0) + draws * math.log(d1 / d0) + losses * math.log(l1 / l0)

    def state(self, wins: int, draws: int, losses: int) -> SprtState:
        llr = self.llr(wins, draws, losses)
        if llr >= self.upper:
            return "H1"
        if llr <= self.lower:
            return "H0"
        return "continue"

    def as_dict(self) -> dict[str, float]:
        return {"elo0": self.elo0, "elo1": self.elo1, "alpha": self.alpha, "beta": self.beta}


# -- standings --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Standing:
    """One player's line of the standings (the `--json` shape)."""

    player: str
    games: int = 0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    forfeits: int = 0
    """Games lost by forfeit (illegal moves, no move, provider errors)."""
    forfeit_wins: int = 0
    """Games won because the opponent forfeited."""
    byes: int = 0
    score: float = 0.0
    elo: float | None = None
    ci95: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "player": self.player,
            "games": self.games,
            "wins": self.wins,
            "draws": self.draws,
            "losses": self.losses,
            "forfeits": self.forfeits,
            "forfeit_wins": self.forfeit_wins,
            "byes": self.byes,
            "score": self.score,
            "elo": None if self.elo is None else round(self.elo, 1),
            "ci95": None if self.ci95 is None else round(self.ci95, 1),
        }


@dataclass(frozen=True, kw_only=True)
class Table:
    """Standings, crosstable and pairs of a set of games."""

    standings: tuple[Standing, ...]
    crosstable: dict[str, dict[str, str]] = field(default_factory=dict)
    """Row player -> column player -> "W-D-L" of the row player."""
    pairs: tuple[Pentanomial, ...] = ()
    fit: RatingFit | None = None
    rated_games: int = 0


def standings(
    games: Sequence[ScoredGame],
    players: Sequence[str] | None = None,
    *,
    anchor: str | None = None,
    prior: float = DEFAULT_PRIOR,
    rate_forfeits: bool = True,
    byes: dict[str, int] | None = None,
) -> Table:
    """W/D/L, forfeits, score, Elo and intervals, crosstable and pentanomial pairs; sorted by
    Elo (then score)."""
    names: list[str] = list(players or [])
    for g in games:
        for name in (g.white, g.black):
            if name not in names:
                names.append(name)
    rated = [g for g in games if rate_forfeits or not g.forfeit]
    fit = fit_ratings(rated, names, anchor=anchor, prior=prior)
    tally: dict[str, dict[str, float]] = {
        n: {"games": 0, "wins": 0, "draws": 0, "losses": 0, "forfeits": 0, "fw": 0, "score": 0.0}
        for n in names
    }
    cross: dict[str, dict[str, list[int]]] = {n: {} for n in names}
    for g in games:
        for me, them, mine in ((g.white, g.black, g.score), (g.black, g.white, 1.0 - g.score)):
            t = tally[me]
            t["games"] += 1
            t["score"] += mine
            outcome = "wins" if mine == 1.0 else "draws" if mine == 0.5 else "losses"
            t[outcome] += 1
            if g.forfeit:
                t["forfeits" if mine == 0.0 else "fw"] += 1
            line = cross[me].setdefault(them, [0, 0, 0])
            line[0 if mine == 1.0 else 1 if mine == 0.5 else 2] += 1
    byes = byes or {}
    rows = []
    for name in names:
        t = tally[name]
        rating = fit.of(name)
        rows.append(
            Standing(
                player=name,
                games=int(t["games"]),
                wins=int(t["wins"]),
                draws=int(t["draws"]),
                losses=int(t["losses"]),
                forfeits=int(t["forfeits"]),
                forfeit_wins=int(t["fw"]),
                byes=byes.get(name, 0),
                score=t["score"],
                elo=rating.elo,
                ci95=rating.ci95,
            )
        )
    rows.sort(
        key=lambda s: (-(s.elo if s.elo is not None else -1e9), -s.score, names.index(s.player))
    )
    crosstable = {
        me: {them: f"{w}-{d}-{lost}" for them, (w, d, lost) in cross[me].items()} for me in names
    }
    return Table(
        standings=tuple(rows),
        crosstable=crosstable,
        pairs=tuple(pentanomials(games, names)),
        fit=fit,
        rated_games=len(rated),
    )


__all__ = [
    "DEFAULT_PRIOR",
    "Pentanomial",
    "Rating",
    "RatingFit",
    "ScoredGame",
    "Sprt",
    "Standing",
    "Table",
    "elo_from_score",
    "expected_score",
    "fit_ratings",
    "pair_consecutive",
    "pentanomials",
    "standings",
]
