"""Option names accepted in LLM specs (`anthropic:MODEL,temperature=0,tries=2`) and profiles,
and their parsing. Values arrive as strings from specs or as TOML values from profiles; a bad
value is a one-line `ArenaError`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from arena.core.errors import ArenaError

PROVIDER_OPTIONS: dict[str, str] = {
    "max_tokens": "answer limit per call, always sent (default 1024; 8192 or more with reasoning "
    "or thinking)",
    "temperature": "sampling temperature",
    "thinking": "anthropic: extended-thinking budget in tokens (>= 1024), or `adaptive`",
    "effort": "anthropic: output effort low|medium|high|xhigh|max",
    "cache": "anthropic: 1 sends the system prompt as a block marked for prompt caching (default "
    "at the official API), 0 as a plain string (default for proxies and compatible servers)",
    "reasoning_effort": "openai: none|minimal|low|medium|high|xhigh|max",
    "seed": "openai (chat API): sampling seed",
    "api": "openai: chat (default, Chat Completions) or responses (Responses API)",
    "timeout": "seconds one call may take (default 300; 600 with reasoning or thinking)",
    "retries": "retries after a failed call: 429, 5xx, timeouts, connection errors (default 4)",
    "backoff": "first retry delay in seconds, doubling with jitter (default 1)",
    "retry_after_max": "cap in seconds on a server's retry-after (default 60)",
    "price_in": "dollars per million input tokens (overrides arena/data/pricing.toml)",
    "price_out": "dollars per million output tokens",
    "price_cached": "dollars per million cached input tokens",
}
"""Options the provider layer reads."""

PLAYER_OPTIONS: dict[str, str] = {
    "tries": "answers asked per move before `on_illegal` applies (default 3)",
    "on_illegal": "forfeit (default) or random: what happens after the last illegal answer",
    "legal": "1 lists the legal moves (SAN) in the prompt; 0 (default) does not",
    "concurrency": "decisions in flight at once, speculative ones included (default 8)",
    "move_timeout": "seconds for a whole move over all tries; then on_illegal applies (default: "
    "no limit beyond each call's timeout)",
}
"""Options the LLM player reads (the provider ignores them)."""

ALL_OPTIONS = {**PROVIDER_OPTIONS, **PLAYER_OPTIONS}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def check_names(options: Mapping[str, object], allowed: Iterable[str], where: str) -> None:
    """Rejects unknown option names with the list of accepted ones."""
    known = set(allowed)
    unknown = sorted(set(options) - known)
    if unknown:
        raise ArenaError(
            f"{where}: unknown option {', '.join(unknown)} (accepted: {', '.join(sorted(known))})"
        )


def text(options: Mapping[str, object], name: str) -> str | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def integer(
    options: Mapping[str, object], name: str, default: int | None, *, minimum: int = 0
) -> int | None:
    raw = text(options, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ArenaError(f"option {name}={raw!r} must be a whole number") from None
    if value < minimum:
        raise ArenaError(f"option {name}={value} must be at least {minimum}")
    return value


def number(
    options: Mapping[str, object], name: str, default: float | None, *, minimum: float = 0.0
) -> float | None:
    raw = text(options, name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ArenaError(f"option {name}={raw!r} must be a number") from None
    if value != value or value < minimum:  # NaN or too small
        raise ArenaError(f"option {name}={raw} must be a number >= {minimum:g}")
    return value


def flag(options: Mapping[str, object], name: str, default: bool) -> bool:
    raw = text(options, name)
    if raw is None or raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ArenaError(f"option {name}={raw!r} must be 1 or 0")


def choice(
    options: Mapping[str, object], name: str, default: str | None, allowed: Iterable[str]
) -> str | None:
    raw = text(options, name)
    if raw is None or raw == "":
        return default
    values = list(allowed)
    if raw.lower() not in values:
        raise ArenaError(f"option {name}={raw!r} must be one of {'|'.join(values)}")
    return raw.lower()
