"""Model clients over the official async SDKs: Anthropic, OpenAI and OpenAI-compatible servers.

`make_provider(kind, model, base_url, api_key_env, options)` is the one entry point.

Kinds
    anthropic       Messages API (`ANTHROPIC_API_KEY`)
    openai          Chat Completions, or the Responses API with `api=responses`
                    (`OPENAI_API_KEY`); a base URL (`openai:MODEL@http://host:port/v1`, or
                    `OPENAI_BASE_URL`) reaches any compatible server, where a key is optional
    ollama          `openai` at http://127.0.0.1:11434/v1 unless a base URL is given

Keys come from the environment only: the kind's variable, or the profile's `api_key_env`. A key
is never logged, stored, printed or put in an error message: every known key value is redacted
from answers and errors (`redact`), and sending one over plain http to a host that is not this
machine is warned about on stderr.

Options (values are strings from specs, or TOML values from profiles)
    max_tokens=N        answer limit per call, always sent (default by kind of model, see
                        `arena.providers.defaults`: 1024 plain, 8192+ reasoning/thinking)
    temperature=T       sampling temperature (anthropic: not with thinking)
    thinking=N|adaptive anthropic extended thinking: budget tokens (>= 1024) or adaptive
    effort=LEVEL        anthropic output effort: low|medium|high|xhigh|max
    cache=1|0           anthropic: the system prompt as a block marked for prompt caching
                        (default 1 at the official API, 0 elsewhere: proxies may reject blocks)
    reasoning_effort=L  openai: none|minimal|low|medium|high|xhigh|max
    seed=N              openai chat API sampling seed
    api=chat|responses  openai API (default chat)
    timeout=S           seconds per call, sent to the SDK (default 300; 600 reasoning)
    retries=N           retries of 429 / 5xx / timeouts / connection errors (default 4)
    backoff=S           first retry delay, doubling with jitter (default 1)
    retry_after_max=S   cap on a server's retry-after (default 60)
    price_in=D, price_out=D, price_cached=D
                        dollars per million tokens, overriding arena/data/pricing.toml (a local
                        server is free only when told so: price_in=0,price_out=0)
Player options (read by `arena.players.llm.LLMPlayer`, ignored here)
    tries=N, on_illegal=forfeit|random, legal=1, concurrency=N, move_timeout=S
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from arena.core.errors import ArenaError
from arena.providers import options as opt
from arena.providers.anthropic import AnthropicProvider
from arena.providers.base import (
    REDACTED,
    ChatRequest,
    ChatResponse,
    ContextLengthError,
    Message,
    Provider,
    RetryPolicy,
    known_secrets,
    redact,
    remember_key_env,
)
from arena.providers.defaults import default_max_tokens, default_timeout
from arena.providers.openai import OpenAIProvider
from arena.providers.pricing import Prices, price, prices_for

__all__ = [
    "KINDS",
    "REDACTED",
    "AnthropicProvider",
    "ChatRequest",
    "ChatResponse",
    "ContextLengthError",
    "Message",
    "OpenAIProvider",
    "Prices",
    "Provider",
    "RetryPolicy",
    "known_secrets",
    "make_provider",
    "price",
    "prices_for",
    "provider_from_spec",
    "redact",
    "split_model_url",
]

log = logging.getLogger("arena.providers")

KINDS = ("anthropic", "openai", "ollama")
OLLAMA_URL = "http://127.0.0.1:11434/v1"
PLACEHOLDER_KEY = "not-needed"
"""Sent to compatible servers that need no key (the SDKs insist on having one)."""

_DEFAULT_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
_OFFICIAL_HOSTS = {"anthropic": "api.anthropic.com", "openai": "api.openai.com"}

_COMMON = (
    "max_tokens",
    "temperature",
    "timeout",
    "retries",
    "backoff",
    "retry_after_max",
    "price_in",
    "price_out",
    "price_cached",
)
_ALLOWED = {
    "anthropic": (*_COMMON, "thinking", "effort", "cache"),
    "openai": (*_COMMON, "reasoning_effort", "seed", "api"),
}


def _is_official(kind: str, base_url: str | None) -> bool:
    if not base_url:
        return True
    host = (urlparse(base_url).hostname or "").lower()
    return host == _OFFICIAL_HOSTS[kind] or host.endswith("." + _OFFICIAL_HOSTS[kind])


def _is_loopback(base_url: str) -> bool:
    host = (urlparse(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _retry_policy(options: Mapping[str, object], timeout: float) -> RetryPolicy:
    d = RetryPolicy()
    return RetryPolicy(
        retries=opt.integer(options, "retries", d.retries) or 0,
        timeout=opt.number(options, "timeout", timeout, minimum=0.001) or timeout,
        backoff=opt.number(options, "backoff", d.backoff) or 0.0,
        retry_after_max=opt.number(options, "retry_after_max", d.retry_after_max) or 0.0,
    )


def _prices(
    model: str, options: Mapping[str, object], prices: Mapping[str, object] | Prices | None
) -> Prices | None:
    base = prices if isinstance(prices, Prices) else None
    if isinstance(prices, Mapping):
        base = Prices.from_mapping(prices, f"prices of {model}")
    if base is None:
        base = prices_for(model)
    p_in = opt.number(options, "price_in", None)
    p_out = opt.number(options, "price_out", None)
    p_cached = opt.number(options, "price_cached", None)
    if p_in is None and p_out is None and p_cached is None:
        return base
    if base is None:
        if p_in is None or p_out is None:
            raise ArenaError(f"{model} has no known price: give both price_in= and price_out=")
        return Prices(p_in, p_out, p_cached)
    return Prices(
        base.input if p_in is None else p_in,
        base.output if p_out is None else p_out,
        base.cached if p_cached is None else p_cached,
        base.cache_write,
    )


def _request_options(kind: str, options: Mapping[str, object]) -> dict[str, Any]:
    """The options that shape requests, typed (they form part of the fingerprint)."""
    out: dict[str, Any] = {}
    max_tokens = opt.integer(options, "max_tokens", None, minimum=1)
    if max_tokens is not None:
        out["max_tokens"] = max_tokens
    temperature = opt.number(options, "temperature", None)
    if temperature is not None:
        out["temperature"] = temperature
    if kind == "anthropic":
        thinking = opt.text(options, "thinking")
        if thinking:
            if thinking.lower() == "adaptive":
                out["thinking"] = "adaptive"
            else:
                budget = opt.integer(options, "thinking", None, minimum=1024)
                out["thinking"] = budget
                if max_tokens is not None and budget is not None and max_tokens <= budget:
                    raise ArenaError(
                        f"max_tokens={max_tokens} must exceed the thinking budget {budget}"
                    )
            if temperature is not None:
                raise ArenaError("anthropic: temperature= cannot be combined with thinking=")
        effort = opt.choice(options, "effort", None, ("low", "medium", "high", "xhigh", "max"))
        if effort:
            out["effort"] = effort
        if opt.text(options, "cache"):
            out["cache"] = opt.flag(options, "cache", True)
    else:
        effort = opt.choice(
            options,
            "reasoning_effort",
            None,
            ("none", "minimal", "low", "medium", "high", "xhigh", "max"),
        )
        if effort:
            out["reasoning_effort"] = effort
        seed = opt.integer(options, "seed", None, minimum=-(2**63))
        if seed is not None:
            out["seed"] = seed
        api = opt.choice(options, "api", "chat", ("chat", "responses"))
        if api == "responses":
            out["api"] = "responses"
            if seed is not None:
                raise ArenaError("openai: seed= works with the chat API only (not api=responses)")
    return out


def make_provider(
    kind: str,
    model: str,
    base_url: str | None = None,
    api_key_env: str | None = None,
    options: Mapping[str, object] | None = None,
    *,
    prices: Mapping[str, object] | Prices | None = None,
) -> Provider:
    """A provider for `kind:model[@base_url]`.

    `options` may also hold the player's options (see `options.PLAYER_OPTIONS`); any other
    unknown name is an `ArenaError`, as is a missing key for the official endpoints.
    `prices` (a profile's `[prices]` table) overrides `arena/data/pricing.toml`.
    """
    kind = kind.strip().lower()
    options = dict(options or {})
    if kind == "ollama":
        kind, base_url = "openai", base_url or OLLAMA_URL
    if kind not in _ALLOWED:
        raise ArenaError(f"unknown model kind {kind!r} (known: {', '.join(KINDS)})")
    if not model.strip():
        raise ArenaError(f"{kind}: a model name is needed, e.g. {kind}:MODEL")
    opt.check_names(options, (*_ALLOWED[kind], *opt.PLAYER_OPTIONS), f"{kind}:{model}")
    if kind == "openai" and not base_url:
        base_url = os.environ.get("OPENAI_BASE_URL") or None
    if base_url and not (
        urlparse(base_url).scheme in ("http", "https") and urlparse(base_url).netloc
    ):
        raise ArenaError(f"bad base URL {base_url!r}: expected http://host:port/v1")
    official = _is_official(kind, base_url)
    env = api_key_env or _DEFAULT_ENV[kind]
    remember_key_env(env)
    key = os.environ.get(env, "").strip()
    if not key:
        if official:
            raise ArenaError(f"{env} is not set: export it to play {kind}:{model}")
        key = PLACEHOLDER_KEY
    elif base_url and urlparse(base_url).scheme == "http" and not _is_loopback(base_url):
        log.warning(
            "%s is sent in clear text to %s (plain http to another machine): use https",
            env,
            urlparse(base_url).hostname,
        )
    request_options = _request_options(kind, options)
    common: dict[str, Any] = {
        "model": model,
        "base_url": base_url,
        "api_key_env": env,
        "retry": _retry_policy(options, default_timeout(kind, model, request_options)),
        "prices": _prices(model, options, prices),
        "options": request_options,
        "official": official,
        "default_max_tokens": default_max_tokens(kind, model, request_options),
        "_api_key": key,
    }
    if kind == "anthropic":
        return AnthropicProvider(**common)
    return OpenAIProvider(**common)


def split_model_url(arg: str) -> tuple[str, str | None]:
    """`MODEL@http://host:port/v1` -> (MODEL, URL); an `@` not followed by a URL stays in the
    model name (`claude-opus-4@20250514`)."""
    model, sep, url = arg.partition("@")
    while sep and not url.startswith(("http://", "https://")):
        more, sep, url = url.partition("@")
        model = f"{model}@{more}"
    return model.strip(), (url.strip() or None) if sep else None


def provider_from_spec(
    kind: str,
    arg: str,
    options: Mapping[str, object],
    profile: Mapping[str, Any] | None = None,
) -> Provider:
    """A provider from a parsed spec (`kind:arg,options`) and, for a profile, its table:
    `model`/`base_url` (already folded into `arg` by the spec parser, else read here),
    `api_key_env`, and `[prices]` (`input`, `output`, `cached`, `cache_write`)."""
    profile = profile or {}
    model, base_url = split_model_url(arg or str(profile.get("model", "")))
    base_url = base_url or (str(profile["base_url"]) if profile.get("base_url") else None)
    env = profile.get("api_key_env")
    prices = profile.get("prices")
    if prices is not None and not isinstance(prices, Mapping):
        raise ArenaError(f"{kind}:{model}: [prices] must be a table of dollars per million tokens")
    return make_provider(kind, model, base_url, str(env) if env else None, options, prices=prices)
