"""Defaults that depend on the kind of model: the answer limit and the per-call deadline.

Every request carries an answer limit (`max_tokens`). Without one a compatible server lets a
rambling model write until the context is full, and the retry that quotes it back no longer
fits. Reasoning and thinking models spend most of their output thinking, so they get more.

    plain chat models                           1024 tokens, 300 s a call
    reasoning (OpenAI o*, gpt-5*, gpt-oss, deepseek-r1, qwq, *thinking*, *reasoner*; or any
    model with reasoning_effort=minimal|low|medium; Anthropic thinking=adaptive)
                                                8192 tokens, 600 s a call
    reasoning_effort / effort = high            16384 tokens, 600 s a call
    reasoning_effort / effort = xhigh | max     32768 tokens, 600 s a call
    Anthropic thinking=N                        N + 1024 tokens, 600 s a call
    reasoning_effort=none                       as a plain chat model
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

PLAIN_MAX_TOKENS: Final = 1024
REASONING_MAX_TOKENS: Final = 8192
HIGH_EFFORT_MAX_TOKENS: Final = 16384
MAX_EFFORT_MAX_TOKENS: Final = 32768
ANSWER_AFTER_THINKING: Final = 1024
"""Room for the visible answer on top of an Anthropic thinking budget."""

PLAIN_TIMEOUT_S: Final = 300.0
REASONING_TIMEOUT_S: Final = 600.0

_REASONING_MODEL = re.compile(
    r"^(?:.*/)?(?:o\d|gpt-5|gpt-oss|deepseek-r1|qwq)|thinking|reasoner", re.IGNORECASE
)
"""Model names that reason before answering unless told not to."""


def is_reasoning(kind: str, model: str, options: Mapping[str, Any]) -> bool:
    """True when the model thinks before it answers, given the request options."""
    if kind == "anthropic":
        return options.get("thinking") is not None
    effort = options.get("reasoning_effort")
    if effort == "none":
        return False
    return effort is not None or bool(_REASONING_MODEL.search(model))


def default_max_tokens(kind: str, model: str, options: Mapping[str, Any]) -> int:
    """The answer limit for a model with these (typed) request options."""
    if not is_reasoning(kind, model, options):
        return PLAIN_MAX_TOKENS
    thinking = options.get("thinking")
    if isinstance(thinking, int):
        return thinking + ANSWER_AFTER_THINKING
    effort = options.get("effort" if kind == "anthropic" else "reasoning_effort")
    if effort == "high":
        return HIGH_EFFORT_MAX_TOKENS
    if effort in ("xhigh", "max"):
        return MAX_EFFORT_MAX_TOKENS
    return REASONING_MAX_TOKENS


def default_timeout(kind: str, model: str, options: Mapping[str, Any]) -> float:
    """Seconds one call may take."""
    return REASONING_TIMEOUT_S if is_reasoning(kind, model, options) else PLAIN_TIMEOUT_S
