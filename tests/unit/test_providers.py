"""The provider layer through the real SDK clients, over HTTP, against a loopback server."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for tests.fakes

from arena.core.actor import Usage
from arena.core.errors import ArenaError, ProviderError
from arena.providers import (
    ChatRequest,
    Prices,
    Provider,
    make_provider,
    price,
    prices_for,
    provider_from_spec,
    split_model_url,
)
from arena.providers.base import (
    KEY_ENVS,
    ContextLengthError,
    RetryPolicy,
    is_context_refusal,
    parse_retry_after,
    redact,
)
from tests.fakes.fixtures import (
    ANTHROPIC_KEY,
    FAST,
    OPENAI_KEY,
    keys,
    no_keys,
    server,
)
from tests.fakes.servers import (
    Behaviour,
    FakeLLMServer,
    Recorded,
    answer,
    empty_body,
    empty_choices,
    garbage,
    hang,
    http_error,
    ramble,
    sent_key,
)

__all__ = ["keys", "no_keys", "server"]  # fixtures

REQUEST = ChatRequest("You are terse.", [{"role": "user", "content": "Say hi."}])
KINDS = ["anthropic", "openai", "responses"]


def provider_for(kind: str, fake: FakeLLMServer, model: str = "", **options: str) -> Provider:
    """A provider of `kind` (responses = openai with api=responses) aimed at `fake`."""
    opts = {**FAST, **options}
    if kind == "anthropic":
        return make_provider("anthropic", model or "claude-sonnet-4-6", fake.url, None, opts)
    if kind == "responses":
        opts["api"] = "responses"
    return make_provider("openai", model or "gpt-5", fake.openai_url, None, opts)


def path_of(kind: str) -> str:
    return {
        "anthropic": "/v1/messages",
        "openai": "/v1/chat/completions",
        "responses": "/v1/responses",
    }[kind]


def assert_key_only_in_auth(fake: FakeLLMServer) -> None:
    for req in fake.requests:
        for name, value in req.headers.items():
            if name != "authorization":
                assert ANTHROPIC_KEY not in value and OPENAI_KEY not in value
        assert ANTHROPIC_KEY.encode() not in req.body
        assert OPENAI_KEY.encode() not in req.body


# -- answers and usage ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_answer_text_and_usage(kind: str, keys: None, server: FakeLLMServer) -> None:
    server.push(
        answer(
            "MOVE: e4",
            input_tokens=1000,
            output_tokens=200,
            cached_tokens=600,
            reasoning_tokens=150,
            thinking="Let me think about e4 and d4.",
        )
    )
    provider = provider_for(kind, server)
    try:
        response = await provider.complete(REQUEST)
    finally:
        await provider.aclose()
    assert response.text == "MOVE: e4"  # thinking / reasoning never leaks into the answer
    u = response.usage
    assert (u.input_tokens, u.output_tokens, u.cached_tokens, u.reasoning_tokens) == (
        1000,
        200,
        600,
        150,
    )
    assert server.requests[0].path == path_of(kind)
    if kind == "anthropic":  # $3 in, $0.30 cached, $15 out per million
        expected = (400 * 3.0 + 600 * 0.30 + 200 * 15.0) / 1e6
    else:  # gpt-5: $1.25 in, $0.125 cached, $10 out
        expected = (400 * 1.25 + 600 * 0.125 + 200 * 10.0) / 1e6
    assert u.cost_usd == pytest.approx(expected)
    assert response.raw_model in ("claude-sonnet-4-6", "gpt-5")
    assert response.elapsed_s > 0
    assert_key_only_in_auth(server)


@pytest.mark.parametrize("kind", KINDS)
async def test_auth_header_carries_the_key(kind: str, keys: None, server: FakeLLMServer) -> None:
    server.push(answer("hi"))
    provider = provider_for(kind, server)
    await provider.complete(REQUEST)
    await provider.aclose()
    key = ANTHROPIC_KEY if kind == "anthropic" else OPENAI_KEY
    auth = server.requests[0].headers.get("authorization", "") + server.requests[0].headers.get(
        "x-api-key", ""
    )
    assert key in auth
    assert_key_only_in_auth(server)


async def test_unknown_model_has_unknown_cost(keys: None, server: FakeLLMServer) -> None:
    server.push(answer("hi", input_tokens=10, output_tokens=5))
    provider = provider_for("openai", server, model="llama3.2:1b")
    response = await provider.complete(REQUEST)
    await provider.aclose()
    assert response.usage.cost_usd is None
    assert response.usage.input_tokens == 10


async def test_profile_prices_make_a_local_model_free(keys: None, server: FakeLLMServer) -> None:
    server.push(answer("hi", input_tokens=10, output_tokens=5), answer("hi", output_tokens=5))
    free = make_provider(
        "openai", "llama3", server.openai_url, None, FAST, prices={"input": 0, "output": 0}
    )
    assert (await free.complete(REQUEST)).usage.cost_usd == 0.0
    by_spec = make_provider(
        "openai", "llama3", server.openai_url, None, {**FAST, "price_in": "0", "price_out": "0"}
    )
    assert (await by_spec.complete(REQUEST)).usage.cost_usd == 0.0
    await free.aclose()
    await by_spec.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_empty_choices_is_an_empty_answer(
    kind: str, keys: None, server: FakeLLMServer
) -> None:
    server.push(empty_choices())
    provider = provider_for(kind, server)
    response = await provider.complete(REQUEST)
    await provider.aclose()
    assert response.text == ""
    assert len(server.requests) == 1


# -- request shape ----------------------------------------------------------------------------


async def test_anthropic_request_shape(keys: None, server: FakeLLMServer) -> None:
    server.push(answer("a"), answer("b"), answer("c"))
    plain = provider_for("anthropic", server, temperature="0", max_tokens="300")
    await plain.complete(REQUEST)
    thinking = provider_for("anthropic", server, thinking="2048", effort="low")
    await thinking.complete(REQUEST)
    default = provider_for("anthropic", server)
    await default.complete(REQUEST)
    first, second, third = (r.json for r in server.requests)
    assert first["system"] == "You are terse."  # a plain string away from the official API
    assert first["messages"] == [{"role": "user", "content": "Say hi."}]
    assert first["max_tokens"] == 300 and first["temperature"] == 0
    assert "thinking" not in first
    assert second["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert second["max_tokens"] == 2048 + 1024
    assert second["output_config"] == {"effort": "low"}
    assert "temperature" not in second
    assert third["max_tokens"] == 1024
    for p in (plain, thinking, default):
        await p.aclose()


def test_anthropic_thinking_shrinks_with_a_smaller_answer_limit(keys: None) -> None:
    """After a context refusal the player asks for less; thinking must still fit inside."""
    provider = make_provider("anthropic", "claude-sonnet-4-6", None, None, {"thinking": "4096"})
    assert provider.request_kwargs(REQUEST)["thinking"]["budget_tokens"] == 4096
    smaller = provider.request_kwargs(ChatRequest(REQUEST.system, REQUEST.messages, 3000))
    assert smaller["max_tokens"] == 3000
    assert smaller["thinking"] == {"type": "enabled", "budget_tokens": 1500}
    tiny = provider.request_kwargs(ChatRequest(REQUEST.system, REQUEST.messages, 1500))
    assert tiny["max_tokens"] == 1500 and "thinking" not in tiny


async def test_anthropic_cache_blocks_only_at_the_official_api(
    keys: None, server: FakeLLMServer
) -> None:
    """The official API gets the system prompt as a cached block; cache= overrides."""
    server.push(*[answer("x")] * 4)
    official = make_provider("anthropic", "claude-sonnet-4-6", None, None, FAST)
    uncached = make_provider("anthropic", "claude-sonnet-4-6", None, None, {**FAST, "cache": "0"})
    for p in (official, uncached):
        assert p.official and p.base_url is None
        p.base_url = server.url  # the official request shape, aimed at the fake
    cached = provider_for("anthropic", server, cache="1")
    plain = provider_for("anthropic", server)
    for p in (official, uncached, cached, plain):
        await p.complete(REQUEST)
        await p.aclose()
    block = [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}]
    assert [r.json["system"] for r in server.requests] == [
        block,
        "You are terse.",
        block,
        "You are terse.",
    ]
    assert "cache=True" in cached.fingerprint() and "cache" not in plain.fingerprint()


async def test_anthropic_proxy_rejects_blocks_but_takes_a_string(keys: None) -> None:
    """An Anthropic-format proxy (LiteLLM) answers 500 to block system prompts."""
    with FakeLLMServer(default=answer("MOVE: e4"), proxy=True) as proxy:
        plain = provider_for("anthropic", proxy)
        response = await plain.complete(REQUEST)
        assert response.text == "MOVE: e4" and len(proxy.requests) == 1
        forced = provider_for("anthropic", proxy, cache="1", retries="1")
        with pytest.raises(ProviderError, match="HTTP 500"):
            await forced.complete(REQUEST)
        for p in (plain, forced):
            await p.aclose()


async def test_openai_request_shape(keys: None, server: FakeLLMServer) -> None:
    server.push(answer("a"), answer("b"))
    chat = make_provider(
        "openai",
        "gpt-5",
        None,
        None,
        {**FAST, "reasoning_effort": "low", "seed": "7", "max_tokens": "500", "temperature": "1"},
    )
    assert chat.base_url is None  # the official endpoint: aim the client at the fake below
    chat.base_url = server.openai_url
    await chat.complete(REQUEST)
    responses = provider_for("responses", server, reasoning_effort="high", max_tokens="99")
    await responses.complete(REQUEST)
    body, rbody = server.requests[0].json, server.requests[1].json
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hi."},
    ]
    assert body["reasoning_effort"] == "low" and body["seed"] == 7
    assert body["max_completion_tokens"] == 500 and body["temperature"] == 1.0
    assert rbody["instructions"] == "You are terse."
    assert rbody["input"] == [{"role": "user", "content": "Say hi."}]
    assert rbody["reasoning"] == {"effort": "high"}
    assert rbody["max_output_tokens"] == 99 and rbody["store"] is False
    for p in (chat, responses):
        await p.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_an_answer_limit_is_always_sent(kind: str, keys: None, server: FakeLLMServer) -> None:
    server.push(answer("x"), answer("y"))
    plain = provider_for(kind, server, model="llama3" if kind != "anthropic" else "")
    reasoning = provider_for(kind, server, model="o3" if kind != "anthropic" else "")
    if kind == "anthropic":
        reasoning = provider_for(kind, server, thinking="adaptive")
    for p in (plain, reasoning):
        await p.complete(REQUEST)
        await p.aclose()
    name = {"anthropic": "max_tokens", "openai": "max_tokens", "responses": "max_output_tokens"}
    limits = [r.json[name[kind]] for r in server.requests]
    assert limits == [1024, 8192]


def test_default_answer_limits_and_timeouts(keys: None) -> None:
    def limit(kind: str, model: str, **options: str) -> tuple[int, float]:
        p = make_provider(kind, model, None, None, options)
        return p.max_tokens, p.retry.timeout

    assert limit("openai", "gpt-4o") == (1024, 300.0)
    assert limit("openai", "gpt-5-mini") == (8192, 600.0)
    assert limit("openai", "o4-mini") == (8192, 600.0)
    assert limit("openai", "gpt-5", reasoning_effort="none") == (1024, 300.0)
    assert limit("openai", "gpt-5", reasoning_effort="high") == (16384, 600.0)
    assert limit("openai", "gpt-5", reasoning_effort="xhigh") == (32768, 600.0)
    assert limit("openai", "qwen2.5", reasoning_effort="low") == (8192, 600.0)
    assert limit("openai", "deepseek-r1:7b") == (8192, 600.0)
    assert limit("openai", "gpt-5", max_tokens="300", timeout="20") == (300, 20.0)
    assert limit("anthropic", "claude-sonnet-4-6") == (1024, 300.0)
    assert limit("anthropic", "claude-sonnet-4-6", thinking="4000") == (5024, 600.0)
    assert limit("anthropic", "claude-opus-4-5", thinking="adaptive") == (8192, 600.0)
    assert limit("anthropic", "claude-opus-4-5", thinking="adaptive", effort="max") == (
        32768,
        600.0,
    )


@pytest.mark.parametrize("kind", KINDS)
async def test_answers_cut_at_the_limit_are_marked(
    kind: str, keys: None, server: FakeLLMServer
) -> None:
    server.push(ramble(), answer("short"))
    provider = provider_for(kind, server, max_tokens="50")
    cut = await provider.complete(REQUEST)
    whole = await provider.complete(REQUEST)
    await provider.aclose()
    assert cut.truncated and len(cut.text) == 50 * 4
    assert not whole.truncated and whole.text == "short"


@pytest.mark.parametrize(
    ("kind", "style"),
    [("openai", "vllm"), ("openai", "llama.cpp"), ("responses", "vllm"), ("anthropic", "vllm")],
)
async def test_context_refusal_is_not_retried(
    kind: str, style: str, keys: None, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeLLMServer(default=answer("never"), context=10, context_style=style) as fake:
        provider = provider_for(kind, fake)
        with pytest.raises(ContextLengthError) as info:
            await provider.complete(REQUEST)
        await provider.aclose()
        assert len(fake.requests) == 1  # a bigger request would not fit on a retry either
    assert isinstance(info.value, ProviderError)
    assert str(info.value).startswith(f"{provider.kind}: HTTP 400")
    words = {"vllm": "maximum context length", "llama.cpp": "available context size"}[style]
    assert (words if kind != "anthropic" else "prompt is too long") in str(info.value)


def test_context_refusal_words() -> None:
    assert is_context_refusal(400, "This model's maximum context length is 4096 tokens.")
    assert is_context_refusal(400, "the request exceeds the available context size")
    assert is_context_refusal(400, "blah exceed_context_size_error")
    assert is_context_refusal(400, "x context_length_exceeded")
    assert is_context_refusal(400, "prompt is too long: 210000 tokens > 200000 maximum")
    assert not is_context_refusal(500, "maximum context length")
    assert not is_context_refusal(400, "invalid model")


async def test_compatible_server_gets_max_tokens(no_keys: None, server: FakeLLMServer) -> None:
    server.push(answer("a"))
    local = make_provider("openai", "llama3", server.openai_url, None, {"max_tokens": "64"})
    await local.complete(REQUEST)
    await local.aclose()
    body = server.requests[0].json
    assert body["max_tokens"] == 64 and "max_completion_tokens" not in body
    assert server.requests[0].headers["authorization"] == "Bearer not-needed"


async def test_same_request_same_bytes(keys: None, server: FakeLLMServer) -> None:
    for kind in KINDS:
        server.push(answer("x"), answer("y"))
        provider = provider_for(kind, server, temperature="0")
        await provider.complete(REQUEST)
        await provider.complete(ChatRequest(REQUEST.system, list(REQUEST.messages)))
        await provider.aclose()
    bodies = [r.body for r in server.requests]
    assert bodies[0] == bodies[1] and bodies[2] == bodies[3] and bodies[4] == bodies[5]


# -- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_429_retry_after_is_honoured(kind: str, keys: None, server: FakeLLMServer) -> None:
    server.push(http_error(429, retry_after="0.3"), answer("ok"))
    provider = provider_for(kind, server)
    started = time.monotonic()
    response = await provider.complete(REQUEST)
    await provider.aclose()
    assert response.text == "ok"
    assert len(server.requests) == 2
    gap = server.requests[1].at - server.requests[0].at
    assert gap >= 0.3  # the backoff alone (0.01 s) would be far shorter
    assert time.monotonic() - started < 3


async def test_retry_after_is_capped(keys: None, server: FakeLLMServer) -> None:
    server.push(http_error(429, retry_after="3600"), answer("ok"))
    provider = provider_for("openai", server, retry_after_max="0.05")
    started = time.monotonic()
    assert (await provider.complete(REQUEST)).text == "ok"
    await provider.aclose()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("kind", KINDS)
async def test_500_then_success(kind: str, keys: None, server: FakeLLMServer) -> None:
    server.push(http_error(500), http_error(503), answer("fine"))
    provider = provider_for(kind, server)
    response = await provider.complete(REQUEST)
    await provider.aclose()
    assert response.text == "fine"
    assert len(server.requests) == 3


@pytest.mark.parametrize("kind", KINDS)
async def test_persistent_500_raises_without_the_key(
    kind: str, keys: None, server: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A hostile server echoes the key back; it must not reach our message or logs.
    message = f"upstream broke for key {ANTHROPIC_KEY} {OPENAI_KEY}"
    server.push(*[http_error(500, message=message)] * 3)
    provider = provider_for(kind, server)
    caplog.set_level(logging.DEBUG)  # the SDKs' own debug logs included
    with pytest.raises(ProviderError) as info:
        await provider.complete(REQUEST)
    await provider.aclose()
    text = str(info.value)
    assert text.startswith(f"{provider.kind}: HTTP 500")
    assert "after 3 tries" in text
    assert ANTHROPIC_KEY not in text and OPENAI_KEY not in text
    assert "SECRET" not in text
    assert ANTHROPIC_KEY not in caplog.text and OPENAI_KEY not in caplog.text
    assert len(server.requests) == 3  # 1 + retries=2


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_client_errors_are_not_retried(
    status: int, keys: None, server: FakeLLMServer
) -> None:
    server.push(http_error(status), answer("never"))
    provider = provider_for("anthropic", server)
    with pytest.raises(ProviderError) as info:
        await provider.complete(REQUEST)
    await provider.aclose()
    assert f"HTTP {status}" in str(info.value)
    assert len(server.requests) == 1
    if status == 401:
        assert "ANTHROPIC_API_KEY" in str(info.value)


@pytest.mark.parametrize("kind", KINDS)
async def test_hang_past_timeout_is_retried_then_fails(
    kind: str, keys: None, server: FakeLLMServer
) -> None:
    server.push(hang(10), hang(10))
    provider = provider_for(kind, server, timeout="0.3", retries="1")
    started = time.monotonic()
    with pytest.raises(ProviderError, match="timed out"):
        await provider.complete(REQUEST)
    elapsed = time.monotonic() - started
    await provider.aclose()
    assert len(server.requests) == 2
    assert 0.55 < elapsed < 3
    # The abandoned requests were closed, not left running on the server.
    assert await asyncio.to_thread(server.wait_disconnect, 2.0)


async def test_hang_then_answer(keys: None, server: FakeLLMServer) -> None:
    server.push(hang(10), answer("late but fine"))
    provider = provider_for("openai", server, timeout="0.3")
    assert (await provider.complete(REQUEST)).text == "late but fine"
    await provider.aclose()


@pytest.mark.parametrize("bad", [empty_body, garbage, lambda: garbage("text/plain")])
@pytest.mark.parametrize("kind", KINDS)
async def test_unreadable_bodies_are_retried(
    kind: str, bad: Callable[[], Behaviour], keys: None, server: FakeLLMServer
) -> None:
    server.push(bad(), answer("ok"))
    provider = provider_for(kind, server)
    assert (await provider.complete(REQUEST)).text == "ok"
    server.push(bad(), bad(), bad())
    with pytest.raises(ProviderError, match="unreadable response"):
        await provider.complete(REQUEST)
    await provider.aclose()


async def test_connection_refused_is_a_provider_error(keys: None) -> None:
    fake = FakeLLMServer()
    url = fake.openai_url
    fake.close()  # nothing listens on the port any more
    provider = make_provider("openai", "gpt-5", url, None, {**FAST, "retries": "1"})
    with pytest.raises(ProviderError, match="connection failed"):
        await provider.complete(REQUEST)
    await provider.aclose()


# -- cancellation -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_cancellation_closes_the_request(
    kind: str, keys: None, server: FakeLLMServer
) -> None:
    server.push(hang(30))
    provider = provider_for(kind, server)
    task = asyncio.create_task(provider.complete(REQUEST))
    for _ in range(500):
        if server.requests:
            break
        await asyncio.sleep(0.01)
    assert server.requests, "the request never reached the server"
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - cancelled_at < 0.5  # propagates at once, no retry
    assert await asyncio.to_thread(server.wait_disconnect, 2.0)
    assert server.disconnects[0].at - cancelled_at < 1.0
    assert len(server.requests) == 1
    # The provider is still usable after a cancelled call.
    server.push(answer("again"))
    assert (await provider.complete(REQUEST)).text == "again"
    await provider.aclose()


async def test_provider_reopens_after_aclose(keys: None, server: FakeLLMServer) -> None:
    server.push(answer("one"), answer("two"))
    provider = provider_for("anthropic", server)
    assert (await provider.complete(REQUEST)).text == "one"
    await provider.aclose()
    assert (await provider.complete(REQUEST)).text == "two"
    await provider.aclose()


# -- keys and options -------------------------------------------------------------------------


def test_missing_key_names_the_variable(no_keys: None) -> None:
    with pytest.raises(ArenaError) as info:
        make_provider("anthropic", "claude-sonnet-4-6", None, None, {})
    assert str(info.value) == (
        "ANTHROPIC_API_KEY is not set: export it to play anthropic:claude-sonnet-4-6"
    )
    with pytest.raises(ArenaError, match=r"^OPENAI_API_KEY is not set"):
        make_provider("openai", "gpt-5", None, None, {})
    with pytest.raises(ArenaError, match=r"^MY_KEY is not set"):
        make_provider("openai", "gpt-5", "https://api.openai.com/v1", "MY_KEY", {})


def test_profile_key_variable(no_keys: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-profile-key-123456")
    provider = make_provider("openai", "gpt-5", None, "MY_KEY", {})
    assert provider.api_key_env == "MY_KEY"
    assert "sk-profile" not in repr(provider)
    assert "sk-profile" not in provider.fingerprint()


def test_local_servers_need_no_key(no_keys: None, monkeypatch: pytest.MonkeyPatch) -> None:
    make_provider("openai", "llama3", "http://localhost:11434/v1", None, {})
    make_provider("ollama", "llama3", None, None, {})
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    provider = make_provider("openai", "qwen", None, None, {})
    assert provider.base_url == "http://127.0.0.1:8000/v1"


def test_bad_options_are_one_line_errors(keys: None) -> None:
    with pytest.raises(ArenaError, match="unknown option bogus"):
        make_provider("openai", "gpt-5", None, None, {"bogus": "1"})
    with pytest.raises(ArenaError, match="unknown option thinking"):
        make_provider("openai", "gpt-5", None, None, {"thinking": "2048"})
    with pytest.raises(ArenaError, match="temperature"):
        make_provider("openai", "gpt-5", None, None, {"temperature": "hot"})
    with pytest.raises(ArenaError, match="at least 1024"):
        make_provider("anthropic", "claude-opus-4-5", None, None, {"thinking": "10"})
    with pytest.raises(ArenaError, match="cannot be combined"):
        make_provider("anthropic", "x", None, None, {"thinking": "2048", "temperature": "0"})
    with pytest.raises(ArenaError, match="api"):
        make_provider("openai", "gpt-5", None, None, {"api": "legacy"})
    with pytest.raises(ArenaError, match="bad base URL"):
        make_provider("openai", "llama3", "localhost:11434", None, {})
    with pytest.raises(ArenaError, match="unknown model kind"):
        make_provider("gemini", "x", None, None, {})
    # Player options pass through the provider untouched.
    make_provider("openai", "gpt-5", None, None, {"tries": "2", "on_illegal": "random"})


def test_fingerprint_has_options_not_key(keys: None) -> None:
    a = make_provider("anthropic", "claude-sonnet-4-6", None, None, {"temperature": "0"})
    b = make_provider("anthropic", "claude-sonnet-4-6", None, None, {"temperature": "0.5"})
    c = make_provider("anthropic", "claude-sonnet-4-6", None, None, {"retries": "9"})
    assert a.fingerprint() != b.fingerprint()
    assert "temperature=0.0" in a.fingerprint()
    assert c.fingerprint() == "anthropic:claude-sonnet-4-6"  # retries do not shape requests
    assert ANTHROPIC_KEY not in a.fingerprint() + repr(a)


# -- pricing and helpers ----------------------------------------------------------------------


def test_pricing_table() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert price("gpt-5", usage) == pytest.approx(11.25)
    assert price("gpt-5-2025-08-07", usage) == price("gpt-5", usage)
    assert price("claude-sonnet-4-5-20250929", usage) == pytest.approx(18.0)
    assert price("claude-opus-4-0", usage) == pytest.approx(90.0)
    assert price("gpt-5-mini", usage) == pytest.approx(2.25)
    assert price("no-such-model", usage) is None
    assert price("llama3.2", usage) is None
    assert prices_for("gpt-4.1") == Prices(2.0, 8.0, 0.5)


def test_prices_cost_counts_cache_reads_and_writes() -> None:
    prices = Prices(input=3.0, output=15.0, cached=0.3, cache_write=3.75)
    usage = Usage(input_tokens=1000, output_tokens=100, cached_tokens=500)
    assert prices.cost(usage, cache_write_tokens=200) == pytest.approx(
        (300 * 3.0 + 500 * 0.3 + 200 * 3.75 + 100 * 15.0) / 1e6
    )
    with pytest.raises(ArenaError):
        Prices.from_mapping({"input": 1})
    with pytest.raises(ArenaError):
        Prices.from_mapping({"input": 1, "output": "free"})


def test_retry_after_parsing() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "150"}) == 0.15
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    policy = RetryPolicy(backoff=1.0, backoff_max=4.0, retry_after_max=10.0, jitter=0.25)
    assert policy.delay(0, 99.0) == 10.0
    assert 0.75 <= policy.delay(0, None) <= 1.25
    assert 3.0 <= policy.delay(5, None) <= 5.0


def test_redact(keys: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert redact("key sk-abcdefghijkl and SECRETVALUE", ("SECRETVALUE",)) == (
        "key sk-ab[redacted] and [redacted]"
    )
    assert json.dumps(redact("nothing here")) == '"nothing here"'
    # The values of the key variables in use, whatever their shape.
    assert redact(f"a {OPENAI_KEY} b {ANTHROPIC_KEY}") == "a [redacted] b [redacted]"
    monkeypatch.setenv("LOCAL_LLM_TOKEN", "tok-local-0042-abcdef")
    assert "tok-local" in redact("tok-local-0042-abcdef")  # not known as a key yet
    make_provider("openai", "m", "http://127.0.0.1:9/v1", "LOCAL_LLM_TOKEN", {})
    assert "LOCAL_LLM_TOKEN" in KEY_ENVS
    assert redact("echo tok-local-0042-abcdef!") == "echo [redacted]!"
    assert redact("abc", ("abc",)) == "abc"  # too short to be a key


@pytest.mark.parametrize("kind", KINDS)
async def test_an_echoed_key_is_redacted_from_answers(kind: str, keys: None) -> None:
    def echo(request: Recorded) -> Behaviour:
        key = sent_key(request)
        return answer(f"I see your key {key}. My move: e2e4", model=f"model-{key}")

    with FakeLLMServer(default=echo) as fake:
        provider = provider_for(kind, fake)
        response = await provider.complete(REQUEST)
        await provider.aclose()
    assert response.text == "I see your key [redacted]. My move: e2e4"
    assert response.raw_model == "model-[redacted]"


def test_plain_http_to_another_machine_is_warned(
    keys: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="arena.providers")
    make_provider("openai", "m", "http://127.0.0.1:8000/v1", None, {})
    make_provider("openai", "m", "http://localhost:8000/v1", None, {})
    make_provider("openai", "m", "http://[::1]:8000/v1", None, {})
    make_provider("openai", "m", "https://llm.example.com/v1", None, {})
    assert caplog.records == []
    make_provider("openai", "m", "http://gpu-box.lan:8000/v1", None, {})
    make_provider("anthropic", "m", "http://10.0.0.5:4000", None, {})
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "OPENAI_API_KEY is sent in clear text to gpu-box.lan (plain http to another machine): "
        "use https",
        "ANTHROPIC_API_KEY is sent in clear text to 10.0.0.5 (plain http to another machine): "
        "use https",
    ]
    assert OPENAI_KEY not in caplog.text


# -- specs and profiles -----------------------------------------------------------------------


def test_split_model_url() -> None:
    assert split_model_url("gpt-5") == ("gpt-5", None)
    assert split_model_url("llama3@http://127.0.0.1:11434/v1") == (
        "llama3",
        "http://127.0.0.1:11434/v1",
    )
    assert split_model_url("claude-opus-4@20250514") == ("claude-opus-4@20250514", None)
    assert split_model_url("a@b@https://h/v1") == ("a@b", "https://h/v1")


def test_provider_from_spec_and_profiles(keys: None) -> None:
    local = provider_from_spec("openai", "llama3@http://127.0.0.1:9/v1", {"temperature": "0"})
    assert local.base_url == "http://127.0.0.1:9/v1" and local.prices is None
    profiles = Path(__file__).resolve().parents[2] / "arena" / "data" / "profiles"
    seen = set()
    for path in sorted(profiles.glob("*.toml")):
        profile = tomllib.loads(path.read_text())
        if profile.get("kind") not in ("anthropic", "openai"):
            continue
        options = {k: str(v) for k, v in profile.get("options", {}).items()}
        provider = provider_from_spec(profile["kind"], "", options, profile)
        assert provider.model == profile["model"]
        seen.add(path.stem)
        if path.stem == "ollama-llama":
            assert provider.base_url == "http://127.0.0.1:11434/v1"
            assert provider.prices == Prices(0.0, 0.0)
        else:
            assert provider.prices is not None, f"{path.stem} has no known price"
    assert {"claude-sonnet", "gpt-5-mini", "ollama-llama"} <= seen
    with pytest.raises(ArenaError, match="prices"):
        provider_from_spec("openai", "x@http://h/v1", {}, {"prices": 3})
