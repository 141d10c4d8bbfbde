"""LLM players within limits: answer caps, the retry conversation's size, context refusals,
the per-move time limit and keys echoed by a model; real SDKs against the loopback server."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for tests.fakes

from arena.games.chess import ChessState
from arena.players.llm import LLMPlayer
from arena.players.prompt import ANSWER_QUOTE_CHARS
from arena.providers import make_provider
from arena.speculators.llm import LLMSpeculator
from tests.fakes.fixtures import ANTHROPIC_KEY, FAST, OPENAI_KEY, keys, server
from tests.fakes.servers import (
    Behaviour,
    FakeLLMServer,
    Recorded,
    answer,
    hang,
    prompt_tokens,
    ramble,
    sent_key,
)

__all__ = ["keys", "server"]  # fixtures

START = ChessState.from_fen()
AFTER_E4 = START.apply("e2e4")
KINDS = ["anthropic", "openai", "responses"]


def player_for(kind: str, fake: FakeLLMServer, **options: str) -> LLMPlayer:
    opts = {**FAST, **options}
    if kind == "anthropic":
        provider = make_provider("anthropic", "claude-sonnet-4-6", fake.url, None, opts)
    else:
        if kind == "responses":
            opts["api"] = "responses"
        provider = make_provider("openai", "gpt-4o", fake.openai_url, None, opts)
    return LLMPlayer(provider, provider.model, "", opts)


def turns(request: Recorded) -> list[dict[str, str]]:
    """The conversation's turns, without an OpenAI system message."""
    body = request.json
    every = body["input"] if "input" in body else body["messages"]
    return [t for t in every if t["role"] != "system"]


def limit_of(request: Recorded) -> int:
    body = request.json
    for name in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        if name in body:
            return int(body[name])
    raise AssertionError("no answer limit sent")


# -- the retry conversation -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_rambling_answer_is_cut_and_not_quoted_back(
    kind: str, keys: None, server: FakeLLMServer
) -> None:
    server.push(ramble(then="MOVE: e5"), answer("MOVE: Nf7"), answer("MOVE: e5"))
    player = player_for(kind, server)
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.move == "e7e5" and len(decision.attempts) == 2
    first, second, third = server.requests
    assert limit_of(first) == 1024  # the default cap of a plain chat model
    cut = decision.attempts[0]
    assert len(cut.raw) == 1024 * 4 and cut.parsed is None
    assert cut.error.startswith("Your reply was cut off at the answer limit")
    assert f"FEN: {AFTER_E4.position()}" in cut.error
    assert "Legal moves: Na6, Nc6" in cut.error and "`MOVE: <your move in SAN>`" in cut.error
    quoted = turns(second)[-2]
    assert quoted["role"] == "assistant" and quoted["content"].startswith("[…] ")
    assert len(quoted["content"]) <= ANSWER_QUOTE_CHARS + 4
    assert turns(second)[-1] == {"role": "user", "content": cut.error}
    # Only the last rejected answer is quoted: the third try is no longer than the second.
    assert turns(third)[-2] == {"role": "assistant", "content": "MOVE: Nf7"}
    assert len(turns(third)) == len(turns(second))
    assert len(third.body) <= len(second.body)


async def test_the_conversation_never_grows_however_many_tries(
    keys: None, server: FakeLLMServer
) -> None:
    server.push(*[ramble()] * 8)
    player = player_for("openai", server, tries="8", on_illegal="random")
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.flagged == "random fallback" and len(decision.attempts) == 8
    sizes = [prompt_tokens(r) for r in server.requests]
    assert max(sizes) - sizes[0] < 400  # tokens: the quoted end and the feedback, once
    assert len(set(sizes[1:])) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_retries_send_the_same_bytes_for_the_same_state(
    kind: str, keys: None, server: FakeLLMServer
) -> None:
    """A speculative decision and the real one send byte-identical requests, retries too."""
    script = [ramble(), answer("MOVE: Ke9"), answer("MOVE: e5")]
    server.push(*script, *script)
    speculative, real = player_for(kind, server), player_for(kind, server)
    await speculative.decide(AFTER_E4)
    await real.decide(ChessState.from_moves(AFTER_E4.start_fen, AFTER_E4.path))
    for p in (speculative, real):
        await p.close()
    bodies = [r.body for r in server.requests]
    assert bodies[:3] == bodies[3:]


# -- context refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_context_refusal_is_a_bad_answer(kind: str, keys: None) -> None:
    with FakeLLMServer(default=answer("MOVE: e5")) as fake:
        player = player_for(kind, fake)
        await player.decide(AFTER_E4)
        room = prompt_tokens(fake.requests[0])
        # Room for the prompt and a 300-token answer: 1024 and 512 do not fit, 256 does.
        fake.context = room + 300
        decision = await player.decide(AFTER_E4)
        await player.close()
        requests = fake.requests[1:]
    assert decision.move == "e7e5" and decision.forfeit is None and decision.flagged is None
    assert [limit_of(r) for r in requests] == [1024, 512, 256]
    assert [len(turns(r)) for r in requests] == [1, 1, 1]  # the prompt alone
    words = "prompt is too long" if kind == "anthropic" else "maximum context length"
    assert all(words in a.error for a in decision.attempts)
    assert decision.attempts[0].error.endswith("max_tokens=512")
    assert decision.info["tries"] == 3


