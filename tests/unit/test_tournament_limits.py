"""Per-provider limits held under load, against the loopback fake server: requests in flight,
per minute, a 429 pausing the whole endpoint, and separate buckets per base URL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from arena.core.errors import ArenaError
from arena.providers import ChatRequest, make_provider
from arena.providers.base import set_call_gate
from arena.tournament.limits import ProviderLimit, ProviderLimiter
from tests.fakes.fixtures import FAST, keys, server  # noqa: F401
from tests.fakes.servers import FakeLLMServer, answer, http_error

REQUEST = ChatRequest("You are terse.", [{"role": "user", "content": "Say hi."}])


@pytest.fixture
def gate() -> Iterator[list[ProviderLimiter]]:
    installed: list[ProviderLimiter] = []
    yield installed
    set_call_gate(None)


def install(limiter: ProviderLimiter, installed: list[ProviderLimiter]) -> ProviderLimiter:
    set_call_gate(limiter)
    installed.append(limiter)
    return limiter


def max_overlap(starts: list[float], duration: float) -> int:
    """The most requests the server was working on at once (each takes `duration`)."""
    return max(sum(1 for s in starts if t <= s < t + duration * 0.9) for t in starts)


async def test_requests_in_flight_are_bounded_across_games(
    keys: None,  # noqa: F811
    server: FakeLLMServer,  # noqa: F811
    gate: list[ProviderLimiter],
) -> None:
    server._state.default = answer("ok", delay=0.25)
    limiter = install(ProviderLimiter([ProviderLimit.parse("openai=2")]), gate)
    # Two "games", each with its own provider object: the bound is per endpoint, not per object.
    a = make_provider("openai", "gpt-5", server.openai_url, None, FAST)
    b = make_provider("openai", "gpt-5", server.openai_url, None, FAST)
    await asyncio.gather(*(p.complete(REQUEST) for p in [a, b] * 4))
    starts = [r.at for r in server.requests]
    assert len(starts) == 8
    assert max_overlap(starts, 0.25) <= 2
    [stats] = limiter.stats()
    assert stats.peak_in_flight == 2 and stats.calls == 8


async def test_requests_per_minute_are_bounded(
    keys: None,  # noqa: F811
    server: FakeLLMServer,  # noqa: F811
    gate: list[ProviderLimiter],
) -> None:
    server._state.default = answer("ok")
    limiter = ProviderLimiter([ProviderLimit.parse("openai=0/3")])
    limiter.window_s = 2.0
    install(limiter, gate)
    provider = make_provider("openai", "gpt-5", server.openai_url, None, FAST)
    await asyncio.gather(*(provider.complete(REQUEST) for _ in range(7)))
    starts = sorted(r.at for r in server.requests)
    # Arrival at the server lags admission by a little (more under load, as on a shared
    # 2-core machine): a margin of 0.8 s of the 2 s window.
    for i, t in enumerate(starts):
        assert sum(1 for s in starts[i:] if s < t + 1.2) <= 3
    assert starts[-1] - starts[0] >= 3.2  # 7 requests at 3 a window: three windows


async def test_a_429_pauses_the_endpoint_for_every_caller(
    keys: None,  # noqa: F811
    server: FakeLLMServer,  # noqa: F811
    gate: list[ProviderLimiter],
) -> None:
    server.push(http_error(429, retry_after="0.4"))
    server._state.default = answer("ok")
    install(ProviderLimiter([ProviderLimit.parse("openai=1")]), gate)
    a = make_provider("openai", "gpt-5", server.openai_url, None, FAST)
    b = make_provider("openai", "gpt-5", server.openai_url, None, FAST)
    await asyncio.gather(a.complete(REQUEST), b.complete(REQUEST))
    first, second, third = sorted(r.at for r in server.requests)
    # Nobody sends during the pause the 429 asked for, not only the caller that got it.
    assert second - first >= 0.35
    assert third >= second


async def test_each_base_url_is_its_own_bucket(
    keys: None,  # noqa: F811
    gate: list[ProviderLimiter],
) -> None:
    with (
        FakeLLMServer(default=answer("ok", delay=0.2)) as one,
        FakeLLMServer(default=answer("ok", delay=0.2)) as two,
    ):
        limiter = install(
            ProviderLimiter(
                [ProviderLimit.parse("openai=1"), ProviderLimit.parse(f"{two.openai_url}=3")]
            ),
            gate,
        )
        p1 = make_provider("openai", "m", one.openai_url, None, FAST)
        p2 = make_provider("openai", "m", two.openai_url, None, FAST)
        await asyncio.gather(*(p.complete(REQUEST) for p in [p1, p2] * 3))
        assert max_overlap([r.at for r in one.requests], 0.2) == 1
        assert max_overlap([r.at for r in two.requests], 0.2) == 3
        peaks = {s.endpoint: s.peak_in_flight for s in limiter.stats()}
        assert peaks == {f"openai@{one.openai_url}": 1, f"openai@{two.openai_url}": 3}


def test_limit_rules_parse_and_match_most_specific() -> None:
    rule = ProviderLimit.parse("openai@http://h:1/v1=4/100")
    assert (rule.key, rule.in_flight, rule.per_minute) == ("openai@http://h:1/v1", 4, 100)
    assert rule.specificity("openai", "http://h:1/v1") == 3
    assert ProviderLimit.parse("http://h:1/v1=2").specificity("openai", "http://h:1/v1/") == 2
    assert ProviderLimit.parse("openai=8").specificity("anthropic", "") is None
    assert ProviderLimit.parse("openai=0/0").in_flight is None
    for bad in ("openai", "=3", "openai=x", "openai=-1"):
        with pytest.raises(ArenaError):
            ProviderLimit.parse(bad)
