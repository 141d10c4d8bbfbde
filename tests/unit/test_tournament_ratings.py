"""Ratings against values computed by hand: Bradley–Terry ML, Fisher intervals, the prior,
pentanomial pairs and SPRT bounds."""

from __future__ import annotations

import math
import random

import pytest

from arena.tournament.ratings import (
    ELO_PER_NAT,
    Pentanomial,
    ScoredGame,
    Sprt,
    elo_from_score,
    expected_score,
    fit_ratings,
    pair_consecutive,
    pentanomials,
    standings,
)


def games(white: str, black: str, *scores: float) -> list[ScoredGame]:
    return [ScoredGame(white=white, black=black, score=s) for s in scores]


def test_two_players_ml_is_the_logit_of_the_score() -> None:
    # A scores 3 of 4 against B: the ML difference is 400 log10(3); its variance is
    # 1 / (n p (1 - p)) in natural units.
    fit = fit_ratings(games("A", "B", 1, 1, 1, 0), anchor="B", prior=0)
    a = fit.of("A")
    assert a.elo == pytest.approx(400 * math.log10(3), abs=1e-6)
    se = math.sqrt(1 / (4 * 0.75 * 0.25)) * ELO_PER_NAT
    assert a.ci95 == pytest.approx(1.959964 * se, rel=1e-5)
    assert fit.of("B").elo == 0 and fit.of("B").ci95 == 0


def test_draws_count_half() -> None:
    fit = fit_ratings(games("A", "B", 1, 0.5, 0.5, 0.5), anchor="B", prior=0)
    assert fit.of("A").elo == pytest.approx(elo_from_score(0.625), abs=1e-6)


def test_a_perfect_score_is_finite_with_the_prior_and_none_without() -> None:
    perfect = games("A", "B", 1, 1, 1, 1, 1)
    assert fit_ratings(perfect, anchor="B", prior=0).of("A").elo is None
    with_prior = fit_ratings(perfect, anchor="B").of("A")
    # One virtual draw between the two: 5.5 of 6 points.
    assert with_prior.elo == pytest.approx(elo_from_score(5.5 / 6), abs=1e-6)
    assert with_prior.ci95 is not None and with_prior.ci95 > 0


def _by_hand(results: list[ScoredGame], names: list[str], anchor: str) -> dict[str, float]:
    """Plain gradient ascent on the Bradley–Terry log-likelihood: a fit written independently."""
    r = dict.fromkeys(names, 0.0)
    for _ in range(20000):
        grad = dict.fromkeys(names, 0.0)
        for g in results:
            p = 1 / (1 + math.exp(r[g.black] - r[g.white]))
            grad[g.white] += g.score - p
            grad[g.black] -= g.score - p
        for n in names:
            r[n] += 0.5 * grad[n] / len(results) * len(names)
        shift = r[anchor]
        r = {n: v - shift for n, v in r.items()}
    return {n: v * ELO_PER_NAT for n, v in r.items()}


def test_a_few_hundred_games_among_six_players_match_a_fit_by_hand() -> None:
    rng = random.Random(7)
    truth = {"a": 0, "b": 80, "c": -60, "d": 150, "e": 30, "f": -120}
    names = list(truth)
    results = []
    for _ in range(60):
        for i, w in enumerate(names):
            for b in names[i + 1 :]:
                if rng.random() < 0.3:
                    continue
                white, black = (w, b) if rng.random() < 0.5 else (b, w)
                p = expected_score(truth[white] - truth[black])
                u = rng.random()
                score = 1.0 if u < p - 0.15 else 0.5 if u < p + 0.15 else 0.0
                results.append(ScoredGame(white=white, black=black, score=score))
    assert 300 <= len(results) <= 1000
    fit = fit_ratings(results, names, anchor="a", prior=0)
    hand = _by_hand(results, names, "a")
    for n in names:
        assert fit.of(n).elo == pytest.approx(hand[n], abs=0.05)
    # The prior moves nobody by more than a fraction of the interval.
    prior = fit_ratings(results, names, anchor="a")
    for n in names[1:]:
        rating = fit.of(n)
        assert rating.elo is not None and rating.ci95 is not None
        assert abs((prior.of(n).elo or 0) - rating.elo) < 0.1 * rating.ci95
        # and the truth lies within the intervals (a loose check of their width)
        assert abs(rating.elo - truth[n]) < 2 * rating.ci95


def test_intervals_match_the_inverse_fisher_information_for_three_players() -> None:
    results = (
        games("A", "B", 1, 0, 0.5, 1) + games("B", "C", 1, 1, 0, 0.5) + games("C", "A", 0, 0, 1)
    )
    fit = fit_ratings(results, anchor="A", prior=0)
    r = {p.player: (p.elo or 0.0) / ELO_PER_NAT for p in fit.ratings}

    def w(x: str, y: str, n: int) -> float:
        p = 1 / (1 + math.exp(r[y] - r[x]))
        return n * p * (1 - p)

    wab, wbc, wca = w("A", "B", 4), w("B", "C", 4), w("C", "A", 3)
    # Information over (B, C) with A fixed, inverted by hand.
    i_bb, i_cc, i_bc = wab + wbc, wbc + wca, -wbc
    det = i_bb * i_cc - i_bc * i_bc
    var_b, var_c = i_cc / det, i_bb / det
    assert fit.of("B").ci95 == pytest.approx(1.959964 * math.sqrt(var_b) * ELO_PER_NAT, rel=1e-4)
    assert fit.of("C").ci95 == pytest.approx(1.959964 * math.sqrt(var_c) * ELO_PER_NAT, rel=1e-4)


