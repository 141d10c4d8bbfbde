"""Who plays whom, with which colour, from which opening: round robin, gauntlet and Swiss.

Players are indexes into the tournament's player list. A *game pair* is two games of the same
players from the same opening with colours swapped; pairs are what pentanomial statistics count.
Pairing is a pure function of its inputs (and a seed), so a resumed tournament replays the plan an
uninterrupted run would have played.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Format = Literal["roundrobin", "gauntlet", "swiss"]
FORMATS: tuple[Format, ...] = ("roundrobin", "gauntlet", "swiss")


@dataclass(frozen=True, kw_only=True)
class Pairing:
    """One scheduled game (or a bye, with `black` None)."""

    round: int
    """1-based round."""
    white: int
    black: int | None
    """None: `white` has a bye this round (Swiss with an odd number of players)."""
    opening: int | None
    """Index into the opening suite; None for a bye."""
    pair: int
    """Games with the same pair number share players and opening, colours swapped."""


def circle_rounds(n: int) -> list[list[tuple[int, int]]]:
    """The circle method: n-1 rounds (n rounds when n is odd, one player resting) in which every
    two players meet once."""
    ring: list[int | None] = list(range(n))
    if n % 2:
        ring.append(None)
    m = len(ring)
    rounds = []
    for r in range(m - 1):
        games = []
        for k in range(m // 2):
            a, b = ring[k], ring[m - 1 - k]
            if a is not None and b is not None:
                # Alternate who is listed first so that colours of single games balance.
                games.append((a, b) if (r + k) % 2 == 0 else (b, a))
        rounds.append(games)
        ring = [ring[0], ring[-1], *ring[1:-1]]
    return rounds


def _expand(
    rounds: Sequence[Sequence[tuple[int, int]]],
    games_per_pair: int,
    n_openings: int,
    seed: int,
) -> list[Pairing]:
    """Each meeting of `rounds` played `games_per_pair` times: colour-swapped pairs from one
    opening each, cycle by cycle so every pair has played about as often at any time."""
    offset = random.Random(seed).randrange(n_openings) if n_openings else 0
    out: list[Pairing] = []
    pair = 0
    cycles = (games_per_pair + 1) // 2
    round_no = 0
    for cycle in range(cycles):
        both = 2 * (cycle + 1) <= games_per_pair
        for meetings in rounds:
            round_no += 1
            for a, b in meetings:
                opening = (offset + pair) % n_openings if n_openings else None
                first, second = (a, b) if cycle % 2 == 0 else (b, a)
                out.append(
                    Pairing(round=round_no, white=first, black=second, opening=opening, pair=pair)
                )
                if both:
                    out.append(
                        Pairing(
                            round=round_no, white=second, black=first, opening=opening, pair=pair
                        )
                    )
                pair += 1
    return out


def round_robin(
    n_players: int, games_per_pair: int, n_openings: int, seed: int = 0
) -> list[Pairing]:
    """Every player against every other, `games_per_pair` games each."""
    return _expand(circle_rounds(n_players), games_per_pair, n_openings, seed)


def gauntlet(n_players: int, games_per_pair: int, n_openings: int, seed: int = 0) -> list[Pairing]:
    """Player 0 against each of the others, `games_per_pair` games each."""
    rounds = [[(0, j)] if j % 2 else [(j, 0)] for j in range(1, n_players)]
    # One round holds every opponent, so the gauntlet's pairs progress together (SPRT).
    merged = [[meeting for r in rounds for meeting in r]]
    return _expand(merged, games_per_pair, n_openings, seed)


@dataclass(frozen=True, kw_only=True)
class SwissRecord:
    """What Swiss pairing needs to know about one player so far."""

    score: float = 0.0
    """Points (a bye counts one)."""
    opponents: tuple[int, ...] = ()
    colours: tuple[int, ...] = ()
    """0 for each game with White, 1 for each with Black, in order."""
    byes: int = 0


def swiss_round(
    records: Sequence[SwissRecord],
    round_no: int,
    *,
    games_per_pairing: int = 1,
    n_openings: int = 0,
    first_pair: int = 0,
    seed: int = 0,
) -> list[Pairing]:
    """The pairings of round `round_no` (1-based) from the standings so far.

    Players are ranked by score, then by their start order; the bye (an odd number of players)
    goes to the lowest-ranked player who has had the fewest byes. Pairing runs top down and avoids
    a repeated meeting whenever some pairing of everyone exists without one (a backtracking
    search); colours go to the player who has had White less often, then to the one who had Black
    last, then alternate by board.
    """
    n = len(records)
    ranked = sorted(range(n), key=lambda i: (-records[i].score, i))
    bye: int | None = None
    if n % 2:
        fewest = min(records[i].byes for i in ranked)
        bye = next(i for i in reversed(ranked) if records[i].byes == fewest)
        ranked.remove(bye)
    met = [set(r.opponents) for r in records]
    matching = _match(ranked, met, avoid_repeats=True) or _match(ranked, met, avoid_repeats=False)
    assert matching is not None
    rng = random.Random(f"{seed}|{round_no}")
    offset = rng.randrange(n_openings) if n_openings else 0
    out: list[Pairing] = []
    pair = first_pair
    for board, (a, b) in enumerate(matching):
        white, black = _colours(records[a], records[b], a, b, board + round_no)
        opening = (offset + pair) % n_openings if n_openings else None
        out.append(Pairing(round=round_no, white=white, black=black, opening=opening, pair=pair))
        if games_per_pairing >= 2:
            out.append(
                Pairing(round=round_no, white=black, black=white, opening=opening, pair=pair)
            )
        pair += 1
    if bye is not None:
        out.append(Pairing(round=round_no, white=bye, black=None, opening=None, pair=pair))
    return out


_SEARCH_LIMIT = 100_000


def _match(
    ranked: list[int], met: list[set[int]], *, avoid_repeats: bool
) -> list[tuple[int, int]] | None:
    """Pairs `ranked` top down: each first unpaired player with the nearest-ranked opponent it
    may meet; backtracks (up to a step limit) when the rest cannot be paired."""
    steps = 0

    def solve(rest: list[int]) -> list[tuple[int, int]] | None:
        nonlocal steps
        if not rest:
            return []
        top, others = rest[0], rest[1:]
        for k, opponent in enumerate(others):
            steps += 1
            if steps > _SEARCH_LIMIT:
                return None
            if avoid_repeats and opponent in met[top]:
                continue
            tail = solve(others[:k] + others[k + 1 :])
            if tail is not None:
                return [(top, opponent), *tail]
        return None

    return solve(ranked)


def _colours(ra: SwissRecord, rb: SwissRecord, a: int, b: int, parity: int) -> tuple[int, int]:
    """(white, black) for a pairing of a and b."""
    balance_a = ra.colours.count(0) - ra.colours.count(1)
    balance_b = rb.colours.count(0) - rb.colours.count(1)
    if balance_a != balance_b:
        return (a, b) if balance_a < balance_b else (b, a)
    last_a = ra.colours[-1] if ra.colours else None
    last_b = rb.colours[-1] if rb.colours else None
    if last_a != last_b and last_a is not None and last_b is not None:
        return (a, b) if last_a == 1 else (b, a)
    return (a, b) if parity % 2 == 0 else (b, a)


def swiss_rounds_default(n_players: int) -> int:
    """Rounds of a Swiss when none are given: enough to separate the field, ceil(log2 n) + 1."""
    rounds = 1
    while 2 ** (rounds - 1) < n_players:
        rounds += 1
    return max(1, min(rounds, n_players - 1 if n_players > 1 else 1))


__all__ = [
    "FORMATS",
    "Format",
    "Pairing",
    "SwissRecord",
    "circle_rounds",
    "gauntlet",
    "round_robin",
    "swiss_round",
    "swiss_rounds_default",
]
