"""Pairing for each format: round robin, gauntlet, Swiss (no repeats while avoidable, colour
balance, byes with an odd number of players)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from arena.tournament.pairing import (
    SwissRecord,
    circle_rounds,
    gauntlet,
    round_robin,
    swiss_round,
    swiss_rounds_default,
)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8])
def test_circle_rounds_meet_everyone_once(n: int) -> None:
    rounds = circle_rounds(n)
    meetings = [frozenset(m) for r in rounds for m in r]
    assert len(meetings) == len(set(meetings)) == n * (n - 1) // 2
    for r in rounds:
        players = [p for m in r for p in m]
        assert len(players) == len(set(players))  # nobody twice in a round


@pytest.mark.parametrize(("n", "per_pair"), [(4, 2), (4, 4), (5, 2), (3, 3)])
def test_round_robin_pairs_play_both_colours_from_one_opening(n: int, per_pair: int) -> None:
    games = round_robin(n, per_pair, n_openings=10, seed=1)
    assert len(games) == n * (n - 1) // 2 * per_pair
    by_meeting = Counter(frozenset((g.white, g.black)) for g in games)
    assert set(by_meeting.values()) == {per_pair}
    by_pair: dict[int, list[tuple[int, int | None, int | None]]] = {}
    for g in games:
        by_pair.setdefault(g.pair, []).append((g.white, g.black, g.opening))
    for pair in by_pair.values():
        if len(pair) == 2:
            (w1, b1, o1), (w2, b2, o2) = pair
            assert (w1, b1) == (b2, w2) and o1 == o2
    colours = Counter(g.white for g in games)
    assert max(colours.values()) - min(colours.values()) <= n - 1
    assert games == round_robin(n, per_pair, n_openings=10, seed=1)  # a pure function


def test_gauntlet_is_the_first_player_against_each_other() -> None:
    games = gauntlet(4, 4, n_openings=3)
    assert len(games) == 12
    assert all(0 in (g.white, g.black) for g in games)
    assert Counter(g.white == 0 for g in games) == {True: 6, False: 6}
    # pairs progress together: after the first six games every opponent has played a pair
    assert {g.black if g.white == 0 else g.white for g in games[:6]} == {1, 2, 3}


def play_swiss(
    n: int, rounds: int, seed: int, per_pairing: int = 1
) -> list[list[tuple[int, int | None]]]:
    rng = random.Random(seed)
    strength = [rng.random() for _ in range(n)]
    records = [SwissRecord() for _ in range(n)]
    history = []
    pair = 0
    for r in range(1, rounds + 1):
        pairings = swiss_round(
            records, r, games_per_pairing=per_pairing, first_pair=pair, seed=seed
        )
        pair = max(p.pair for p in pairings) + 1
        history.append([(p.white, p.black) for p in pairings])
        new = [list((x.score, x.opponents, x.colours, x.byes)) for x in records]
        for p in pairings:
            if p.black is None:
                new[p.white][0] += 1
                new[p.white][3] += 1
                continue
            win = strength[p.white] > strength[p.black]
            new[p.white][0] += 1.0 if win else 0.0
            new[p.black][0] += 0.0 if win else 1.0
            new[p.white][1] = (*new[p.white][1], p.black)
            new[p.black][1] = (*new[p.black][1], p.white)
            new[p.white][2] = (*new[p.white][2], 0)
            new[p.black][2] = (*new[p.black][2], 1)
        records = [SwissRecord(score=s, opponents=o, colours=c, byes=b) for s, o, c, b in new]
    return history


@pytest.mark.parametrize(("n", "seed"), [(4, 1), (6, 2), (7, 3), (8, 4), (9, 5), (10, 6)])
def test_swiss_avoids_repeats_balances_colours_and_gives_byes(n: int, seed: int) -> None:
    rounds = swiss_rounds_default(n)
    history = play_swiss(n, rounds, seed)
    meetings = [frozenset(m) for r in history for m in r if m[1] is not None]
    assert len(meetings) == len(set(meetings)), "a repeated pairing although avoidable"
    for r in history:
        players = [p for m in r for p in m if p is not None]
        assert sorted(players) == list(range(n))  # everyone once per round
        byes = [m for m in r if m[1] is None]
        assert len(byes) == n % 2
    bye_players = [m[0] for r in history for m in r if m[1] is None]
    assert len(bye_players) == len(set(bye_players))  # nobody gets two byes
    whites = Counter(m[0] for r in history for m in r if m[1] is not None)
    blacks = Counter(m[1] for r in history for m in r if m[1] is not None)
    for p in range(n):
        assert abs(whites[p] - blacks[p]) <= 2


def test_swiss_repeats_only_when_unavoidable() -> None:
    # Four players, four rounds: three rounds exhaust every pairing; the fourth must repeat.
    history = play_swiss(4, 4, seed=0)
    meetings = [frozenset(m) for r in history for m in r]
    assert len(set(meetings[:6])) == 6
    assert len(meetings) == 8


def test_swiss_with_two_games_per_pairing_plays_both_colours() -> None:
    history = play_swiss(6, 3, seed=2, per_pairing=2)
    for r in history:
        games = [m for m in r if m[1] is not None]
        assert len(games) == 6
        assert Counter(frozenset(m) for m in games) == Counter({frozenset(m): 2 for m in games})


def test_default_swiss_rounds() -> None:
    assert [swiss_rounds_default(n) for n in (2, 3, 4, 8, 9, 16)] == [1, 2, 3, 4, 5, 5]