def test_players_not_connected_to_the_anchor_have_no_rating() -> None:
    fit = fit_ratings(games("A", "B", 1, 0) + games("C", "D", 1, 0), anchor="A")
    assert fit.of("B").elo is not None
    assert fit.of("C").elo is None and fit.of("D").ci95 is None


def test_pentanomial_counts_colour_swapped_pairs() -> None:
    pair = [
        ScoredGame(white="A", black="B", score=1, pair="1"),
        ScoredGame(white="B", black="A", score=0.5, pair="1"),  # A: 1.5
        ScoredGame(white="A", black="B", score=0, pair="2"),
        ScoredGame(white="B", black="A", score=1, pair="2"),  # A: 0
        ScoredGame(white="A", black="B", score=0.5, pair="3"),
        ScoredGame(white="B", black="A", score=0.5, pair="3"),  # A: 1
    ]
    [p] = pentanomials(pair)
    assert (p.player, p.opponent) == ("A", "B")
    assert p.counts == (1, 0, 1, 1, 0)
    assert (p.wins, p.draws, p.losses) == (1, 3, 2)
    mean = (0.75 + 0 + 0.5) / 3
    assert p.score == pytest.approx(mean)
    elo, low, high = p.elo()
    sd = math.sqrt(sum((x - mean) ** 2 for x in (0.75, 0, 0.5)) / 3 / 3)
    assert elo == pytest.approx(elo_from_score(mean))
    assert low == pytest.approx(elo_from_score(mean - 1.959964 * sd), rel=1e-5)
    assert high == pytest.approx(elo_from_score(mean + 1.959964 * sd), rel=1e-5)


def test_pgn_games_pair_when_consecutive_and_swapped() -> None:
    g = games("A", "B", 1) + games("B", "A", 0) + games("A", "C", 1) + games("A", "C", 0)
    paired = pair_consecutive(g, ["x", "x", "y", "y"])
    assert paired[0].pair == paired[1].pair is not None
    assert paired[2].pair is None and paired[3].pair is None
    assert Pentanomial(player="A", opponent="B", counts=(0, 0, 0, 0, 1)).elo()[0] is None


def test_sprt_bounds_and_a_known_llr() -> None:
    sprt = Sprt(elo0=0, elo1=5, alpha=0.05, beta=0.05)
    assert sprt.lower == pytest.approx(math.log(0.05 / 0.95))
    assert sprt.upper == pytest.approx(-sprt.lower) == pytest.approx(2.944439, abs=1e-6)
    # By hand, cutechess's model: draw elo from the sample, then W/D/L probabilities.
    w, d, losses = 1000, 2000, 800
    n = w + d + losses
    pw, pl = w / n, losses / n
    draw_elo = 200 * math.log10((1 - pl) / pl * (1 - pw) / pw)
    x = 10 ** (-draw_elo / 400)
    scale = 4 * x / (1 + x) ** 2

    def probs(elo: float) -> tuple[float, float, float]:
        b = elo / scale
        win = 1 / (1 + 10 ** ((draw_elo - b) / 400))
        loss = 1 / (1 + 10 ** ((draw_elo + b) / 400))
        return win, 1 - win - loss, loss

    (w0, d0, l0), (w1, d1, l1) = probs(0), probs(5)
    llr = w * math.log(w1 / w0) + d * math.log(d1 / d0) + losses * math.log(l1 / l0)
    assert sprt.llr(w, d, losses) == pytest.approx(llr, rel=1e-9)
    assert sprt.state(w, d, losses) == ("H1" if llr > sprt.upper else "continue")
    assert sprt.state(400, 1000, 600) == "H0"
    assert sprt.state(3, 0, 1) == "continue"  # no draw yet: no estimate


def test_sprt_parse() -> None:
    assert Sprt.parse("0,10") == Sprt(elo0=0, elo1=10)
    assert Sprt.parse("-5,5,0.1,0.2").beta == 0.2
    for bad in ("5,0", "1", "a,b", "0,5,0.7,0.1"):
        with pytest.raises(ValueError):
            Sprt.parse(bad)


def test_standings_count_forfeits_apart_and_can_leave_them_unrated() -> None:
    results = [
        *games("A", "B", 1, 0, 0.5),
        ScoredGame(white="B", black="A", score=1.0, forfeit=True),
    ]
    table = standings(results, anchor="A")
    b = next(s for s in table.standings if s.player == "B")
    a = next(s for s in table.standings if s.player == "A")
    assert (a.forfeits, b.forfeit_wins, b.wins, a.losses) == (1, 1, 2, 2)
    unrated = standings(results, anchor="A", rate_forfeits=False)
    assert unrated.rated_games == 3
    b_unrated = next(s for s in unrated.standings if s.player == "B")
    assert b_unrated.elo == pytest.approx(0.0, abs=1e-6)  # 1.5 of 3 without the forfeit
    assert b.elo is not None and b.elo > 0
    assert table.crosstable["A"]["B"] == "1-1-2"