@pytest.mark.parametrize("style", ["vllm", "llama.cpp"])
@pytest.mark.parametrize("policy", ["random", "forfeit"])
async def test_a_prompt_past_the_context_ends_in_the_illegal_move_policy(
    style: str, policy: str, keys: None
) -> None:
    with FakeLLMServer(default=answer("MOVE: e5"), context=50, context_style=style) as fake:
        player = player_for("openai", fake, on_illegal=policy)
        decision = await player.decide(AFTER_E4)
        await player.close()
        assert len(fake.requests) == 3  # one per try, none retried as a provider failure
    assert len(decision.attempts) == 3
    words = {"vllm": "maximum context length", "llama.cpp": "available context size"}[style]
    assert words in decision.attempts[0].error
    if policy == "random":
        assert decision.flagged == "random fallback" and decision.move is not None
    else:
        assert decision.move is None and decision.forfeit == "forfeit: illegal move"


async def test_the_first_repro_fits_a_4096_token_context(keys: None) -> None:
    """A model that rambles to whatever limit it has, then moves when told: with no answer
    limit its first answer would fill the context and the retry quoting it would not fit."""

    def rambler(request: Recorded) -> Behaviour:
        retry = any(t["role"] == "assistant" for t in request.json["messages"])
        return answer("Fine.\nMOVE: e5") if retry else ramble()

    with FakeLLMServer(default=rambler, context=4096, context_style="vllm") as fake:
        player = player_for("openai", fake)
        decision = await player.decide(AFTER_E4)
        await player.close()
        assert max(prompt_tokens(r) + limit_of(r) for r in fake.requests) <= 4096
    assert decision.move == "e7e5" and len(decision.attempts) == 1


async def test_a_speculator_past_the_context_guesses_nothing(keys: None) -> None:
    with FakeLLMServer(default=answer('{"moves": ["e5"]}'), context=20) as fake:
        provider = make_provider("openai", "gpt-4o", fake.openai_url, None, FAST)
        speculator = LLMSpeculator(provider)
        assert await speculator.predict(AFTER_E4, 3) == []
        await speculator.close()
        assert len(fake.requests) == 1 and speculator.failures == 1


# -- the per-move time limit ------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["random", "forfeit"])
async def test_move_timeout_applies_the_illegal_move_policy(
    policy: str, keys: None, server: FakeLLMServer
) -> None:
    server.push(hang(10))
    player = player_for("openai", server, move_timeout="0.3", on_illegal=policy)
    started = time.monotonic()
    decision = await player.decide(AFTER_E4)
    took = time.monotonic() - started
    assert 0.3 <= took < 2.0
    assert decision.attempts[-1].error == "no move within move_timeout=0.3s"
    if policy == "random":
        assert decision.flagged == "random fallback (out of time)"
        assert decision.move is not None and AFTER_E4.is_legal(decision.move)
    else:
        assert decision.move is None and decision.forfeit == "forfeit: out of time"
    assert await asyncio.to_thread(server.wait_disconnect, 2.0)  # the call was abandoned
    await player.close()
    assert "move_timeout=0.3" in player.fingerprint()


async def test_move_timeout_counts_all_tries(keys: None, server: FakeLLMServer) -> None:
    server.push(*[answer("MOVE: Ke9", delay=0.2)] * 10)
    player = player_for("anthropic", server, tries="10", move_timeout="0.7", on_illegal="random")
    decision = await player.decide(AFTER_E4)
    await player.close()
    assert decision.flagged == "random fallback (out of time)"
    assert 3 <= len(decision.attempts) <= 5  # ~3 answered tries, then the limit
    assert len(server.requests) < 10


async def test_every_call_carries_a_deadline(keys: None) -> None:
    provider = make_provider("openai", "gpt-4o", "http://127.0.0.1:9/v1", None, {})
    assert provider.client().timeout == 300.0  # sent to the SDK (and enforced around it)
    reasoning = make_provider("openai", "gpt-5", "http://127.0.0.1:9/v1", None, {"timeout": "42"})
    assert reasoning.client().timeout == 42.0
    await provider.aclose()
    await reasoning.aclose()


# -- keys -------------------------------------------------------------------------------------


def echo_key(request: Recorded) -> Behaviour:
    """A model that repeats the key it was sent: an illegal move first, then a legal one."""
    retry = "illegal here" in request.text
    move = "MOVE: e5" if retry else "MOVE: Ke9"
    return answer(f"I see your key {sent_key(request)}. {move}")


@pytest.mark.parametrize("kind", KINDS)
async def test_an_echoed_key_never_reaches_the_decision(kind: str, keys: None) -> None:
    with FakeLLMServer(default=echo_key) as fake:
        player = player_for(kind, fake)
        decision = await player.decide(AFTER_E4)
        await player.close()
        retry = fake.requests[1]
    key = ANTHROPIC_KEY if kind == "anthropic" else OPENAI_KEY
    assert decision.move == "e7e5"
    assert decision.raw == "I see your key [redacted]. MOVE: e5"
    assert decision.attempts[0].raw == "I see your key [redacted]. MOVE: Ke9"
    assert key not in repr(decision)
    assert key.encode() not in retry.body  # not even quoted back to the model


async def test_a_profile_key_is_redacted_too(keys: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM_TOKEN", "local-token-7f3a9c21")
    with FakeLLMServer(default=echo_key) as fake:
        provider = make_provider("openai", "m", fake.openai_url, "MY_LLM_TOKEN", FAST)
        player = LLMPlayer(provider)
        decision = await player.decide(AFTER_E4)
        await player.close()
        assert sent_key(fake.requests[0]) == "local-token-7f3a9c21"
    assert "local-token" not in repr(decision) and "[redacted]" in decision.raw
