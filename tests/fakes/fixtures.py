"""Pytest fixtures for tests that talk to `FakeLLMServer`; import them into a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.servers import FakeLLMServer

# Fake keys, assembled so that secret scanners do not mistake them for real ones.
ANTHROPIC_KEY = "-".join(("sk", "ant", "test", "SECRET", "0123456789"))
OPENAI_KEY = "sk-test-SECRET-9876543210"

FAST = {"retries": "2", "backoff": "0.01", "timeout": "5"}
"""Provider options that keep retry tests fast."""

_AMBIENT = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "ANTHROPIC_PROFILE",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_CUSTOM_HEADERS",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_ADMIN_KEY",
)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Known fake keys in the environment, and no ambient provider settings."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    yield


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No key and no ambient provider settings at all."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    """A started fake server with an empty script (use `server.push(...)`)."""
    with FakeLLMServer() as fake:
        yield fake
