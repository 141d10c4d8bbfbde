"""The provider contract: one chat call in, text and usage out, with our own retry loop.

SDK retries are off (`max_retries=0`) so that this module alone decides what is retried, how
long to wait and when to give up. A call that still fails raises `ProviderError("<kind>: <short
reason>")`; a request the model's context cannot hold raises `ContextLengthError` (a subclass
that players treat as a bad answer, not as the provider failing).

Every key this process knows (`known_secrets()`) is redacted from answers and error messages
here, at the boundary, so nothing a model or server says can carry a key into events, the store,
exports or the terminal.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import email.utils
import logging
import os
import random
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from arena.core.actor import Usage
from arena.core.errors import ProviderError
from arena.providers.pricing import Prices

log = logging.getLogger("arena.providers")

Message = dict[str, str]
"""A chat turn: `{"role": "user" | "assistant", "content": text}`."""


@dataclass(frozen=True)
class ChatRequest:
    """One chat call. `max_tokens` / `temperature` override the provider's options when set."""

    system: str
    messages: list[Message]
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class ChatResponse:
    """The answer text (thinking/reasoning excluded), its usage (cost included) and timing."""

    text: str
    usage: Usage
    raw_model: str
    stop_reason: str | None = None
    cache_write_tokens: int = 0
    elapsed_s: float = 0.0
    truncated: bool = False
    """The answer stopped at the output limit (`max_tokens`), not where the model ended it."""


@dataclass(frozen=True)
class RetryPolicy:
    """How the provider retries: 429, 5xx, connection errors, timeouts and unreadable bodies."""

    retries: int = 4
    """Retries after the first try (so at most retries + 1 calls)."""
    timeout: float = 300.0
    """Seconds one call may take in total."""
    backoff: float = 1.0
    """First backoff in seconds; doubles per retry, with jitter."""
    backoff_max: float = 30.0
    retry_after_max: float = 60.0
    """Cap on a server's `retry-after` (a hostile or confused value must not stall a match)."""
    jitter: float = 0.25
    """Relative jitter of a backoff (not applied to an honoured `retry-after`)."""

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number `attempt + 1`."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_max))
        base = min(self.backoff * (2.0**attempt), self.backoff_max)
        return max(0.0, base * random.uniform(1 - self.jitter, 1 + self.jitter))


@dataclass(frozen=True)
class Failure:
    """A classified failed call."""

    retryable: bool
    reason: str
    retry_after: float | None = None
    context: bool = False
    """The request did not fit the model's context (never retried as it is)."""


class BadResponse(Exception):
    """The server answered 200 with something that is not the API's response shape."""


class ContextLengthError(ProviderError):
    """The model refused the request as longer than its context (prompt plus answer limit).

    Not a provider failure: the request was too big, so an LLM player counts it as a bad answer
    and asks again with less (or applies its illegal-move policy)."""


# -- the call gate ----------------------------------------------------------------------------


class CallGate(Protocol):
    """Limits shared by every provider call of the process (a tournament's per-provider limits:
    `arena.tournament.limits.ProviderLimiter`)."""

    def call(self, provider: Provider) -> contextlib.AbstractAsyncContextManager[None]:
        """Held for the duration of one HTTP call (each retry passes again)."""
        ...

    def throttled(self, provider: Provider, seconds: float) -> None:
        """The provider answered 429; its endpoint should rest for `seconds`."""
        ...


_call_gate: CallGate | None = None


def set_call_gate(gate: CallGate | None) -> CallGate | None:
    """Installs the gate every provider call passes (None: none); returns the previous one."""
    global _call_gate
    previous, _call_gate = _call_gate, gate
    return previous


# -- secrets ----------------------------------------------------------------------------------

REDACTED = "[redacted]"
KEY_ENVS: set[str] = {"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}
"""Environment variables holding keys; `remember_key_env` adds a profile's `api_key_env`."""
_MIN_SECRET = 6
"""Shorter values are not treated as keys (masking every `abc` would garble answers)."""
_SECRETISH = re.compile(r"\b(sk-[A-Za-z0-9_*\-]{2})[A-Za-z0-9_*\-]{4,}")


def remember_key_env(name: str) -> None:
    """Marks `name` as a variable holding a key, so its value is redacted everywhere."""
    KEY_ENVS.add(name)


def known_secrets() -> tuple[str, ...]:
    """The values of every key variable in use, longest first."""
    values = {os.environ.get(name, "").strip() for name in sorted(KEY_ENVS)}
    return tuple(sorted((v for v in values if len(v) >= _MIN_SECRET), key=len, reverse=True))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known key (and `secrets`) replaced by `[redacted]`, and anything else
    shaped like an API key (`sk-...`) masked after its first characters."""
    extra = tuple(s for s in secrets if s and len(s) >= _MIN_SECRET)
    for secret in sorted({*extra, *known_secrets()}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _SECRETISH.sub(rf"\1{REDACTED}", text)


# -- failures ---------------------------------------------------------------------------------

_CONTEXT_REFUSAL = re.compile(
    r"context[_ ]length|maximum context|context (?:size|window)|exceed_context_size"
    r"|prompt is too long|input is too long|too many (?:input )?tokens"
    r"|reduce the length of the (?:messages|input|prompt)",
    re.IGNORECASE,
)
"""How servers say a request is longer than the context: OpenAI and vLLM (`This model's maximum
context length is 4096 tokens`, `context_length_exceeded`), llama.cpp (`the request exceeds the
available context size`, `exceed_context_size_error`), Anthropic (`prompt is too long`)."""


def is_context_refusal(status: int, text: str) -> bool:
    """True when an HTTP error says the request does not fit the model's context."""
    return status in (400, 413, 422) and bool(_CONTEXT_REFUSAL.search(text))


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), else None."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def status_failure(
    status: int, message: str, headers: Mapping[str, str] | None, detail: str = ""
) -> Failure:
    """Classifies an HTTP error status; `detail` (the error's code and type) helps recognise a
    context-length refusal."""
    reason = f"HTTP {status}" + (f": {message}" if message else "")
    if is_context_refusal(status, f"{message} {detail}"):
        return Failure(False, reason, context=True)
    retryable = status in (408, 409, 429) or status >= 500
    return Failure(retryable, reason, parse_retry_after(headers) if retryable else None)


