"""Anthropic Messages API through the official async SDK.

At the official API the system prompt is sent as one text block marked `cache_control:
ephemeral`: it never changes within a match, so the provider can serve it from its prompt cache.
Elsewhere (a proxy or a compatible server, which may answer 500 to blocks) it is a plain string,
unless `cache=1` asks for the block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import anthropic

from arena.core.actor import Usage
from arena.providers.base import (
    BadResponse,
    ChatRequest,
    ChatResponse,
    Failure,
    Provider,
    short,
    status_failure,
)

MIN_THINKING_BUDGET = 1024


@dataclass
class AnthropicProvider(Provider):
    """`anthropic:MODEL`. Options: max_tokens, temperature, thinking, effort, cache."""

    kind: ClassVar[str] = "anthropic"

    _client: anthropic.AsyncAnthropic | None = field(default=None, init=False, repr=False)

    def client(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.retry.timeout,
            )
        return self._client

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The SDK arguments for `request` (a pure function of it and the options)."""
        opts = self.options
        thinking = opts.get("thinking")
        max_tokens = request.max_tokens or self.max_tokens
        if isinstance(thinking, int) and max_tokens <= thinking:
            # A smaller limit asked for by the request (after a context refusal) shrinks the
            # budget with it; below the API's minimum budget the call goes without thinking.
            thinking = max_tokens // 2 if max_tokens // 2 >= MIN_THINKING_BUDGET else None
        system: str | list[dict[str, Any]] = request.system
        if opts.get("cache", self.official):
            block = {"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}
            system = [block]
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": [{"role": m["role"], "content": m["content"]} for m in request.messages],
        }
        if isinstance(thinking, int):
            kwargs["thinking"] = {"type": "enabled", "budget_tokens": thinking}
        elif thinking == "adaptive":
            kwargs["thinking"] = {"type": "adaptive"}
        if opts.get("effort"):
            kwargs["output_config"] = {"effort": opts["effort"]}
        temperature = (
            request.temperature if request.temperature is not None else opts.get("temperature")
        )
        if temperature is not None and thinking is None:
            # This SDK version no longer lists `temperature`; older models still accept it.
            kwargs["extra_body"] = {"temperature": temperature}
        return kwargs

    async def _call(self, request: ChatRequest) -> ChatResponse:
        message = await self.client().messages.create(**self.request_kwargs(request))
        if not isinstance(message, anthropic.types.Message):
            raise BadResponse(f"expected a message, got {type(message).__name__}")
        text = "".join(
            block.text for block in message.content if isinstance(block, anthropic.types.TextBlock)
        )
        u = message.usage
        cached = u.cache_read_input_tokens or 0
        written = u.cache_creation_input_tokens or 0
        details = u.output_tokens_details
        usage = Usage(
            input_tokens=u.input_tokens + cached + written,
            output_tokens=u.output_tokens,
            cached_tokens=cached,
            reasoning_tokens=details.thinking_tokens if details is not None else 0,
        )
        return ChatResponse(
            text,
            usage,
            message.model,
            message.stop_reason,
            cache_write_tokens=written,
            truncated=message.stop_reason == "max_tokens",
        )

    def _classify(self, exc: Exception) -> Failure | None:
        if isinstance(exc, anthropic.APITimeoutError):
            return Failure(True, f"timed out after {self.retry.timeout:g}s")
        if isinstance(exc, anthropic.APIConnectionError):
            return Failure(True, f"connection failed ({short(exc.message, 80)})")
        if isinstance(exc, anthropic.APIStatusError):
            if exc.status_code in (401, 403):
                return Failure(False, f"HTTP {exc.status_code}: check {self.api_key_env}")
            message = exc.api_message if isinstance(exc.api_message, str) else ""
            kind = exc.body.get("error") if isinstance(exc.body, dict) else None
            detail = str(kind.get("type") or "") if isinstance(kind, dict) else ""
            return status_failure(exc.status_code, short(message), exc.response.headers, detail)
        if isinstance(exc, anthropic.APIResponseValidationError):
            return Failure(True, "unreadable response")
        if isinstance(exc, anthropic.AnthropicError):
            return Failure(False, short(str(exc)))
        return None
