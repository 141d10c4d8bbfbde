"""LLM players and speculators through the real SDKs against a loopback server."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for tests.fakes

from arena.core.actor import Guess, Usage
from arena.core.errors import ArenaError, ProviderError
from arena.core.match import Match, Seat
from arena.core.policy import SpeculationPolicy
from arena.games.chess import ChessState
from arena.players.llm import LLMPlayer
from arena.players.prompt import build_chess_prompt
from arena.providers import Provider, make_provider
from arena.speculators.llm import LLMSpeculator, build_guess_prompt, parse_guesses
from tests.fakes.fixtures import ANTHROPIC_KEY, FAST, OPENAI_KEY, keys, server
from tests.fakes.servers import (
    FakeLLMServer,
    answer,
    chess_responder,
    empty_choices,
    garbage,
    hang,
    http_error,
)

__all__ = ["keys", "server"]  # fixtures

START = ChessState.from_fen()
AFTER_E4 = START.apply("e2e4")
KINDS = ["anthropic", "openai", "responses"]


def provider_for(kind: str, fake: FakeLLMServer, model: str = "", **options: str) -> Provider:
    opts = {**FAST, **options}
    if kind == "anthropic":
        return make_provider("anthropic", model or "claude-sonnet-4-6", fake.url, None, opts)
    if kind == "responses":
        opts["api"] = "responses"
    return make_provider("openai", model or "gpt-5", fake.openai_url, None, opts)


def player_for(kind: str, fake: FakeLLMServer, **options: str) -> LLMPlayer:
    provider = provider_for(kind, fake, **options)
    return LLMPlayer(provider, provider.model, "", {**FAST, **options})


def last_user_text(body: dict[str, object], kind: str) -> str:
    turns = body["input"] if kind == "responses" else body["messages"]
    assert isinstance(turns, list)
    return str(turns[-1]["content"])


# -- the player -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_good_move(kind: str, keys: None, server: FakeLLMServer) -> None:
    server.push(answer("Central control.\nMOVE: e5", input_tokens=400, output_tokens=50))
    player = player_for(kind, server)
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.move == "e7e5"
    assert decision.attempts == () and decision.forfeit is None and decision.flagged is None
    assert decision.raw.endswith("MOVE: e5")
    assert decision.usage.input_tokens == 400 and decision.usage.output_tokens == 50
    assert decision.usage.cost_usd is not None and decision.usage.cost_usd > 0
    assert decision.info["tries"] == 1
    _, user = build_chess_prompt(AFTER_E4)
    assert last_user_text(server.requests[0].json, kind) == user


@pytest.mark.parametrize("kind", KINDS)
async def test_illegal_then_good(kind: str, keys: None, server: FakeLLMServer) -> None:
    server.push(
        answer("MOVE: Nf7", input_tokens=100, output_tokens=10),
        answer("Sorry.\nMOVE: Nf6", input_tokens=200, output_tokens=20),
    )
    player = player_for(kind, server)
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.move == "g8f6"
    assert len(decision.attempts) == 1
    attempt = decision.attempts[0]
    assert attempt.raw == "MOVE: Nf7" and attempt.parsed == "Nf7"
    assert attempt.error.startswith("`Nf7` is illegal here")
    assert "Legal moves:" in attempt.error
    # The second request carries the rejected answer and the feedback as new turns.
    second = server.requests[1].json
    turns = second["input"] if kind == "responses" else second["messages"]
    assert turns[-2] == {"role": "assistant", "content": "MOVE: Nf7"}
    assert turns[-1] == {"role": "user", "content": attempt.error}
    assert decision.usage.input_tokens == 300 and decision.usage.output_tokens == 30
    assert decision.info["tries"] == 2


async def test_move_in_passing_is_not_taken(keys: None, server: FakeLLMServer) -> None:
    prose = "Black could answer with Nf6 or c5; e5 is the classical reply. Hard to choose."
    server.push(answer(prose), answer("Fine.\nMOVE: c5"))
    player = player_for("openai", server)
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.move == "c7c5"
    assert decision.attempts[0].parsed is None
    assert decision.attempts[0].error.startswith("I could not find your move.")


@pytest.mark.parametrize("kind", KINDS)
async def test_empty_answer_is_retried(kind: str, keys: None, server: FakeLLMServer) -> None:
    server.push(answer(""), empty_choices(), answer("MOVE: d5"))
    player = player_for(kind, server)
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.move == "d7d5"
    assert [a.raw for a in decision.attempts] == ["", ""]
    turns = server.requests[2].json["input" if kind == "responses" else "messages"]
    assert {"role": "assistant", "content": "(no answer)"} in turns


async def test_garbage_forfeits(keys: None, server: FakeLLMServer) -> None:
    server.push(answer("blah"), answer("MOVE: Ke2"), answer("I resign"))
    player = player_for("anthropic", server)
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.move is None
    assert decision.forfeit == "forfeit: illegal move"
    assert len(decision.attempts) == 3 and decision.info["tries"] == 3
    assert decision.attempts[1].parsed == "Ke2"
    assert len(server.requests) == 3


async def test_garbage_random_fallback_is_deterministic(keys: None, server: FakeLLMServer) -> None:
    server.push(*[answer("no idea")] * 4)
    player = player_for("openai", server, tries="2", on_illegal="random")
    first = await player.decide(AFTER_E4)
    second = await player.decide(AFTER_E4)
    await player.close()
    assert first.flagged == "random fallback" and first.forfeit is None
    assert first.move is not None and AFTER_E4.is_legal(first.move)
    assert first.move == second.move
    assert len(first.attempts) == 2


async def test_legal_option_lists_moves(keys: None, server: FakeLLMServer) -> None:
    server.push(answer("MOVE: e5"))
    player = player_for("openai", server, legal="1")
    await player.decide(AFTER_E4)
    await player.close()
    assert "Legal moves: Na6, Nc6, Nf6, Nh6, a5, a6" in server.requests[0].text
    assert "legal=1" in player.fingerprint()


@pytest.mark.parametrize("kind", KINDS)
async def test_same_state_same_request_bytes(kind: str, keys: None, server: FakeLLMServer) -> None:
    """A speculative call and the real call for the same state send identical bytes."""
    server.push(answer("MOVE: e5"), answer("MOVE: e5"))
    speculative = player_for(kind, server, temperature="0")
    real = player_for(kind, server, temperature="0")
    rebuilt = ChessState.from_moves(AFTER_E4.start_fen, AFTER_E4.path)
    await speculative.decide(AFTER_E4)
    await real.decide(rebuilt)
    await speculative.close()
    await real.close()
    assert server.requests[0].body == server.requests[1].body
    assert speculative.fingerprint() == real.fingerprint()


async def test_provider_failure_propagates(keys: None, server: FakeLLMServer) -> None:
    server.push(*[http_error(500)] * 3)
    player = player_for("openai", server)
    with pytest.raises(ProviderError) as info:
        await player.decide(AFTER_E4)
    await player.close()
    assert str(info.value).startswith("openai: HTTP 500")
    assert OPENAI_KEY not in str(info.value) and ANTHROPIC_KEY not in str(info.value)


async def test_hang_then_timeout_then_answer(keys: None, server: FakeLLMServer) -> None:
    server.push(hang(10), answer("MOVE: e5"))
    player = player_for("anthropic", server, timeout="0.3")
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.move == "e7e5" and decision.attempts == ()


async def test_cancelled_decision_closes_the_request(keys: None, server: FakeLLMServer) -> None:
    server.push(hang(30))
    player = player_for("openai", server)
    task = asyncio.create_task(player.decide(AFTER_E4))
    for _ in range(500):
        if server.requests:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(server.wait_disconnect, 2.0)
    await player.close()


async def test_costs_and_estimates(keys: None, server: FakeLLMServer) -> None:
    server.push(
        answer("MOVE: e5", input_tokens=1000, output_tokens=100, cached_tokens=0, delay=0.1),
        answer("MOVE: e5", input_tokens=1000, output_tokens=300, delay=0.1),
    )
    player = player_for("openai", server)
    assert player.expected_cost_usd() == 0.0
    assert player.cancelled_usage(AFTER_E4, 5.0).output_tokens == 0  # no rate seen yet
    d1 = await player.decide(AFTER_E4)
    d2 = await player.decide(START.apply("d2d4"))
    await player.close()
    c1, c2 = d1.usage.cost_usd, d2.usage.cost_usd
    assert c1 == pytest.approx((1000 * 1.25 + 100 * 10.0) / 1e6)
    assert c2 == pytest.approx((1000 * 1.25 + 300 * 10.0) / 1e6)
    assert c1 is not None and c2 is not None
    assert player.expected_cost_usd() == pytest.approx((c1 + c2) / 2)
    estimate = player.cancelled_usage(AFTER_E4, 1.0)
    system, user = build_chess_prompt(AFTER_E4)
    assert estimate.input_tokens == (len(system) + len(user)) // 4
    assert 0 < estimate.output_tokens < 4000  # ~ 100..300 tokens per ~0.1 s
    assert estimate.cost_usd is not None and estimate.cost_usd > 0


async def test_unknown_model_cost_is_none(keys: None, server: FakeLLMServer) -> None:
    server.push(answer("MOVE: e5"), answer("MOVE: e5"))
    player = LLMPlayer(provider_for("openai", server, model="mystery-model"), None, "", {})
    assert player.provider.prices is None
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.usage.cost_usd is None
    assert player.expected_cost_usd() == 0.0  # unknown is not counted as free or dear
    assert player.cancelled_usage(AFTER_E4, 1.0).cost_usd is None


def test_player_options(keys: None) -> None:
    provider = make_provider("openai", "gpt-5", None, None, {})
    player = LLMPlayer(provider, "gpt-5", "gpt5", {"tries": "5", "concurrency": "2"})
    assert player.max_tries == 5 and player.concurrency == 2 and player.on_illegal == "forfeit"
    assert player.name == "gpt5"
    assert OPENAI_KEY not in player.fingerprint()
    with pytest.raises(ArenaError, match="on_illegal"):
        LLMPlayer(provider, "gpt-5", "", {"on_illegal": "sulk"})
    with pytest.raises(ArenaError, match="unknown option"):
        LLMPlayer(provider, "gpt-5", "", {"colour": "white"})
    with pytest.raises(ArenaError, match="tries"):
        LLMPlayer(provider, "gpt-5", "", {"tries": "0"})


# -- the speculator ---------------------------------------------------------------------------


def test_parse_guesses() -> None:
    good = json.dumps({"moves": [{"move": "e5", "p": 0.5}, {"move": "c5", "p": 0.3}]})
    assert parse_guesses(AFTER_E4, good, 3) == [Guess("e7e5", 0.5), Guess("c7c5", 0.3)]
    fenced = "Sure!\n```json\n" + good + "\n```"
    assert parse_guesses(AFTER_E4, fenced, 1) == [Guess("e7e5", 0.5)]
    # illegal and duplicate entries are dropped, UCI is accepted, percentages are scaled
    messy = '{"moves": [{"move": "Nf7", "p": 40}, {"move": "c7c5", "p": 40}, ' + (
        '{"move": "c5", "p": 10}, {"move": "e6", "probability": "10%"}]}'
    )
    guesses = parse_guesses(AFTER_E4, messy, 3)
    assert [g.move for g in guesses] == ["c7c5", "e7e6"]
    assert sum(g.probability for g in guesses) <= 1.0
    # bare lists keep their order
    assert [g.move for g in parse_guesses(AFTER_E4, '["d5", "Nf6", "e5"]', 2)] == [
        "d7d5",
        "g8f6",
    ]
    assert parse_guesses(AFTER_E4, '{"e5": 0.6, "d5": 0.2}', 3) == [
        Guess("e7e5", 0.6),
        Guess("d7d5", 0.2),
    ]
    for junk in ["", "no json here", "{", '{"moves": "e5"}', '{"moves": [{"move": "Ke3"}]}']:
        assert parse_guesses(AFTER_E4, junk, 3) == []


async def test_speculator_good_and_garbage(keys: None, server: FakeLLMServer) -> None:
    good = {
        "moves": [{"move": "e5", "p": 0.5}, {"move": "c5", "p": 0.25}, {"move": "e6", "p": 0.1}]
    }
    server.push(
        answer(json.dumps(good), input_tokens=100, output_tokens=40),
        answer("I cannot predict that.", input_tokens=100, output_tokens=10),
        garbage(),
        garbage(),
        garbage(),
    )
    speculator = LLMSpeculator(provider_for("anthropic", server), None, "")
    guesses = await speculator.predict(AFTER_E4, 2)
    assert guesses == [Guess("e7e5", 0.5), Guess("c7c5", 0.25)]
    assert await speculator.predict(AFTER_E4, 2) == guesses  # cached: no second call
    assert len(server.requests) == 1
    assert await speculator.predict(START.apply("d2d4"), 3) == []  # prose
    assert await speculator.predict(START.apply("c2c4"), 3) == []  # provider failure
    assert speculator.failures == 1
    assert speculator.usage.input_tokens == 200 and speculator.usage.output_tokens == 50
    assert speculator.usage.cost_usd is not None
    await speculator.close()
    _, user = build_guess_prompt(AFTER_E4, 2)
    assert server.requests[0].json["messages"][0]["content"] == user
    assert "Name the 2 moves Black is most likely to play next" in user


# -- a whole match ----------------------------------------------------------------------------


@pytest.mark.parametrize("speculate", [False, True])
async def test_llm_vs_llm_match(speculate: bool, keys: None) -> None:
    with FakeLLMServer(default=chess_responder(delay=0.1, guess_delay=0.01)) as fake:
        white = LLMPlayer(provider_for("anthropic", fake), None, "white", {})
        black = LLMPlayer(provider_for("openai", fake), None, "black", {})
        seats = (
            Seat(white, LLMSpeculator(provider_for("responses", fake), None, "spec-w")),
            Seat(black, LLMSpeculator(provider_for("openai", fake), None, "spec-b")),
        )
        policy = SpeculationPolicy(k=2) if speculate else SpeculationPolicy(enabled=False)
        match = Match("m1", START, seats, policy=policy, max_plies=10)
        summary = await match.run()
    assert summary.outcome.termination == "max plies"
    assert len(summary.records) == 10
    replay = START
    for record in summary.records:
        # the responder always plays the first legal move in UCI order
        assert record.move == sorted(replay.legal_moves())[0]
        replay = replay.apply(record.move)
        assert record.usage.cost_usd is not None and record.usage.input_tokens > 0
    if speculate:
        assert any(r.guesses for r in summary.records)
        assert summary.stats.adopted_plies >= 1
        # Branches for wrong guesses were cancelled, and their HTTP requests closed.
        assert summary.stats.branches_wasted >= 1
        assert fake.disconnects
    else:
        assert not fake.disconnects
    # Both SDKs were used for real.
    paths = {r.path for r in fake.requests}
    assert "/v1/messages" in paths and "/v1/chat/completions" in paths


async def test_match_ends_with_provider_error(keys: None) -> None:
    with FakeLLMServer(default=http_error(500)) as fake:
        white = LLMPlayer(provider_for("openai", fake, retries="1"), None, "white", {})
        black = LLMPlayer(provider_for("openai", fake, retries="1"), None, "black", {})
        match = Match("m2", START, (Seat(white), Seat(black)), max_plies=4)
        summary = await match.run()
    assert summary.outcome.termination.startswith("error: openai: HTTP 500")
    assert OPENAI_KEY not in summary.outcome.termination


def test_usage_is_additive() -> None:
    assert (Usage(1, 2, 0, 0, 0.5) + Usage(1, 2, 0, 0, None)).cost_usd is None