def short(text: str, limit: int = 160) -> str:
    """One line of at most `limit` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass
class Provider(abc.ABC):
    """A chat model behind an SDK client, with retries, timeouts and prices."""

    kind: ClassVar[str] = "provider"

    model: str
    base_url: str | None = None
    api_key_env: str = ""
    """The environment variable the key came from (named in errors; the key never is)."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    prices: Prices | None = None
    """Dollars per million tokens; None means unknown (costs are then None, never zero)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Options that shape requests (part of the fingerprint)."""
    official: bool = True
    """The provider's own endpoint (no base URL, or its official host), not a compatible
    server or proxy."""
    default_max_tokens: int = 1024
    """The answer limit sent when neither the request nor `max_tokens=` sets one; chosen per
    kind of model by `arena.providers.defaults` (larger where reasoning or thinking is on)."""
    _api_key: str = field(default="", repr=False)
    _client: Any = field(default=None, init=False, repr=False)
    """The SDK client, opened on first use; subclasses narrow its type."""

    @property
    def max_tokens(self) -> int:
        """The answer limit every request carries unless it sets its own."""
        value = self.options.get("max_tokens")
        return int(value) if value is not None else self.default_max_tokens

    # -- the contract -------------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """One answer; retries transient failures, then raises `ProviderError`.

        Cancellation propagates at once: the SDK closes the HTTP request when its task is
        cancelled, and nothing here catches `CancelledError`.
        """
        attempt = 0
        while True:
            gate = _call_gate
            # Waiting at the gate is not part of the call's timeout.
            slot = gate.call(self) if gate is not None else contextlib.nullcontext()
            try:
                async with slot:
                    started = time.monotonic()
                    async with asyncio.timeout(self.retry.timeout):
                        response = await self._call(request)
            except TimeoutError:
                failure = Failure(True, f"timed out after {self.retry.timeout:g}s")
            except BadResponse as exc:
                failure = Failure(True, f"unreadable response ({exc})")
            except ValueError as exc:  # the SDK's JSON decoding of a broken body
                failure = Failure(True, f"unreadable response ({type(exc).__name__})")
            except Exception as exc:
                classified = self._classify(exc)
                if classified is None:
                    raise
                failure = classified
            else:
                elapsed = time.monotonic() - started
                usage = response.usage
                cost = (
                    None
                    if self.prices is None
                    else self.prices.cost(usage, cache_write_tokens=response.cache_write_tokens)
                )
                return ChatResponse(
                    redact(response.text, (self._api_key,)),
                    Usage(
                        usage.input_tokens,
                        usage.output_tokens,
                        usage.cached_tokens,
                        usage.reasoning_tokens,
                        cost,
                    ),
                    redact(response.raw_model, (self._api_key,)),
                    response.stop_reason,
                    response.cache_write_tokens,
                    elapsed,
                    response.truncated,
                )
            reason = redact(short(failure.reason), (self._api_key,))
            if failure.context:
                raise ContextLengthError(f"{self.kind}: {reason}") from None
            if not failure.retryable or attempt >= self.retry.retries:
                tries = f" after {attempt + 1} tries" if attempt else ""
                raise ProviderError(f"{self.kind}: {reason}{tries}") from None
            delay = self.retry.delay(attempt, failure.retry_after)
            if gate is not None and failure.reason.startswith("HTTP 429"):
                gate.throttled(self, delay)
            log.warning(
                "%s %s: %s; retry %d/%d in %.2fs",
                self.kind,
                self.model,
                reason,
                attempt + 1,
                self.retry.retries,
                delay,
            )
            await asyncio.sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        """Closes the HTTP client; a later call opens a new one (players outlive matches)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def fingerprint(self) -> str:
        """Kind, model, endpoint and request-shaping options; never the key."""
        opts = ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        where = f"@{self.base_url}" if self.base_url else ""
        return f"{self.kind}:{self.model}{where}" + (f",{opts}" if opts else "")

    def price(self, usage: Usage) -> float | None:
        """Dollars for `usage` at this provider's prices (None when unknown)."""
        return None if self.prices is None else self.prices.cost(usage)

    # -- for subclasses -----------------------------------------------------------------------

    @abc.abstractmethod
    async def _call(self, request: ChatRequest) -> ChatResponse:
        """One SDK call without retries; usage cost is filled in by `complete`."""

    @abc.abstractmethod
    def _classify(self, exc: Exception) -> Failure | None:
        """The failure an SDK exception stands for, or None if it is not the SDK's."""
