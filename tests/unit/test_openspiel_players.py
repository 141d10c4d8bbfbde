"""MCTS and solver players and the MCTS speculator on OpenSpiel games; lossless speculation."""

from __future__ import annotations

import asyncio

import pytest

from arena.core.actor import Actor, Speculator
from arena.core.errors import ArenaError
from arena.core.match import Match, Seat
from arena.core.policy import NO_SPECULATION, SpeculationPolicy
from arena.games import load_game
from arena.games.chess import ChessState
from arena.games.openspiel import OpenSpielState
from arena.games.search import MCTSOptions
from arena.players.human import HumanPlayer
from arena.players.mcts import MCTSPlayer, SolverPlayer
from arena.players.random import RandomPlayer
from arena.specs import Context, build_actor, build_speculator
from arena.speculators.mcts import MCTSSpeculator

FAST = MCTSOptions(simulations=200)


def start(name: str) -> OpenSpielState:
    state = load_game(name).start()
    assert isinstance(state, OpenSpielState)
    return state


async def play(
    name: str,
    white: Actor,
    black: Actor,
    speculators: tuple[Speculator | None, Speculator | None] = (None, None),
    policy: SpeculationPolicy = NO_SPECULATION,
    max_plies: int | None = None,
) -> tuple[str, tuple[str, ...]]:
    match = Match(
        "t",
        start(name),
        (Seat(white, speculators[0]), Seat(black, speculators[1])),
        policy=policy,
        max_plies=max_plies,
    )
    summary = await match.run()
    assert not summary.outcome.termination.startswith("error"), summary.outcome
    return summary.outcome.result, summary.moves


async def test_mcts_is_deterministic_for_a_seed_and_the_state() -> None:
    state = start("connect_four").apply("x3")
    a = await MCTSPlayer(FAST, seed=1).decide(state)
    b = await MCTSPlayer(FAST, seed=1).decide(state)
    assert a.move == b.move and a.raw == b.raw and state.is_legal(a.move or "")
    assert a.info["visits"]


async def test_mcts_speculator_guesses_top_k_by_visit_share() -> None:
    state = start("othello")
    guesses = await MCTSSpeculator(FAST).predict(state, 3)
    assert len(guesses) == 3 and len({g.move for g in guesses}) == 3
    assert all(state.is_legal(g.move) for g in guesses)
    assert 0.75 <= sum(g.probability for g in guesses) < 1.0  # visit shares of 3 of 4 moves
    assert await MCTSSpeculator(FAST).predict(state, 3) == guesses


async def test_mcts_takes_a_win_in_one() -> None:
    state = start("connect_four")
    for move in ["x0", "o6", "x1", "o6", "x2", "o5"]:
        state = state.apply(move)
    decision = await MCTSPlayer(FAST, seed=3).decide(state)
    assert decision.move == "x3"


async def test_solver_plays_tic_tac_toe_perfectly() -> None:
    solver = SolverPlayer(100_000, FAST)
    result, moves = await play("tic_tac_toe", solver, SolverPlayer(100_000, FAST))
    assert result == "1/2-1/2" and len(moves) == 9
    for seed in range(3):
        result, _ = await play("tic_tac_toe", RandomPlayer(seed), solver)
        assert result in ("0-1", "1/2-1/2")


async def test_solver_falls_back_to_mcts_where_the_game_is_too_big() -> None:
    decision = await SolverPlayer(1000, FAST).decide(start("connect_four"))
    assert decision.move is not None and decision.flagged and "unsolved" in decision.flagged


@pytest.mark.parametrize("name", ["connect_four", "tic_tac_toe"])
async def test_mcts_gives_the_same_game_with_speculation_on_and_off(name: str) -> None:
    async def game(speculate: bool) -> tuple[str, tuple[str, ...]]:
        speculators = (
            (MCTSSpeculator(FAST, 5), MCTSSpeculator(FAST, 6)) if speculate else (None, None)
        )
        policy = SpeculationPolicy(k=3) if speculate else NO_SPECULATION
        return await play(name, MCTSPlayer(FAST, 1), MCTSPlayer(FAST, 2), speculators, policy)

    on, off = await game(True), await game(False)
    assert on == off
    assert on[0] in ("1-0", "0-1", "1/2-1/2")


@pytest.mark.parametrize(
    "name", ["connect_four", "tic_tac_toe", "othello", "checkers", "breakthrough"]
)
async def test_each_game_plays_to_a_result_with_random_mcts_and_solver(name: str) -> None:
    tiny = MCTSOptions(simulations=20)
    result, moves = await play(name, MCTSPlayer(tiny, 1), RandomPlayer(2), max_plies=400)
    assert result in ("1-0", "0-1", "1/2-1/2"), (result, len(moves))
    if name == "tic_tac_toe":
        result, _ = await play(name, RandomPlayer(3), SolverPlayer(10_000, tiny))
        assert result in ("0-1", "1/2-1/2")


async def test_a_person_plays_an_openspiel_game_by_typing() -> None:
    human = HumanPlayer()
    state = start("connect_four")
    task = asyncio.ensure_future(human.decide(state))
    await asyncio.sleep(0)
    assert human.is_waiting(state)
    assert human.submit(state, "3") == "x3"
    assert (await task).move == "x3"


def test_specs_check_the_game() -> None:
    c4 = Context(game=load_game("connect_four"))
    assert isinstance(build_actor("mcts:simulations=50,seed=3", c4), MCTSPlayer)
    assert isinstance(build_actor("solver:positions=1000", c4), SolverPlayer)
    assert isinstance(build_speculator("mcts", c4), MCTSSpeculator)
    with pytest.raises(ArenaError, match="stockfish does not play connect_four"):
        build_actor("stockfish", c4)
    with pytest.raises(ArenaError, match="mcts does not play chess"):
        build_actor("mcts", Context())
    with pytest.raises(ArenaError, match="simulations must be"):
        build_actor("mcts:simulations=0", c4)
    with pytest.raises(ArenaError, match="unknown option 'depth'"):
        build_speculator("mcts:depth=3", c4)


async def test_search_players_refuse_chess() -> None:
    with pytest.raises(ArenaError, match="OpenSpiel games only"):
        await MCTSPlayer(FAST).decide(ChessState.from_fen())
