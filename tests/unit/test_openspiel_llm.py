"""LLM players and speculators on OpenSpiel games, through the real SDKs and a loopback server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for tests.fakes

from arena.core.match import Match, Seat
from arena.core.policy import SpeculationPolicy
from arena.games import load_game
from arena.games.openspiel import OpenSpielState
from arena.players.llm import LLMPlayer
from arena.players.prompt import build_game_prompt
from arena.players.random import RandomPlayer
from arena.providers import make_provider
from arena.speculators.llm import LLMSpeculator
from tests.fakes.fixtures import FAST, keys, server
from tests.fakes.servers import Behaviour, FakeLLMServer, Recorded, answer

__all__ = ["keys", "server"]  # fixtures


def start(name: str) -> OpenSpielState:
    state = load_game(name).start()
    assert isinstance(state, OpenSpielState)
    return state


def player(kind: str, fake: FakeLLMServer, **options: str) -> LLMPlayer:
    opts = {**FAST, **options}
    if kind == "anthropic":
        provider = make_provider("anthropic", "claude-sonnet-4-6", fake.url, None, opts)
    else:
        provider = make_provider("openai", "gpt-5", fake.openai_url, None, opts)
    return LLMPlayer(provider, provider.model, "", opts)


def user_text(fake: FakeLLMServer, i: int) -> str:
    return str(fake.requests[i].json["messages"][-1]["content"])


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_connect_four_prompt_and_a_legal_answer(
    kind: str, keys: None, server: FakeLLMServer
) -> None:
    state = start("connect_four").apply("x3")
    server.push(answer("The centre is strong.\nMOVE: o3"))
    llm = player(kind, server)
    decision = await llm.decide(state)
    await llm.close()
    assert decision.move == "o3" and decision.attempts == ()
    system, user = build_game_prompt(state)
    assert "Connect Four" in system and "four of their discs" in system and "MOVE:" in system
    assert "Legal moves: o0, o1, o2, o3, o4, o5, o6" in user and "Last move: x3 (by x)" in user
    assert user_text(server, 0) == user
    assert build_game_prompt(state) == (system, user)  # pure: speculative calls send these bytes


async def test_othello_illegal_then_garbage_then_good(keys: None, server: FakeLLMServer) -> None:
    state = start("othello")
    server.push(answer("MOVE: a1"), answer("no idea"), answer("Taking the edge.\nMOVE: **F5**"))
    llm = player("openai", server)
    decision = await llm.decide(state)
    await llm.close()
    assert decision.move == "f5"
    first, second = decision.attempts
    assert first.parsed == "a1" and first.error.startswith("`a1` is not one of the legal moves")
    assert "Legal moves: d3, c4, f5, e6" in first.error
    assert second.parsed is None and second.error.startswith("I could not find your move.")
    assert server.requests[1].json["messages"][-1]["content"] == first.error


async def test_garbage_forfeits_a_tic_tac_toe_move(keys: None, server: FakeLLMServer) -> None:
    server.push(answer("{{{ ### }"), answer("MOVE: x(3,3)"), answer("I pass"))
    llm = player("openai", server)
    decision = await llm.decide(start("tic_tac_toe"))
    await llm.close()
    assert decision.move is None and decision.forfeit == "forfeit: illegal move"
    assert [a.parsed for a in decision.attempts] == [None, "x(3,3)", None]
    assert len(server.requests) == 3


def first_legal(request: Recorded) -> Behaviour:
    """The first listed legal move; JSON guesses when a speculator asks."""
    text = request.text
    legal = text.split("Legal moves: ", 1)[1].splitlines()[0].split(", ")
    if '"moves"' in text:
        return answer(json.dumps({"moves": [{"move": legal[0], "p": 0.6}]}))
    return answer(f"MOVE: {legal[0]}")


async def test_an_llm_plays_tic_tac_toe_to_a_result_with_an_llm_speculator(keys: None) -> None:
    with FakeLLMServer(default=first_legal) as fake:
        llm = player("openai", fake)
        provider = make_provider("openai", "gpt-5-mini", fake.openai_url, None, dict(FAST))
        guesser = LLMSpeculator(provider, provider.model, "openai:gpt-5-mini")
        match = Match(
            "t",
            start("tic_tac_toe"),
            (Seat(llm, None), Seat(RandomPlayer(1), guesser)),
            policy=SpeculationPolicy(k=1),
        )
        summary = await match.run()
        guess_requests = [r for r in fake.requests if '"moves"' in r.text]
    assert summary.outcome.result in ("1-0", "0-1", "1/2-1/2"), summary.outcome
    assert guess_requests and guesser.usage.input_tokens > 0
