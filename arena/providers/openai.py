"""OpenAI Chat Completions (default) or Responses API through the official async SDK; also any
OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio) by base URL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import openai
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

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


@dataclass
class OpenAIProvider(Provider):
    """`openai:MODEL[@URL]`. Options: api, max_tokens, temperature, reasoning_effort, seed."""

    kind: ClassVar[str] = "openai"

    # `official` (api.openai.com) sends `max_completion_tokens` instead of the older
    # `max_tokens` that compatible servers understand.
    _client: openai.AsyncOpenAI | None = field(default=None, init=False, repr=False)

    def client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.retry.timeout,
            )
        return self._client

    def _temperature(self, request: ChatRequest) -> float | None:
        if request.temperature is not None:
            return request.temperature
        value = self.options.get("temperature")
        return float(value) if value is not None else None

    def chat_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """Chat Completions arguments (a pure function of the request and the options)."""
        opts = self.options
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages += [{"role": m["role"], "content": m["content"]} for m in request.messages]
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        max_tokens = request.max_tokens or self.max_tokens
        kwargs["max_completion_tokens" if self.official else "max_tokens"] = max_tokens
        temperature = self._temperature(request)
        if temperature is not None:
            kwargs["temperature"] = temperature
        if opts.get("reasoning_effort"):
            kwargs["reasoning_effort"] = opts["reasoning_effort"]
        if opts.get("seed") is not None:
            kwargs["seed"] = opts["seed"]
        return kwargs

    def responses_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """Responses API arguments; `store=False` keeps games out of the provider's storage."""
        opts = self.options
        kwargs: dict[str, Any] = {
            "model": self.model,
            "instructions": request.system,
            "input": [{"role": m["role"], "content": m["content"]} for m in request.messages],
            "store": False,
        }
        kwargs["max_output_tokens"] = request.max_tokens or self.max_tokens
        temperature = self._temperature(request)
        if temperature is not None:
            kwargs["temperature"] = temperature
        if opts.get("reasoning_effort"):
            kwargs["reasoning"] = {"effort": opts["reasoning_effort"]}
        return kwargs

    async def _call(self, request: ChatRequest) -> ChatResponse:
        if self.options.get("api") == "responses":
            return await self._responses(request)
        return await self._chat(request)

    async def _chat(self, request: ChatRequest) -> ChatResponse:
        completion = await self.client().chat.completions.create(**self.chat_kwargs(request))
        if not isinstance(completion, ChatCompletion):
            raise BadResponse(f"expected a chat completion, got {type(completion).__name__}")
        # No choices (seen from some compatible servers) is an empty answer, not a failure.
        choice = completion.choices[0] if completion.choices else None
        text = (choice.message.content or "") if choice is not None else ""
        usage = Usage()
        if completion.usage is not None:
            u = completion.usage
            prompt = u.prompt_tokens_details
            out = u.completion_tokens_details
            usage = Usage(
                input_tokens=u.prompt_tokens,
                output_tokens=u.completion_tokens,
                cached_tokens=(prompt.cached_tokens or 0) if prompt is not None else 0,
                reasoning_tokens=(out.reasoning_tokens or 0) if out is not None else 0,
            )
        written = 0
        if completion.usage is not None and completion.usage.prompt_tokens_details is not None:
            written = completion.usage.prompt_tokens_details.cache_write_tokens or 0
        return ChatResponse(
            text,
            usage,
            completion.model or self.model,
            choice.finish_reason if choice is not None else None,
            cache_write_tokens=written,
            truncated=choice is not None and choice.finish_reason == "length",
        )

    async def _responses(self, request: ChatRequest) -> ChatResponse:
        response = await self.client().responses.create(**self.responses_kwargs(request))
        if not isinstance(response, Response):
            raise BadResponse(f"expected a response, got {type(response).__name__}")
        usage = Usage()
        written = 0
        if response.usage is not None:
            u = response.usage
            usage = Usage(
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cached_tokens=u.input_tokens_details.cached_tokens or 0,
                reasoning_tokens=u.output_tokens_details.reasoning_tokens or 0,
            )
            written = u.input_tokens_details.cache_write_tokens or 0
        return ChatResponse(
            response.output_text,
            usage,
            response.model or self.model,
            response.status,
            cache_write_tokens=written,
            truncated=response.status == "incomplete"
            and response.incomplete_details is not None
            and response.incomplete_details.reason == "max_output_tokens",
        )

    def _classify(self, exc: Exception) -> Failure | None:
        if isinstance(exc, openai.APITimeoutError):
            return Failure(True, f"timed out after {self.retry.timeout:g}s")
        if isinstance(exc, openai.APIConnectionError):
            return Failure(True, f"connection failed ({short(exc.message, 80)})")
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code in (401, 403):
                return Failure(False, f"HTTP {exc.status_code}: check {self.api_key_env}")
            body = exc.body
            message = detail = ""
            if isinstance(body, dict):
                inner = body.get("error", body)
                if isinstance(inner, dict):
                    message = str(inner.get("message") or "")
                    detail = f"{inner.get('code') or ''} {inner.get('type') or ''}"
                elif isinstance(inner, str):
                    message = inner
            elif isinstance(body, str):
                message = body
            return status_failure(exc.status_code, short(message), exc.response.headers, detail)
        if isinstance(exc, openai.APIResponseValidationError):
            return Failure(True, "unreadable response")
        if isinstance(exc, openai.OpenAIError):
            return Failure(False, short(str(exc)))
        return None
